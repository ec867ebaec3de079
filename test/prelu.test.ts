import { describe, expect, it } from 'vitest';
import { preluRef } from '../kernels/prelu.ts';
import { backward } from '../src/backward.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { sum } from '../src/ops/reduce.ts';
import { dispose } from '../src/tensor.ts';
import { prelu } from '../src/ops/prelu.ts';
import type { Shape } from '../src/shape.ts';
import { checkOp } from './check-op.ts';

// Batch 1, odd planes, 2-D [N, C], channels longer than the 16-wide workgroup (the walk wraps within
// a plane, across planes, and across planes with a remainder: S = 6), rank 3. S % 4 == 0 takes the
// vec4 kernels: S / 4 = 5, 24 (longer than the workgroup), 1.
const SHAPES: Shape[] = [[1, 5, 3, 3], [4, 5], [130, 3], [9, 2, 3, 2], [2, 3, 70], [2, 3, 4, 5], [3, 5, 8, 12], [7, 3, 2, 2]];

describe('prelu', () => {
  for (const shape of SHAPES) {
    it(`slope per channel ${JSON.stringify(shape)}`, () =>
      checkOp({
        label: 'prelu', inputs: [{ shape }, { shape: [shape[1]!] }],
        gpu: ([x, a]) => prelu(x!, a!), ref: ([x, a]) => preluRef(x!, shape, a!),
      }));
    it(`shared slope ${JSON.stringify(shape)}`, () =>
      checkOp({
        label: 'prelu shared', inputs: [{ shape }, { shape: [1] }],
        gpu: ([x, a]) => prelu(x!, a!), ref: ([x, a]) => preluRef(x!, shape, a!),
      }));
  }

  it('rank 1 (no channel axis) with a shared slope', () =>
    checkOp({ label: 'prelu 1-D', inputs: [{ shape: [9] }, { shape: [1] }], gpu: ([x, a]) => prelu(x!, a!), ref: ([x, a]) => preluRef(x!, [9], a!) }));

  it('matches PyTorch values, including x = 0 (gradient a*g there, as PyTorch)', async () => {
    // torch.nn.functional.prelu(torch.tensor([[-2., 0., 3.], [1., -1., -4.]]).view(2, 3, 1), torch.tensor([0.25, 0.5, -1.]))
    const x = parameter(fromArray([-2, 0, 3, 1, -1, -4], [2, 3, 1]));
    const a = parameter(fromArray([0.25, 0.5, -1], [3]));
    const y = prelu(x, a);
    expect(Array.from(await y.toArray())).toEqual([-0.5, 0, 3, 1, -0.5, 4]);
    backward(sum(y));
    expect(Array.from(await x.grad!.toArray())).toEqual([0.25, 0.5, 1, 1, 0.5, -1]);
    expect(Array.from(await a.grad!.toArray())).toEqual([-2, -1, -4]);
    dispose([x, a, y]);
  });

  it('the same semantics on the vec4 path (planes of 4)', async () => {
    const x = parameter(fromArray([-2, 0, 3, 1, -1, -4, 0, 5], [1, 2, 4]));
    const a = parameter(fromArray([0.25, -1], [2]));
    const y = prelu(x, a);
    expect(Array.from(await y.toArray())).toEqual([-0.5, 0, 3, 1, 1, 4, -0, 5]);   // -1 * 0 = -0, as PyTorch
    backward(sum(y));
    expect(Array.from(await x.grad!.toArray())).toEqual([0.25, 0.25, 1, 1, -1, -1, -1, 1]);
    expect(Array.from(await a.grad!.toArray())).toEqual([-2, -5]);
    dispose([x, a, y]);
  });

  it('the slope gradient alone (x constant)', () =>
    checkOp({
      label: 'prelu slope grad', inputs: [{ shape: [3, 4, 2, 2], grad: false }, { shape: [4] }],
      gpu: ([x, a]) => prelu(x!, a!), ref: ([x, a]) => preluRef(x!, [3, 4, 2, 2], a!),
    }));

  it('errors name the op and the shapes', () => {
    expect(() => prelu(fromArray(new Float32Array(24), [2, 3, 2, 2]), fromArray([1, 1, 1, 1], [4])))
      .toThrow('prelu: slope must have shape [3] (one per channel, axis 1) or [1] for input [2,3,2,2], got [4]');
    expect(() => prelu(fromArray(new Float32Array(6), [2, 3]), fromArray([1, 1, 1], [1, 3])))
      .toThrow('prelu: slope must have shape [3] (one per channel, axis 1) or [1] for input [2,3], got [1,3]');
    expect(() => prelu(fromArray(new Float32Array(5), [5]), fromArray([1, 1], [2])))
      .toThrow('prelu: slope must have shape [1] (the input has no channel axis) for input [5], got [2]');
  });
});
