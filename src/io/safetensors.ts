// safetensors (the format of PyTorch and Hugging Face weights): an 8-byte little-endian header length,
// a JSON header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {str: str} }, then
// the raw little-endian data. Written atomically (temporary file + rename): a crash never leaves half a file.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { fmt, sizeOf } from '../shape.ts';

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** Raw little-endian bytes of the tensor (a view into the file's buffer when read). */
  bytes: Uint8Array;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

// ---- writing -------------------------------------------------------------------------------------

export function f32Tensor(data: Float32Array, shape: readonly number[]): SafeTensor {
  return { dtype: 'F32', shape: [...shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function i32Tensor(data: Int32Array, shape: readonly number[]): SafeTensor {
  return { dtype: 'I32', shape: [...shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function i8Tensor(data: Int8Array, shape: readonly number[]): SafeTensor {
  return { dtype: 'I8', shape: [...shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Encodes tensors (in key order) and metadata into one buffer. */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor> | Record<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const entries: [string, SafeTensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, SafeTensor>);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const expected = sizeOf(t.shape) * BYTES[t.dtype];
    if (t.bytes.byteLength !== expected) throw new SafetensorsError(`tensor '${name}': ${t.bytes.byteLength} bytes for ${t.dtype} ${fmt(t.shape)} (expected ${expected})`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

/** Writes to `path.tmp-PID`, fsyncs, then renames over `path`. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeSafetensors(path: string, tensors: ReadonlyMap<string, SafeTensor> | Record<string, SafeTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

// ---- reading -------------------------------------------------------------------------------------

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(buf: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  if (buf.byteLength < 8) throw new SafetensorsError(`${source}: ${buf.byteLength} bytes is too short for a safetensors header`);
  const headerLen = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > buf.byteLength) throw new SafetensorsError(`${source}: the header claims ${headerLen} bytes but the file has ${buf.byteLength - 8} after the length`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsError(`${source}: the header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!v.dtype || !(v.dtype in BYTES)) throw new SafetensorsError(`${source}: tensor '${name}' has unsupported dtype '${v.dtype}'`);
    const dtype = v.dtype as SafeDType;
    if (!Array.isArray(v.shape) || !Array.isArray(v.data_offsets)) throw new SafetensorsError(`${source}: tensor '${name}' lacks shape or data_offsets`);
    const [begin, end] = v.data_offsets;
    if (!(begin >= 0 && end >= begin && end <= dataLen)) {
      throw new SafetensorsError(`${source}: tensor '${name}' data_offsets [${begin}, ${end}] fall outside the ${dataLen} data bytes (file offset ${dataStart + begin})`);
    }
    if (end - begin !== sizeOf(v.shape) * BYTES[dtype]) {
      throw new SafetensorsError(`${source}: tensor '${name}' ${dtype} ${fmt(v.shape)} needs ${sizeOf(v.shape) * BYTES[dtype]} bytes, has ${end - begin}`);
    }
    tensors.set(name, { dtype, shape: v.shape, bytes: buf.subarray(dataStart + begin, dataStart + end) });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  const buf = readFileSync(path);
  return decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The tensor's values widened to float32 (F16/BF16/F64 and integers converted). */
export function toFloat32(t: SafeTensor): Float32Array {
  const n = sizeOf(t.shape);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'F32': out[i] = view.getFloat32(4 * i, true); break;
      case 'F64': out[i] = view.getFloat64(8 * i, true); break;
      case 'F16': out[i] = halfToFloat(view.getUint16(2 * i, true)); break;
      case 'BF16': out[i] = new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0]!; break;
      case 'I64': out[i] = Number(view.getBigInt64(8 * i, true)); break;
      case 'I32': out[i] = view.getInt32(4 * i, true); break;
      case 'I16': out[i] = view.getInt16(2 * i, true); break;
      case 'I8': out[i] = view.getInt8(i); break;
      case 'U8': case 'BOOL': out[i] = view.getUint8(i); break;
    }
  }
  return out;
}
