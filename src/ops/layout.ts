// Differentiable layout ops: reshape (a view, no copy), permute/transpose and expand (strided copies).
import { runUnary } from '../../kernels/elementwise.ts';
import { record } from '../autograd.ts';
import { broadcastShapes, broadcastStrides, fmt, sameShape, ShapeError, sizeOf, stridesOf, type Shape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { sumToOwned } from './reduce.ts';

/** Reshape; one dimension may be -1 (inferred). Shares storage with x. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new ShapeError(`reshape: at most one -1 allowed, got ${fmt(shape)}`);
  const resolved = inferred === 1 ? shape.map((d) => (d === -1 ? x.size / Math.max(sizeOf(known), 1) : d)) : [...shape];
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  const y = x.view(resolved);
  return record(y, 'reshape', [x], (g) => [g.view(x.shape)]);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const rank = x.shape.length;
  if (dims.length !== rank || [...dims].sort((a, b) => a - b).some((d, i) => d !== i)) {
    throw new ShapeError(`permute: [${dims}] is not a permutation of the ${rank} axes of ${fmt(x.shape)}`);
  }
  const strides = stridesOf(x.shape);
  const outShape = dims.map((d) => x.shape[d]!);
  const y = runUnary('copy', x, outShape, 0, 0, dims.map((d) => strides[d]!));
  const inverse = dims.map((_, i) => dims.indexOf(i));
  return record(y, 'permute', [x], (g) => {
    const gs = stridesOf(g.shape);
    return [runUnary('copy', g, x.shape, 0, 0, inverse.map((d) => gs[d]!))];
  });
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const rank = x.shape.length;
  const dims = Array.from({ length: rank }, (_, i) => i);
  const i = a < 0 ? a + rank : a;
  const j = b < 0 ? b + rank : b;
  if (i < 0 || j < 0 || i >= rank || j >= rank) throw new ShapeError(`transpose: axes ${a}, ${b} out of range for ${fmt(x.shape)}`);
  [dims[i], dims[j]] = [dims[j]!, dims[i]!];
  return permute(x, dims);
}

/** Broadcasts x to `shape` (materialized). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const out = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(out, shape)) throw new ShapeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  const y = runUnary('copy', x, shape, 0, 0, broadcastStrides(x.shape, shape));
  return record(y, 'expand', [x], (g) => [sumToOwned(g, x.shape)]);
}
