// MXNet RecordIO (dmlc-core), the container of insightface's train.rec. Each record on disk:
//   uint32 magic 0xced7230a | uint32 lrecord | payload | zero padding to a multiple of 4
// little-endian; lrecord's top 3 bits are a continuation flag (cflag) and its low 29 bits the payload
// length. The writer splits a payload wherever the magic occurs at a 4-aligned position in it: cflag
// 1 = first part, 2 = middle, 3 = last, 0 = whole record; the reader joins the parts, putting the
// magic back between them. The .idx file beside it is text, one "key\toffset\n" line per record.
// A record's payload for images starts with an IRHeader (see unpackIRHeader).
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { DataFormatError } from './errors.ts';

export const RECORDIO_MAGIC = 0xced7230a;
const LENGTH_MASK = (1 << 29) - 1;

/** A RecordIO file opened for random access by byte offset. */
export class RecordIOFile {
  readonly size: number;
  private readonly fd: number;
  private readonly header = new Uint8Array(8);

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** The payload of the record starting at `offset` (parts joined) and the offset of the next record. */
  readAt(offset: number): { payload: Uint8Array; next: number } {
    const parts: Uint8Array[] = [];
    let at = offset;
    for (;;) {
      if (at + 8 > this.size) throw new DataFormatError(this.path, at, `truncated: record header needs 8 bytes, the file ends at byte ${this.size}`);
      this.readExact(this.header, at);
      const view = new DataView(this.header.buffer);
      const magic = view.getUint32(0, true);
      if (magic !== RECORDIO_MAGIC) throw new DataFormatError(this.path, at, `expected RecordIO magic 0xced7230a, found 0x${magic.toString(16).padStart(8, '0')}`);
      const lrecord = view.getUint32(4, true);
      const cflag = lrecord >>> 29;
      const length = lrecord & LENGTH_MASK;
      if (cflag > 3) throw new DataFormatError(this.path, at + 4, `continuation flag ${cflag} is not 0-3 (lrecord 0x${lrecord.toString(16)})`);
      if ((parts.length === 0) !== (cflag === 0 || cflag === 1)) {
        throw new DataFormatError(this.path, at + 4, `continuation flag ${cflag} ${parts.length === 0 ? 'cannot start a record' : 'inside a multi-part record (expected 2 or 3)'}`);
      }
      if (at + 8 + length > this.size) throw new DataFormatError(this.path, at, `truncated: record of ${length} bytes needs bytes ${at + 8}..${at + 8 + length}, the file ends at byte ${this.size}`);
      const part = new Uint8Array(length);
      this.readExact(part, at + 8);
      parts.push(part);
      at += 8 + roundUp4(length);
      if (cflag === 0 || cflag === 3) break;
    }
    return { payload: joinParts(parts), next: Math.min(at, this.size) };
  }

  /** Byte offsets of every record, walking the file from the start (for a .rec without its .idx). */
  scanOffsets(): number[] {
    const offsets: number[] = [];
    for (let at = 0; at < this.size; at = this.readAt(at).next) offsets.push(at);
    return offsets;
  }

  close(): void {
    closeSync(this.fd);
  }

  private readExact(into: Uint8Array, position: number): void {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, position + done);
      if (n === 0) throw new DataFormatError(this.path, position + done, 'unexpected end of file');
      done += n;
    }
  }
}

function joinParts(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((n, p) => n + p.length, 0) + 4 * (parts.length - 1);
  const out = new Uint8Array(total);
  const magic = new Uint8Array(4);
  new DataView(magic.buffer).setUint32(0, RECORDIO_MAGIC, true);
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      out.set(magic, at);
      at += 4;
    }
    out.set(p, at);
    at += p.length;
  });
  return out;
}

const roundUp4 = (n: number): number => (n + 3) & ~3;

/** Bytes of one record as dmlc-core's RecordIOWriter writes it (split at aligned magics, padded). */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  if (payload.length >= 1 << 29) throw new RangeError(`RecordIO payload of ${payload.length} bytes exceeds the 2^29 - 1 limit`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const chunks: Uint8Array[] = [];
  const emit = (cflag: number, body: Uint8Array): void => {
    const chunk = new Uint8Array(8 + roundUp4(body.length)); // zero padding included
    const header = new DataView(chunk.buffer);
    header.setUint32(0, RECORDIO_MAGIC, true);
    header.setUint32(4, ((cflag << 29) | body.length) >>> 0, true);
    chunk.set(body, 8);
    chunks.push(chunk);
  };
  let start = 0;
  for (let i = 0; i + 4 <= payload.length; i += 4) {
    if (view.getUint32(i, true) !== RECORDIO_MAGIC) continue;
    emit(start === 0 ? 1 : 2, payload.subarray(start, i));
    start = i + 4;
  }
  emit(start === 0 ? 0 : 3, payload.subarray(start));
  return concat(chunks);
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parses a .idx file: record key -> byte offset in the .rec (each below `recSize` when given). */
export function readRecordIndex(path: string, recSize = Infinity): Map<number, number> {
  const text = readFileSync(path, 'latin1');
  const index = new Map<number, number>();
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
    if (line.trim() !== '') {
      const match = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
      if (!match) throw new DataFormatError(path, lineStart, `expected "key<TAB>offset", found ${JSON.stringify(line.slice(0, 60))}`);
      const offset = Number(match[2]);
      if (offset >= recSize) throw new DataFormatError(path, lineStart, `key ${match[1]} points at byte ${offset}, past the end of the .rec file (${recSize} bytes)`);
      index.set(Number(match[1]), offset);
    }
    lineStart = lineEnd + 1;
  }
  return index;
}

/** Text of a .idx file for the given keys and offsets. */
export function encodeRecordIndex(entries: Iterable<[number, number]>): string {
  let text = '';
  for (const [key, offset] of entries) text += `${key}\t${offset}\n`;
  return text;
}

/**
 * mxnet.recordio's IRHeader, the first 24 bytes of an image record's payload: uint32 flag, float32
 * label, uint64 id, uint64 id2 (little-endian). When flag > 0 the single label is unused and `flag`
 * float32 labels follow the header instead. The rest of the payload is the encoded image.
 */
export interface IRHeader {
  flag: number;
  /** The label(s): [label] when flag = 0, else the `flag` floats after the header. */
  labels: Float32Array;
  id: bigint;
  id2: bigint;
}

export const IR_HEADER_BYTES = 24;

export function unpackIRHeader(payload: Uint8Array, file: string, recordOffset: number): { header: IRHeader; body: Uint8Array } {
  if (payload.length < IR_HEADER_BYTES) throw new DataFormatError(file, recordOffset, `record payload of ${payload.length} bytes is shorter than the 24-byte IRHeader`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flag = view.getUint32(0, true);
  const id = view.getBigUint64(8, true);
  const id2 = view.getBigUint64(16, true);
  if (flag === 0) return { header: { flag, labels: Float32Array.of(view.getFloat32(4, true)), id, id2 }, body: payload.subarray(IR_HEADER_BYTES) };
  const bodyStart = IR_HEADER_BYTES + 4 * flag;
  if (payload.length < bodyStart) throw new DataFormatError(file, recordOffset, `IRHeader flag ${flag} promises ${flag} float32 labels, but the payload has only ${payload.length} bytes`);
  const labels = Float32Array.from({ length: flag }, (_, i) => view.getFloat32(IR_HEADER_BYTES + 4 * i, true));
  return { header: { flag, labels, id, id2 }, body: payload.subarray(bodyStart) };
}

/** mxnet.recordio.pack: an IRHeader (one label -> flag 0, several -> flag = count) followed by `body`. */
export function packIRHeader(labels: number | readonly number[], body: Uint8Array, id = 0n, id2 = 0n): Uint8Array {
  const many = typeof labels !== 'number';
  const count = many ? labels.length : 0;
  const out = new Uint8Array(IR_HEADER_BYTES + 4 * count + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  view.setFloat32(4, many ? 0 : labels, true);
  view.setBigUint64(8, id, true);
  view.setBigUint64(16, id2, true);
  if (many) labels.forEach((l, i) => view.setFloat32(IR_HEADER_BYTES + 4 * i, l, true));
  out.set(body, IR_HEADER_BYTES + 4 * count);
  return out;
}
