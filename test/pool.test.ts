import { describe, expect, it } from 'vitest';
import { maxPool2dRef, type Pool2d } from '../kernels/pool.ts';
import { reduceRef } from '../kernels/reduce.ts';
import { backward } from '../src/backward.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { maxPool2d, type MaxPool2dOptions } from '../src/ops/pool.ts';
import { mean, sum } from '../src/ops/reduce.ts';
import type { Shape } from '../src/shape.ts';
import { dispose } from '../src/tensor.ts';
import { checkOp } from './check-op.ts';

type Case = [string, Shape, number | [number, number], MaxPool2dOptions];
const CASES: Case[] = [
  ['resnet stem 3x3 s2 p1, odd H and W', [2, 3, 9, 11], 3, { stride: 2, padding: 1 }],
  ['resnet stem, batch 1, plane longer than the workgroup', [1, 2, 12, 13], 3, { stride: 2, padding: 1 }],
  ['2x2 s2, odd W drops the last column', [2, 3, 6, 7], 2, {}],
  ['rectangular kernel, stride and padding', [1, 3, 5, 7], [2, 3], { stride: [1, 2], padding: [1, 1] }],
  ['3x3 s1: heavily overlapping windows', [1, 1, 6, 5], 3, { stride: 1 }],
  ['window as large as the input', [3, 2, 4, 5], [4, 5], {}],
];

function geometry(kernel: number | [number, number], o: MaxPool2dOptions): Pool2d {
  const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
  return { kernel: pair(kernel), stride: pair(o.stride ?? kernel), padding: pair(o.padding ?? 0) };
}

describe('max_pool2d', () => {
  for (const [label, shape, kernel, opts] of CASES) {
    it(`${label} ${JSON.stringify(shape)}`, () =>
      checkOp({
        label: 'max_pool2d', inputs: [{ shape }],
        gpu: ([x]) => maxPool2d(x!, kernel, opts), ref: ([x]) => maxPool2dRef(x!, shape, geometry(kernel, opts)).y,
      }));
  }

  it('ties: the gradient goes to the first maximum in window order (PyTorch indices)', async () => {
    // torch.nn.functional.max_pool2d(torch.ones(1, 1, 3, 3), 2, stride=1, return_indices=True)[1] == [[0, 1], [3, 4]]
    const x = parameter(fromArray(new Float32Array(9).fill(1), [1, 1, 3, 3]));
    const y = maxPool2d(x, 2, { stride: 1 });
    backward(sum(y));
    expect(Array.from(await x.grad!.toArray())).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(maxPool2dRef(new Float32Array(9).fill(1), [1, 1, 3, 3], geometry(2, { stride: 1 })).argmax)).toEqual([0, 1, 3, 4]);
    dispose([x, y]);
  });

  it('a maximum shared by overlapping windows collects all their gradients', async () => {
    const x = parameter(fromArray([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 1, 3, 3]));
    const y = maxPool2d(x, 2, { stride: 1 });
    backward(sum(y));
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0, 0, 0, 4, 0, 0, 0, 0]);
    dispose([x, y]);
  });

  it('errors name the op and the shapes', () => {
    const x = fromArray(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
    expect(() => maxPool2d(fromArray(new Float32Array(12), [3, 4]), 2)).toThrow('max_pool2d: expected an input of rank 4 [N, C, H, W], got [3,4]');
    expect(() => maxPool2d(x, 3, { padding: 2 })).toThrow('max_pool2d: padding [2,2] must be at most half the kernel [3,3]');
    expect(() => maxPool2d(x, [5, 2])).toThrow('max_pool2d: input [2,3,4,4] is smaller than the kernel [5,2] with padding [0,0] (output 0x2)');
    expect(() => maxPool2d(x, 0)).toThrow('max_pool2d: kernel must be integers >= 1, got 0');
    expect(() => maxPool2d(x, 2, { stride: [1, 0] })).toThrow('max_pool2d: stride must be integers >= 1, got [1,0]');
    x.dispose();
  });
});

// Global average pooling is mean over [2, 3]: no kernel of its own. Checked here on the shapes a ResNet
// head sees (and odd ones): value and gradient.
describe('global average pooling = mean(x, [2, 3])', () => {
  for (const shape of [[2, 3, 5, 7], [1, 4, 7, 7], [3, 8, 4, 4], [2, 5, 12, 12]] as Shape[]) {
    const area = shape[2]! * shape[3]!;
    it(`${JSON.stringify(shape)}`, () =>
      checkOp({
        label: 'global avg pool', inputs: [{ shape }], shape: [shape[0]!, shape[1]!],
        gpu: ([x]) => mean(x!, [2, 3]), ref: ([x]) => reduceRef('sum', x!, shape, [2, 3], 1 / area),
      }));
  }
});
