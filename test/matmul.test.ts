import { describe, expect, it } from 'vitest';
import { matmulRef, planMatmul } from '../kernels/matmul.ts';
import { matmul } from '../src/ops/matmul.ts';
import { ShapeError, type Shape } from '../src/shape.ts';
import { checkOp } from './check-op.ts';

function matmulCase(aShape: Shape, bShape: Shape, transA = false, transB = false, grad = true): () => Promise<void> {
  return () =>
    checkOp({
      label: `matmul ${aShape}${transA ? 'T' : ''} x ${bShape}${transB ? 'T' : ''}`,
      inputs: [{ shape: aShape, grad }, { shape: bShape, grad }],
      gpu: ([a, b]) => matmul(a!, b!, { transA, transB }),
      ref: ([a, b]) => matmulRef(a!, aShape, b!, bShape, { transA, transB }).data,
      shape: planMatmul(aShape, bShape, { transA, transB }).outShape,
      fwd: { atol: 1e-4, rtol: 1e-4 },
      grad: { atol: 2e-3, rtol: 2e-3 },
    });
}

describe('matmul', () => {
  it('1x1x1', matmulCase([1, 1], [1, 1]));
  it('odd sizes that are no tile multiple', matmulCase([37, 29], [29, 41]));
  it('a single row (batch 1 of a linear layer)', matmulCase([1, 19], [19, 33]));
  it('transposed A', matmulCase([13, 17], [13, 9], true, false));
  it('transposed B', matmulCase([17, 13], [9, 13], false, true));
  it('both transposed', matmulCase([13, 17], [9, 13], true, true));
  it('batched', matmulCase([3, 7, 5], [3, 5, 6]));
  it('batch of one', matmulCase([1, 7, 5], [1, 5, 6]));
  it('B broadcast over A\'s batch (gradient summed over the batch)', matmulCase([4, 7, 5], [5, 6]));
  it('A broadcast over B\'s batch, transposed', matmulCase([7, 5], [2, 3, 6, 5], false, true));
  it('larger forward, several tiles in every direction', matmulCase([130, 67], [67, 150], false, false, false));

  it('rejects mismatched inner dimensions, naming the shapes', () => {
    expect(() => planMatmul([2, 3], [4, 5], {})).toThrow(ShapeError);
    expect(() => planMatmul([2, 3], [4, 5], {})).toThrow(/\[2,3\] x \[4,5\].*K=3 vs 4/);
  });

  it('rejects rank 1 and incompatible batches', () => {
    expect(() => planMatmul([3], [3, 4], {})).toThrow(/rank >= 2.*\[3\]/);
    expect(() => planMatmul([2, 3, 4], [5, 4, 6], {})).toThrow(/batch dimensions \[2\] and \[5\]/);
  });
});
