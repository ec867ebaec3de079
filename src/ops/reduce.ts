// Differentiable reductions over any axes; backward broadcasts the gradient back over the reduced axes.
import { runBinary, runUnary } from '../../kernels/elementwise.ts';
import { reducedShape, runReduce } from '../../kernels/reduce.ts';
import { record } from '../autograd.ts';
import { broadcastStrides, fmt, normalizeAxes, sameShape, ShapeError, sizeOf, type Shape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

export type Axes = number | readonly number[] | undefined;

/** Broadcasts g (shaped like x reduced with keepDims over `axes`) back to `shape`. */
function expandOver(g: Tensor, shape: Shape, axes: readonly number[]): Tensor {
  const keptShape = reducedShape(shape, axes, true);
  return runUnary('copy', g, shape, 0, 0, broadcastStrides(keptShape, shape));
}

export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes('sum', axes, x.shape.length);
  const y = runReduce('sum', x, ax, keepDims);
  return record(y, 'sum', [x], (g) => [expandOver(g, x.shape, ax)]);
}

export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes('mean', axes, x.shape.length);
  const n = sizeOf(ax.map((i) => x.shape[i]!));
  if (n === 0) throw new ShapeError(`mean: reducing ${fmt(x.shape)} over axes [${ax}] averages zero elements`);
  const y = runReduce('sum', x, ax, keepDims, 1 / n, 'mean');
  return record(y, 'mean', [x], (g) => [runUnary('affine', expandOver(g, x.shape, ax), x.shape, 1 / n, 0)]);
}

/** Max over axes; the gradient is shared evenly among tied maxima (as torch.amax does). */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes('max', axes, x.shape.length);
  const y = runReduce('max', x, ax, keepDims);
  return record(y, 'max', [x], (g) => {
    const isMax = runBinary('eq', x, expandOver(y, x.shape, ax));
    const ties = runReduce('sum', isMax, ax, true);
    const share = runBinary('div', isMax, ties);
    return [runBinary('mul', share, expandOver(g, x.shape, ax))];
  });
}

/**
 * Sums a broadcast gradient back to `shape` (the inverse of broadcasting): `t` itself when no reduction
 * is needed, else a new tensor. `t` is not freed (it may be the incoming gradient).
 */
export function sumToOwned(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = t.shape.length - shape.length;
  const axes: number[] = [];
  t.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const reduced = axes.length > 0 ? runReduce('sum', t, axes, true) : t;
  const out = reduced.view(shape, 'sumTo');
  if (reduced !== t) reduced.dispose();
  return out;
}
