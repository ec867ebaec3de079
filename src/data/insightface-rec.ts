// insightface's training sets (faces_emore, faces_webface_112x112, glint360k, ...): train.rec + train.idx
// in a folder, read as insightface's MXFaceDataset reads them. Record 0 is a header whose IRHeader has
// flag > 0 and labels (a, b): image records are keys 1..a-1 and identity records keys a..b-1 (each
// identity record's labels give that identity's image key range). Without such a header every key of
// the .idx is an image. An image record's label is its IRHeader label (the first, if several).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { checkIndex } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { decodeImage, type RgbImage } from './image.ts';
import { concat, encodeRecord, encodeRecordIndex, packIRHeader, readRecordIndex, RecordIOFile, unpackIRHeader } from './recordio.ts';

export class InsightfaceRecDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly spec: DatasetSpec;
  readonly recPath: string;
  readonly idxPath: string;
  private readonly rec: RecordIOFile;
  /** Byte offset in train.rec of each image, by dataset index. */
  private readonly offsets: Float64Array;
  private readonly labelCache: Int32Array;

  constructor(dir: string) {
    this.recPath = join(dir, 'train.rec');
    this.idxPath = join(dir, 'train.idx');
    this.name = this.recPath;
    this.spec = { kind: 'insightface-rec', dir };
    this.rec = new RecordIOFile(this.recPath);
    const index = readRecordIndex(this.idxPath, this.rec.size);
    const first = index.get(0);
    const header0 = first === undefined ? undefined : unpackIRHeader(this.rec.readAt(first).payload, this.recPath, first).header;
    let keys: number[];
    if (header0 && header0.flag > 0) {
      const [imageEnd, identityEnd] = [Math.round(header0.labels[0]!), Math.round(header0.labels[1] ?? header0.labels[0]!)];
      keys = Array.from({ length: Math.max(0, imageEnd - 1) }, (_, i) => i + 1);
      this.numClasses = identityEnd - imageEnd;
      const missing = keys.find((k) => !index.has(k));
      if (missing !== undefined) throw new DataFormatError(this.idxPath, 0, `header record says images are keys 1..${imageEnd - 1}, but key ${missing} is not in the index`);
    } else {
      keys = [...index.keys()].sort((a, b) => a - b);
      this.numClasses = -1; // found below from the labels
    }
    this.offsets = Float64Array.from(keys, (k) => index.get(k)!);
    this.length = keys.length;
    this.labelCache = new Int32Array(this.length).fill(-1);
    if (this.numClasses <= 0) { // no header, or one without an identity range: count the labels
      let most = -1;
      for (let i = 0; i < this.length; i++) most = Math.max(most, this.label(i));
      this.numClasses = most + 1;
    }
  }

  label(index: number): number {
    checkIndex(this, index);
    if (this.labelCache[index]! < 0) this.labelCache[index] = this.read(index).label;
    return this.labelCache[index]!;
  }

  image(index: number): RgbImage {
    checkIndex(this, index);
    const { body, label } = this.read(index);
    this.labelCache[index] = label;
    return decodeImage(body, `${this.recPath} image ${index} at byte ${this.offsets[index]}`);
  }

  close(): void {
    this.rec.close();
  }

  private read(index: number): { body: Uint8Array; label: number } {
    const offset = this.offsets[index]!;
    const { header, body } = unpackIRHeader(this.rec.readAt(offset).payload, this.recPath, offset);
    const label = Math.round(header.labels[0]!);
    if (!(label >= 0)) throw new DataFormatError(this.recPath, offset, `image record label ${header.labels[0]} is not a non-negative integer`);
    return { body, label };
  }
}

/**
 * Writes train.rec + train.idx in insightface's layout (header record 0, images 1..N, then one record
 * per identity with its image key range). Images of one identity must be consecutive, labels 0..K-1.
 */
export function writeInsightfaceRec(dir: string, images: readonly { label: number; encoded: Uint8Array }[]): void {
  const chunks: Uint8Array[] = [];
  const entries: [number, number][] = [];
  let offset = 0;
  const add = (key: number, payload: Uint8Array): void => {
    const record = encodeRecord(payload);
    entries.push([key, offset]);
    chunks.push(record);
    offset += record.length;
  };
  const identityRanges: [number, number][] = [];
  images.forEach(({ label }, i) => {
    if (label === identityRanges.length) identityRanges.push([i + 1, i + 2]);
    else if (label === identityRanges.length - 1) identityRanges[label]![1] = i + 2;
    else throw new RangeError(`writeInsightfaceRec: image ${i} has label ${label}; labels must run 0, 0, ..., 1, 1, ... without gaps`);
  });
  const imageEnd = images.length + 1;
  add(0, packIRHeader([imageEnd, imageEnd + identityRanges.length], new Uint8Array(0)));
  images.forEach(({ label, encoded }, i) => add(i + 1, packIRHeader(label, encoded)));
  identityRanges.forEach((range, k) => add(imageEnd + k, packIRHeader(range, new Uint8Array(0))));
  writeFileSync(join(dir, 'train.rec'), concat(chunks));
  writeFileSync(join(dir, 'train.idx'), encodeRecordIndex(entries));
}
