// Our binary image cache (.lbc): images already decoded and resized, read back by offset without any
// decoding. Format (little-endian; documented in src/data/README.md):
//   0   8 bytes  magic "LBCACHE1"
//   8   uint32   N images
//   12  uint32   H height
//   16  uint32   W width
//   20  uint32   C channels (3 = RGB)
//   24  uint32   K classes (labels are 0..K-1)
//   28  uint32   M bytes of UTF-8 JSON metadata (the source dataset's name and spec)
//   32  M bytes  metadata, then zero padding to a multiple of 4       -> P = 32 + roundUp4(M)
//   P   N*H*W*C  uint8 pixels [N, H, W, C], C interleaved
//   L   4*N      int32 labels [N], L = roundUp4(P + N*H*W*C)
// and nothing after. Labels come last so a writer can stream pixels without knowing how many images
// will survive (corrupt ones are skipped) and patch N in the header at the end.
import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { checkIndex } from './dataset.ts';
import { CorruptImageError, DataFormatError } from './errors.ts';
import { resizeRgb, type RgbImage } from './image.ts';

const MAGIC = 'LBCACHE1';
const HEADER_BYTES = 32;
const roundUp4 = (n: number): number => (n + 3) & ~3;

export interface CacheLayout {
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  meta: Record<string, unknown>;
  pixelsAt: number;
  labelsAt: number;
  totalBytes: number;
}

function layout(count: number, height: number, width: number, channels: number, metaBytes: number): Pick<CacheLayout, 'pixelsAt' | 'labelsAt' | 'totalBytes'> {
  const pixelsAt = HEADER_BYTES + roundUp4(metaBytes);
  const labelsAt = roundUp4(pixelsAt + count * height * width * channels);
  return { pixelsAt, labelsAt, totalBytes: labelsAt + 4 * count };
}

/**
 * Decodes every image of `dataset`, resizes it to size x size and writes the cache atomically (to
 * path + '.tmp', then renamed). Corrupt images are skipped and counted.
 */
export function writeCache(path: string, dataset: ImageDataset, size: number, onProgress?: (done: number, total: number) => void): { written: number; corrupt: number } {
  const meta = new TextEncoder().encode(JSON.stringify({ source: dataset.name, spec: dataset.spec, writtenAt: new Date().toISOString() }));
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const start = layout(0, size, size, 3, meta.length).pixelsAt;
    const head = new Uint8Array(start);
    head.set(meta, HEADER_BYTES);
    writeSync(fd, head, 0, head.length, 0);
    const labels: number[] = [];
    let corrupt = 0;
    for (let i = 0; i < dataset.length; i++) {
      let image: RgbImage;
      try {
        image = resizeRgb(dataset.image(i), size, size);
      } catch (e) {
        if (!(e instanceof CorruptImageError)) throw e;
        corrupt++;
        continue;
      }
      writeSync(fd, image.data, 0, image.data.length, start + labels.length * image.data.length);
      labels.push(dataset.label(i));
      onProgress?.(i + 1, dataset.length);
    }
    const { labelsAt } = layout(labels.length, size, size, 3, meta.length);
    const labelBytes = new Uint8Array(Int32Array.from(labels).buffer);
    writeSync(fd, labelBytes, 0, labelBytes.length, labelsAt); // any alignment gap before it reads as zeros
    const header = new DataView(new ArrayBuffer(HEADER_BYTES));
    [...MAGIC].forEach((ch, i) => header.setUint8(i, ch.charCodeAt(0)));
    [labels.length, size, size, 3, dataset.numClasses, meta.length].forEach((v, i) => header.setUint32(8 + 4 * i, v, true));
    writeSync(fd, new Uint8Array(header.buffer), 0, HEADER_BYTES, 0);
    closeSync(fd);
    renameSync(temporary, path);
    return { written: labels.length, corrupt };
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    throw e;
  }
}

/** A .lbc cache opened for random access; only the labels are held in memory. */
export class CacheDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly spec: DatasetSpec;
  readonly layout: CacheLayout;
  private readonly fd: number;
  private readonly labels: Int32Array;

  constructor(readonly path: string) {
    this.name = path;
    this.spec = { kind: 'cache', path };
    this.fd = openSync(path, 'r');
    try {
      this.layout = readLayout(this.fd, path);
      const { count, numClasses, labelsAt } = this.layout;
      this.labels = new Int32Array(count);
      readExact(this.fd, new Uint8Array(this.labels.buffer), labelsAt, path);
      const bad = this.labels.findIndex((l) => l < 0 || l >= numClasses);
      if (bad >= 0) throw new DataFormatError(path, labelsAt + 4 * bad, `label ${this.labels[bad]} of image ${bad} is outside 0..${numClasses - 1}`);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.length = this.layout.count;
    this.numClasses = this.layout.numClasses;
  }

  label(index: number): number {
    checkIndex(this, index);
    return this.labels[index]!;
  }

  image(index: number): RgbImage {
    checkIndex(this, index);
    const { height, width, channels, pixelsAt } = this.layout;
    const data = new Uint8Array(height * width * channels); // [H, W, C]
    readExact(this.fd, data, pixelsAt + index * data.length, this.path);
    return { width, height, data };
  }

  close(): void {
    closeSync(this.fd);
  }
}

function readLayout(fd: number, path: string): CacheLayout {
  const fileBytes = fstatSync(fd).size;
  if (fileBytes < HEADER_BYTES) throw new DataFormatError(path, fileBytes, `truncated: the ${HEADER_BYTES}-byte header ends at byte ${fileBytes}`);
  const head = new Uint8Array(HEADER_BYTES);
  readExact(fd, head, 0, path);
  const magic = String.fromCharCode(...head.subarray(0, 8));
  if (magic !== MAGIC) throw new DataFormatError(path, 0, `not a lowbit cache: magic ${JSON.stringify(magic)}, expected ${JSON.stringify(MAGIC)}`);
  const view = new DataView(head.buffer);
  const [count, height, width, channels, numClasses, metaBytes] = [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(8 + 4 * i, true)) as [number, number, number, number, number, number];
  if (channels !== 3) throw new DataFormatError(path, 20, `channels ${channels}: only 3 (RGB) is supported`);
  const sizes = layout(count, height, width, channels, metaBytes);
  if (fileBytes !== sizes.totalBytes) {
    throw new DataFormatError(path, Math.min(fileBytes, sizes.totalBytes), `${fileBytes < sizes.totalBytes ? 'truncated' : 'trailing bytes'}: header says ${count} images of ${height}x${width}x${channels} (${sizes.totalBytes} bytes), the file has ${fileBytes}`);
  }
  const metaText = new Uint8Array(metaBytes);
  readExact(fd, metaText, HEADER_BYTES, path);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaText)) as Record<string, unknown>;
  } catch (e) {
    throw new DataFormatError(path, HEADER_BYTES, `metadata is not JSON: ${(e as Error).message}`);
  }
  return { count, height, width, channels, numClasses, meta, ...sizes };
}

function readExact(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new DataFormatError(path, position + done, 'unexpected end of file');
    done += n;
  }
}
