import { describe, expect, it } from 'vitest';
import { l2NormalizeRef } from '../kernels/normalize.ts';
import { crossEntropyRef, softmaxRef } from '../kernels/softmax.ts';
import { fromArray } from '../src/ops/creation.ts';
import { crossEntropy, l2Normalize, logSoftmax, softmax } from '../src/ops/softmax.ts';
import type { Shape } from '../src/shape.ts';
import { checkOp } from './check-op.ts';

const AXES: [Shape, number][] = [[[5, 7], 1], [[5, 7], 0], [[2, 3, 4], 1], [[1, 70], -1], [[3, 130], 1]];

describe('softmax and log-softmax along any axis', () => {
  for (const [shape, axis] of AXES) {
    it(`softmax ${JSON.stringify(shape)} axis ${axis}`, () =>
      checkOp({ label: 'softmax', inputs: [{ shape }], gpu: ([x]) => softmax(x!, axis), ref: ([x]) => softmaxRef(x!, shape, axis, false) }));
    it(`log_softmax ${JSON.stringify(shape)} axis ${axis}`, () =>
      checkOp({ label: 'log_softmax', inputs: [{ shape }], gpu: ([x]) => logSoftmax(x!, axis), ref: ([x]) => softmaxRef(x!, shape, axis, true) }));
  }

  it('is stable for large logits', async () => {
    const y = await softmax(fromArray([1000, 1001, 999], [1, 3])).toArray();
    const want = softmaxRef([1000, 1001, 999], [1, 3], 1, false);
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });
});

describe('cross-entropy with integer labels', () => {
  it('forward and gradient, N=5 C=7', () => {
    const labels = [1, 0, 6, 3, 3];
    return checkOp({
      label: 'cross_entropy', inputs: [{ shape: [5, 7] }],
      gpu: ([x]) => crossEntropy(x!, labels),
      ref: ([x]) => [crossEntropyRef(x!, 5, 7, labels)],
    });
  });

  it('batch of one, many classes (the workgroup loop wraps)', () => {
    const labels = [150];
    return checkOp({ label: 'cross_entropy', inputs: [{ shape: [1, 200] }], gpu: ([x]) => crossEntropy(x!, labels), ref: ([x]) => [crossEntropyRef(x!, 1, 200, labels)] });
  });

  it('accepts an i32 label tensor; a label out of range in it gives NaN', async () => {
    const logits = fromArray([0, 1, 2, 3, 4, 5], [2, 3]);
    const good = await crossEntropy(logits, fromArray(new Int32Array([2, 0]), [2])).item();
    expect(good).toBeCloseTo(crossEntropyRef([0, 1, 2, 3, 4, 5], 2, 3, [2, 0]), 5);
    expect(Number.isNaN(await crossEntropy(logits, fromArray(new Int32Array([2, 3]), [2])).item())).toBe(true);
  });

  it('rejects labels outside [0, C) given as numbers, naming the label and the shape', () => {
    const logits = fromArray([0, 1, 2, 3, 4, 5], [2, 3]);
    expect(() => crossEntropy(logits, [0, 3])).toThrow(/label 3 at index 1 is outside \[0, 3\) for logits \[2,3\]/);
    expect(() => crossEntropy(logits, fromArray([0, 1, 2], [3], 'i32'))).toThrow(/labels must be i32 \[2\].*got i32 \[3\]/);
  });
});

describe('L2 normalization', () => {
  for (const [shape, axis] of [[[4, 9], 1], [[4, 9], 0], [[2, 5, 3], 1], [[1, 130], 1]] as [Shape, number][]) {
    it(`${JSON.stringify(shape)} axis ${axis}`, () =>
      checkOp({ label: 'l2_normalize', inputs: [{ shape }], gpu: ([x]) => l2Normalize(x!, axis), ref: ([x]) => l2NormalizeRef(x!, shape, axis, 1e-12) }));
  }

  it('a zero row stays zero (eps guards the division)', async () => {
    const y = await l2Normalize(fromArray([0, 0, 0, 3, 4, 0], [2, 3])).toArray();
    expect(Array.from(y)).toEqual([0, 0, 0, 0.6000000238418579, 0.800000011920929, 0]);
  });
});
