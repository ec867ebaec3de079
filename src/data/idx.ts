// The IDX format of MNIST and Fashion-MNIST (plain or gzip): bytes 0-1 zero, byte 2 the element type,
// byte 3 the number of dimensions, then one big-endian uint32 per dimension, then the elements in C
// order, big-endian. Debian's dataset-fashion-mnist puts the files in /usr/share/datasets/fashion-mnist/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { checkIndex } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { greyToRgb, rgbImage, type RgbImage } from './image.ts';

const ELEMENT_TYPES = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
} as const;

export type IdxType = (typeof ELEMENT_TYPES)[keyof typeof ELEMENT_TYPES]['name'];

export interface IdxArray {
  type: IdxType;
  dims: number[];
  /** Elements in C order, converted to the platform's byte order. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Reads an IDX file, gunzipping it first when it starts with the gzip signature. */
export function readIdx(path: string): IdxArray {
  return parseIdx(readFileSync(path), path);
}

export function parseIdx(fileBytes: Uint8Array, file: string): IdxArray {
  let bytes = fileBytes;
  let where = '';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // Sync flush hands back whatever a truncated stream still holds, so a cut-off file is reported
    // below with the exact offset where the data ran out rather than as a bare zlib error.
    try {
      bytes = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new DataFormatError(file, 0, `gzip stream is corrupt: ${(e as Error).message}`);
    }
    where = ' of the gunzipped data';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new DataFormatError(file, bytes.length, `file ends inside the 4-byte IDX magic (${bytes.length} bytes${where})`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataFormatError(file, 0, `not an IDX file: magic bytes 0-1 must be 0, found 0x${hex(bytes[0]!)} 0x${hex(bytes[1]!)}`);
  const type = ELEMENT_TYPES[bytes[2] as keyof typeof ELEMENT_TYPES];
  if (!type) throw new DataFormatError(file, 2, `unknown IDX element type 0x${hex(bytes[2]!)} (known: 08 09 0b 0c 0d 0e)`);
  const rank = bytes[3]!;
  if (rank === 0) throw new DataFormatError(file, 3, 'IDX rank 0: no dimensions');
  const dataStart = 4 + 4 * rank;
  if (bytes.length < dataStart) throw new DataFormatError(file, bytes.length, `file ends inside the header of ${rank} dimension sizes (${dataStart} bytes needed, ${bytes.length} present${where})`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const dataEnd = dataStart + count * type.bytes;
  if (bytes.length < dataEnd) {
    throw new DataFormatError(file, bytes.length, `truncated: dims [${dims.join(', ')}] of ${type.name} need ${dataEnd} bytes${where}, the data ends at byte ${bytes.length}`);
  }
  if (bytes.length > dataEnd) throw new DataFormatError(file, dataEnd, `${bytes.length - dataEnd} unexpected bytes after the data of dims [${dims.join(', ')}]${where}`);
  return { type: type.name, dims, data: decodeElements(view, dataStart, count, type.name) };
}

function decodeElements(view: DataView, start: number, count: number, type: IdxType): IdxArray['data'] {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + start, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + start, count).slice();
    case 'int16':
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(start + 2 * i, false));
    case 'int32':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(start + 4 * i, false));
    case 'float32':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(start + 4 * i, false));
    case 'float64':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(start + 8 * i, false));
  }
}

/** IDX bytes of a uint8 array (for tests and for exporting small sets). */
export function encodeIdxUint8(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const hex = (b: number): string => b.toString(16).padStart(2, '0');

export interface IdxDatasetOptions {
  /** images file: uint8 [N, H, W] (grey) or [N, H, W, 3] (RGB). */
  images: string;
  /** labels file: uint8 [N]. */
  labels: string;
  /**
   * Keep only these source classes, renumbered by their position in this list (label k = classes[k]).
   * This is how an open-set check splits Fashion-MNIST: train on some classes, verify on the others.
   */
  classes?: number[];
}

/** An IDX image/label pair as a dataset; grey images come out as RGB with three equal channels. */
export class IdxDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly spec: DatasetSpec;
  private readonly pixels: Uint8Array;
  private readonly height: number;
  private readonly width: number;
  private readonly channels: number;
  /** Source row of each kept image, and its renumbered label. */
  private readonly rows: Uint32Array;
  private readonly labels: Int32Array;

  constructor(options: IdxDatasetOptions) {
    const images = readIdx(options.images);
    const labels = readIdx(options.labels);
    if (images.type !== 'uint8' || !(images.dims.length === 3 || (images.dims.length === 4 && images.dims[3] === 3))) {
      throw new DataFormatError(options.images, 2, `expected uint8 images [N, H, W] or [N, H, W, 3], found ${images.type} [${images.dims.join(', ')}]`);
    }
    if (labels.type !== 'uint8' || labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
      throw new DataFormatError(options.labels, 2, `expected uint8 labels [${images.dims[0]}] to match ${options.images}, found ${labels.type} [${labels.dims.join(', ')}]`);
    }
    [, this.height, this.width] = images.dims as [number, number, number];
    this.channels = images.dims[3] ?? 1;
    this.pixels = images.data as Uint8Array;
    const keep = options.classes ?? [...new Set(labels.data)].sort((a, b) => a - b);
    const renumber = new Map(keep.map((c, k) => [c, k]));
    const rows: number[] = [];
    const kept: number[] = [];
    labels.data.forEach((label, row) => {
      const k = renumber.get(label);
      if (k === undefined) return;
      rows.push(row);
      kept.push(k);
    });
    this.rows = Uint32Array.from(rows);
    this.labels = Int32Array.from(kept);
    this.length = rows.length;
    this.numClasses = options.classes ? options.classes.length : Math.max(-1, ...keep) + 1;
    this.name = `idx(${options.images}${options.classes ? `, classes ${options.classes.join(',')}` : ''})`;
    this.spec = { kind: 'idx', images: options.images, labels: options.labels, ...(options.classes ? { classes: options.classes } : {}) };
  }

  label(index: number): number {
    checkIndex(this, index);
    return this.labels[index]!;
  }

  image(index: number): RgbImage {
    checkIndex(this, index);
    const size = this.height * this.width * this.channels;
    const pixels = this.pixels.subarray(this.rows[index]! * size, (this.rows[index]! + 1) * size);
    if (this.channels === 1) return greyToRgb(pixels, this.width, this.height);
    const out = rgbImage(this.width, this.height);
    out.data.set(pixels);
    return out;
  }
}

/** Paths of Debian's Fashion-MNIST files (package dataset-fashion-mnist). */
export function fashionMnistFiles(split: 'train' | 't10k', dir = '/usr/share/datasets/fashion-mnist'): { images: string; labels: string } {
  return { images: join(dir, `${split}-images-idx3-ubyte.gz`), labels: join(dir, `${split}-labels-idx1-ubyte.gz`) };
}
