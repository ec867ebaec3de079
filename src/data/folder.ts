// An image folder: one sub-folder per identity, its images directly inside (JPEG or PNG, by signature;
// files are picked by extension .jpg/.jpeg/.png, any case). Identities are the sub-folder names in
// sorted order (label k = k-th name), images sorted by name within each: the same folder always gives
// the same indices, which worker threads rely on when they list it again.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { checkIndex } from './dataset.ts';
import { decodeImage, type RgbImage } from './image.ts';

const IMAGE_FILE = /\.(jpe?g|png)$/i;
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0); // code-point order, locale-free

export class ImageFolderDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly spec: DatasetSpec;
  /** Sub-folder name of each label. */
  readonly classNames: string[];
  private readonly files: string[] = [];
  private readonly labels: number[] = [];

  constructor(readonly root: string) {
    this.name = root;
    this.spec = { kind: 'folder', root };
    const entries = readdirSync(root, { withFileTypes: true });
    this.classNames = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort(byName);
    if (this.classNames.length === 0) throw new Error(`${root}: no sub-folders (expected one per identity)`);
    this.classNames.forEach((className, label) => {
      const names = readdirSync(join(root, className), { withFileTypes: true }).filter((e) => e.isFile() && IMAGE_FILE.test(e.name)).map((e) => e.name).sort(byName);
      for (const name of names) {
        this.files.push(join(root, className, name));
        this.labels.push(label);
      }
    });
    this.length = this.files.length;
    this.numClasses = this.classNames.length;
  }

  /** File path of image `index`. */
  path(index: number): string {
    checkIndex(this, index);
    return this.files[index]!;
  }

  label(index: number): number {
    checkIndex(this, index);
    return this.labels[index]!;
  }

  image(index: number): RgbImage {
    const path = this.path(index);
    return decodeImage(readFileSync(path), path);
  }
}
