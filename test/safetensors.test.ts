import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, f32Tensor, i32Tensor, readSafetensors, SafetensorsError, toFloat32, writeSafetensors } from '../src/io/safetensors.ts';

describe('safetensors', () => {
  it('round-trips tensors and metadata, data 8-byte aligned', () => {
    const bytes = encodeSafetensors({ a: f32Tensor(new Float32Array([1, 2.5, -3]), [3]), b: i32Tensor(new Int32Array([7, 8, 9, 10]), [2, 2]) }, { step: '12' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ step: '12' });
    expect([...file.tensors.keys()]).toEqual(['a', 'b']);
    expect(Array.from(toFloat32(file.tensors.get('a')!))).toEqual([1, 2.5, -3]);
    expect(file.tensors.get('b')).toMatchObject({ dtype: 'I32', shape: [2, 2] });
    expect(Array.from(toFloat32(file.tensors.get('b')!))).toEqual([7, 8, 9, 10]);
  });

  it('reads a file written from Python (F32, F16, I64 scalar, I8)', () => {
    const file = readSafetensors(join(import.meta.dirname, 'fixtures', 'interop.safetensors'));
    expect(file.metadata).toEqual({ producer: 'numpy' });
    expect(file.tensors.get('weight')!.shape).toEqual([2, 3]);
    expect(Array.from(toFloat32(file.tensors.get('weight')!))).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(Array.from(toFloat32(file.tensors.get('half')!))).toEqual([1.5, -2, 65504]);
    expect(file.tensors.get('steps')!.shape).toEqual([]);
    expect(Array.from(toFloat32(file.tensors.get('steps')!))).toEqual([7]);
    expect(Array.from(toFloat32(file.tensors.get('codes')!))).toEqual([-8, 0, 7]);
  });

  it('writes atomically: no temporary file is left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lowbit-st-'));
    const path = join(dir, 'w.safetensors');
    writeSafetensors(path, { x: f32Tensor(new Float32Array([1]), [1]) });
    writeSafetensors(path, { x: f32Tensor(new Float32Array([2]), [1]) });
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
    expect(Array.from(toFloat32(readSafetensors(path).tensors.get('x')!))).toEqual([2]);
  });

  it('rejects truncated and malformed files, naming the file and the offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lowbit-st-'));
    const good = encodeSafetensors({ x: f32Tensor(new Float32Array([1, 2, 3, 4]), [4]) });
    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, good.subarray(0, good.length - 4));
    expect(() => readSafetensors(truncated)).toThrow(SafetensorsError);
    expect(() => readSafetensors(truncated)).toThrow(/truncated\.safetensors: tensor 'x' data_offsets \[0, 16\] fall outside the 12 data bytes/);
    expect(() => decodeSafetensors(new Uint8Array(4), 'tiny')).toThrow('tiny: 4 bytes is too short for a safetensors header');
    const badJson = new Uint8Array(16);
    new DataView(badJson.buffer).setBigUint64(0, 8n, true);
    expect(() => decodeSafetensors(badJson, 'bad')).toThrow(/bad: the header is not valid JSON/);
    expect(() => encodeSafetensors({ x: f32Tensor(new Float32Array(3), [4]) })).toThrow("tensor 'x': 12 bytes for F32 [4] (expected 16)");
  });
});
