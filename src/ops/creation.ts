// Tensor creation: from CPU data, constants, seeded random numbers.
import { gpu } from '../gpu/device.ts';
import { normalArray, uniformArray } from '../random.ts';
import { checkShape, fmt, ShapeError, sizeOf, type Shape } from '../shape.ts';
import { keep, Tensor, type DType } from '../tensor.ts';
import { fill } from './elementwise.ts';

/** Uploads CPU data. The buffer comes from the pool's free list, whose buffers no recorded command
 *  still uses, so queue.writeBuffer (which runs before the pending commands) is safe. */
export function fromArray(data: ArrayLike<number> | Float32Array | Int32Array, shape: Shape, dtype: DType = data instanceof Int32Array ? 'i32' : 'f32'): Tensor {
  checkShape('fromArray', shape);
  if (data.length !== sizeOf(shape)) {
    throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
  }
  const typed = dtype === 'i32'
    ? (data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>))
    : (data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>));
  if (dtype === 'i32' && !(data instanceof Int32Array)) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isInteger(data[i])) throw new RangeError(`fromArray: value ${data[i]} at index ${i} is not an integer (dtype i32)`);
    }
  }
  const t = Tensor.empty(shape, 'fromArray', dtype);
  if (typed.length > 0) gpu().device.queue.writeBuffer(t.buffer, 0, typed.buffer, typed.byteOffset, typed.byteLength);
  return t;
}

export const zeros = (shape: Shape): Tensor => fill(shape, 0);
export const ones = (shape: Shape): Tensor => fill(shape, 1);
export const full = (shape: Shape, value: number): Tensor => fill(shape, value);

export interface RandomOptions {
  seed: number;
}

/** Normal(mean, std) samples drawn on the CPU from `seed` (reproducible across devices). */
export function randn(shape: Shape, { seed, mean = 0, std = 1 }: RandomOptions & { mean?: number; std?: number }): Tensor {
  return fromArray(normalArray(sizeOf(shape), seed, mean, std), shape);
}

/** Uniform [lo, hi) samples drawn on the CPU from `seed`. */
export function rand(shape: Shape, { seed, lo = 0, hi = 1 }: RandomOptions & { lo?: number; hi?: number }): Tensor {
  return fromArray(uniformArray(sizeOf(shape), seed, lo, hi), shape);
}

/** A trainable leaf: requiresGrad set, kept out of tidy scopes. */
export function parameter(t: Tensor, name?: string): Tensor {
  t.requiresGrad = true;
  t.name = name;
  return keep(t);
}
