// The one interface every source of labelled face images implements (synthetic, image folder,
// insightface .rec, IDX, our binary cache), and the plain-data spec a worker thread uses to open the
// same dataset on its side.
import type { RgbImage } from './image.ts';
import type { SyntheticOptions } from './synthetic.ts';

export interface ImageDataset {
  /** Short description for errors and the run summary, e.g. 'synthetic(seed 0, train)' or a path. */
  readonly name: string;
  /** Number of images. */
  readonly length: number;
  /** Labels are 0 .. numClasses-1. */
  readonly numClasses: number;
  label(index: number): number;
  /** The decoded image (any size; the loader resizes). Throws CorruptImageError when undecodable. */
  image(index: number): RgbImage;
  /** How to open this same dataset again (in a worker thread): plain, structured-cloneable data. */
  readonly spec: DatasetSpec;
  /** Releases open files, if any. */
  close?(): void;
}

export type DatasetSpec =
  | { kind: 'synthetic'; options: Partial<SyntheticOptions> }
  | { kind: 'folder'; root: string }
  | { kind: 'insightface-rec'; dir: string }
  | { kind: 'idx'; images: string; labels: string; classes?: number[] }
  | { kind: 'cache'; path: string }
  | { kind: 'verification-bin'; path: string };

/** Throws a RangeError naming the dataset when `index` is not an image index. */
export function checkIndex(dataset: { name: string; length: number }, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= dataset.length) {
    throw new RangeError(`${dataset.name}: image index ${index} out of range 0..${dataset.length - 1}`);
  }
}
