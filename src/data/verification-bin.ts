// insightface's verification sets (lfw.bin, cfp_fp.bin, agedb_30.bin, ...): a pickle of
// (list of 2P encoded images, list of P is-same flags). Pair k is images 2k and 2k+1.
import { readFileSync } from 'node:fs';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { checkIndex } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { decodeImage, type RgbImage } from './image.ts';
import { unpickle } from './pickle.ts';

export interface VerificationSet {
  file: string;
  /** Encoded (JPEG/PNG) images, two per pair. */
  images: Uint8Array[];
  /** isSame[k]: images 2k and 2k+1 show the same person. */
  isSame: boolean[];
}

export function readVerificationBin(path: string): VerificationSet {
  const bytes = readFileSync(path);
  const value = unpickle(bytes, path);
  const end = bytes.length;
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || !Array.isArray(value[1])) {
    throw new DataFormatError(path, end, 'expected a pickled (list of images, list of is-same flags)');
  }
  const [images, flags] = value as [unknown[], unknown[]];
  const badImage = images.findIndex((b) => !(b instanceof Uint8Array));
  if (badImage >= 0) throw new DataFormatError(path, end, `image ${badImage} is ${describe(images[badImage])}, not bytes`);
  // Flags may be bools or 0/1 ints (some converters write ints).
  const badFlag = flags.findIndex((f) => typeof f !== 'boolean' && f !== 0 && f !== 1);
  if (badFlag >= 0) throw new DataFormatError(path, end, `is-same flag ${badFlag} is ${describe(flags[badFlag])}, not a bool`);
  if (images.length !== 2 * flags.length) throw new DataFormatError(path, end, `${images.length} images for ${flags.length} pairs (need exactly 2 per pair)`);
  return { file: path, images: images as Uint8Array[], isSame: flags.map((f) => f === true || f === 1) };
}

const describe = (v: unknown): string => (v === null ? 'None' : Array.isArray(v) ? 'a list' : typeof v);

/** The images of a .bin as a dataset (label = pair number), so the batch loader can decode them in workers. */
export class VerificationBinDataset implements ImageDataset {
  readonly set: VerificationSet;
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly spec: DatasetSpec;

  constructor(path: string) {
    this.set = readVerificationBin(path);
    this.name = path;
    this.length = this.set.images.length;
    this.numClasses = this.set.isSame.length;
    this.spec = { kind: 'verification-bin', path };
  }

  label(index: number): number {
    checkIndex(this, index);
    return index >> 1;
  }

  image(index: number): RgbImage {
    checkIndex(this, index);
    return decodeImage(this.set.images[index]!, `${this.name} image ${index}`);
  }
}
