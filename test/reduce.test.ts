import { describe, expect, it } from 'vitest';
import { backward } from '../src/backward.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { reduceRef } from '../kernels/reduce.ts';
import { max, mean, sum } from '../src/ops/reduce.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { checkOp } from './check-op.ts';

type AxesSpec = number | number[] | undefined;
// Covers the thread-per-output path (short reductions) and the workgroup path (>= 128 elements).
const CASES: [Shape, AxesSpec][] = [
  [[7], undefined],
  [[3, 5], 1],
  [[3, 5], 0],
  [[3, 5], -1],
  [[2, 3, 4, 5], [0, 2, 3]],   // BatchNorm's reduction over (N, H, W)
  [[2, 3, 4, 5], [1, 3]],
  [[1, 1, 9], [0, 1]],
  [[600], 0],                   // workgroup path
  [[4, 300], 1],
  [[130, 3], 0],
];

describe('reductions over any axes', () => {
  for (const [shape, axes] of CASES) {
    const n = sizeOf(shape);
    it(`sum ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`, () =>
      checkOp({ label: 'sum', inputs: [{ shape }], gpu: ([x]) => sum(x!, axes), ref: ([x]) => reduceRef('sum', x!, shape, axes), fwd: { atol: 1e-4, rtol: 1e-4 } }));
    it(`mean ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keepDims`, () => {
      const count = axes === undefined ? n : [axes].flat().reduce((p, a) => p * shape[a < 0 ? a + shape.length : a]!, 1);
      return checkOp({ label: 'mean', inputs: [{ shape }], gpu: ([x]) => mean(x!, axes, true), ref: ([x]) => reduceRef('sum', x!, shape, axes, 1 / count), fwd: { atol: 1e-5, rtol: 1e-4 } });
    });
    it(`max ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`, () =>
      checkOp({ label: 'max', inputs: [{ shape }], gpu: ([x]) => max(x!, axes), ref: ([x]) => reduceRef('max', x!, shape, axes) }));
  }

  it('long reductions with outputs enough for a thread each (forward; the path is the same code for sum and max)', () =>
    checkOp({ label: 'sum 1030x129', inputs: [{ shape: [1030, 129], grad: false }], gpu: ([x]) => sum(x!, 1), ref: ([x]) => reduceRef('sum', x!, [1030, 129], 1), fwd: { atol: 1e-4, rtol: 1e-4 } }));

  it('max shares the gradient between tied maxima (as torch.amax)', async () => {
    const x = parameter(fromArray([1, 5, 5, 2, 2, 0], [2, 3]));
    const y = max(x, 1);
    expect(Array.from(await y.toArray())).toEqual([5, 2]);
    backward(sum(y));
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0.5, 0.5, 0.5, 0.5, 0]);
    x.dispose();
  });
});
