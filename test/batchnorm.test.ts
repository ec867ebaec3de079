import { describe, expect, it } from 'vitest';
import { batchNormRef, runningStatsRef } from '../kernels/batchnorm.ts';
import { backward } from '../src/backward.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { batchNorm } from '../src/ops/batchnorm.ts';
import { sum } from '../src/ops/reduce.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { tidy, type Tensor } from '../src/tensor.ts';
import { checkOp } from './check-op.ts';
import { data, expectClose } from './helpers.ts';
import { uniformArray } from '../src/random.ts';

// Odd channel counts and planes; batch 1; channels longer than the 16-wide workgroup, so the walk wraps
// across samples with a step shorter than a plane (S = 117), longer than one (S = 1, N = 130) and
// spanning planes with a remainder (S = 6: a step of 16 is 2 planes and 4). Planes with S % 4 == 0 take
// the vec4 kernels: S / 4 = 5 (wraps with a remainder), 24 (longer than the workgroup), 4 (batch 1), 1.
const SCALAR_SHAPES: Shape[] = [[1, 3, 5, 7], [3, 5, 9, 13], [9, 2, 3, 2], [5, 2, 1, 1], [4, 5], [130, 3], [2, 3, 70]];
const VEC4_SHAPES: Shape[] = [[2, 3, 4, 5], [3, 5, 8, 12], [1, 2, 4, 4], [7, 3, 2, 2]];
const SHAPES = [...SCALAR_SHAPES, ...VEC4_SHAPES];
const EPS = 1e-5;
const GRAD_TOL = { atol: 2e-3, rtol: 2e-3 };

describe('batch norm, training mode (batch statistics)', () => {
  // With running statistics the forward is one fused kernel (bn_train), without them two (stats, normalize).
  for (const withRunning of [false, true]) {
    for (const shape of SHAPES) {
      const C = shape[1]!;
      it(`x, gamma, beta ${JSON.stringify(shape)}${withRunning ? ', running statistics updated' : ''}`, () => {
        const running = withRunning ? { mean: fromArray(new Float32Array(C), [C]), var: fromArray(new Float32Array(C).fill(1), [C]) } : null;
        return checkOp({
          label: 'batch_norm train', inputs: [{ shape }, { shape: [C] }, { shape: [C] }],
          gpu: ([x, g, b]) => batchNorm(x!, g!, b!, running, { training: true }),
          ref: ([x, g, b]) => batchNormRef(x!, shape, g!, b!, null, EPS), grad: GRAD_TOL,
        });
      });
    }
  }

  it('without affine (gamma and beta null)', () =>
    checkOp({
      label: 'batch_norm no affine', inputs: [{ shape: [2, 3, 4, 5] }],
      gpu: ([x]) => batchNorm(x!, null, null, null, { training: true }),
      ref: ([x]) => batchNormRef(x!, [2, 3, 4, 5], null, null, null, EPS), grad: GRAD_TOL,
    }));

  it('gamma without beta, custom eps', () =>
    checkOp({
      label: 'batch_norm gamma only', inputs: [{ shape: [3, 4, 2, 3] }, { shape: [4] }],
      gpu: ([x, g]) => batchNorm(x!, g!, null, null, { training: true, eps: 1e-3 }),
      ref: ([x, g]) => batchNormRef(x!, [3, 4, 2, 3], g!, null, null, 1e-3), grad: GRAD_TOL,
    }));

  for (const shape of [[4, 3, 6, 5], [4, 3, 4, 6]] as Shape[]) {
    it(`is accurate when |mean| >> std (two-pass variance, (x - mean) before scaling) ${JSON.stringify(shape)}`, async () => {
      const x = data(sizeOf(shape), 3).map((v) => 1000 + 0.5 * v);
      const y = await batchNorm(fromArray(x, shape), null, null, null, { training: true }).toArray();
      expectClose(y, batchNormRef(x, shape, null, null, null, EPS), { atol: 2e-3, rtol: 1e-3 }, 'batch_norm large mean');
    });
  }
});

describe('batch norm, eval mode (running statistics)', () => {
  for (const shape of [[2, 3, 4, 5], [1, 5, 3, 3], [6, 4], [1, 3, 4, 8]] as Shape[]) {
    const C = shape[1]!;
    const mean = data(C, 11);
    const variance = uniformArray(C, 12, 0.5, 2);
    it(`x, gamma, beta ${JSON.stringify(shape)}`, () => {
      const running = { mean: fromArray(mean, [C]), var: fromArray(variance, [C]) };
      return checkOp({
        label: 'batch_norm eval', inputs: [{ shape }, { shape: [C] }, { shape: [C] }],
        gpu: ([x, g, b]) => batchNorm(x!, g!, b!, running, { training: false }),
        ref: ([x, g, b]) => batchNormRef(x!, shape, g!, b!, { mean, var: variance }, EPS),
      });
    });
  }

  it('eval mode does not touch the running statistics; a batch of one is fine', async () => {
    const running = { mean: fromArray([0.5, -1], [2]), var: fromArray([2, 0.25], [2]) };
    const y = await batchNorm(fromArray([1, 2], [1, 2]), null, null, running, { training: false }).toArray();
    expectClose(y, [(1 - 0.5) / Math.sqrt(2 + EPS), (2 + 1) / Math.sqrt(0.25 + EPS)], { atol: 1e-6 }, 'eval');
    expect(Array.from(await running.mean.toArray())).toEqual([0.5, -1]);
    expect(Array.from(await running.var.toArray())).toEqual([2, 0.25]);
  });
});

describe('batch norm running statistics', () => {
  // H*W = 40 runs the vec4 statistics kernel, 35 the scalar one (both update the running estimates).
  for (const shape of [[3, 4, 5, 8], [2, 4, 5, 7]]) it(`updates in place as PyTorch does (momentum, unbiased variance), step after step, x[${shape}]`, async () => {
    const C = 4;
    let want: { mean: ArrayLike<number>; var: ArrayLike<number> } = { mean: new Float64Array(C), var: new Float64Array(C).fill(1) };
    const running = { mean: fromArray(want.mean, [C]), var: fromArray(want.var, [C]) };
    for (let step = 0; step < 3; step++) {
      const x = data(sizeOf(shape), 100 + step, 2).map((v) => v + step);
      tidy(() => batchNorm(fromArray(x, shape), null, null, running, { training: true, momentum: 0.3 }));
      want = runningStatsRef(x, shape, want, 0.3);
    }
    expectClose(await running.mean.toArray(), want.mean, { atol: 1e-5, rtol: 1e-5 }, 'running mean');
    expectClose(await running.var.toArray(), want.var, { atol: 1e-5, rtol: 1e-5 }, 'running var');
  });

  it('2-D input, default momentum 0.1, more channels than a workgroup has invocations', async () => {
    const [N, C] = [7, 37];
    const x = data(N * C, 5);
    const start = { mean: data(C, 6), var: uniformArray(C, 7, 0.5, 2) };
    const running = { mean: fromArray(start.mean, [C]), var: fromArray(start.var, [C]) };
    batchNorm(fromArray(x, [N, C]), null, null, running, { training: true }).dispose();
    const want = runningStatsRef(x, [N, C], start, 0.1);
    expectClose(await running.mean.toArray(), want.mean, { atol: 1e-6 }, 'running mean');
    expectClose(await running.var.toArray(), want.var, { atol: 1e-6 }, 'running var');
  });

  it('the gradient does not flow into the running statistics', () => {
    const x = parameter(fromArray(data(2 * 3 * 2 * 2, 9), [2, 3, 2, 2]));
    const running = { mean: fromArray([0, 0, 0], [3]), var: fromArray([1, 1, 1], [3]) };
    tidy(() => backward(sum(batchNorm(x, null, null, running, { training: true }))));
    expect(x.grad).not.toBeNull();
    expect(running.mean.grad).toBeNull();
    x.dispose();
  });
});

describe('batch norm errors name the op and the shapes', () => {
  // Made lazily: the GPU exists only once the setup file's beforeAll has run.
  const x = (): Tensor => fromArray(data(2 * 3 * 4, 1), [2, 3, 2, 2]);
  const c3 = (): Tensor => fromArray([1, 1, 1], [3]);
  const c4 = (): Tensor => fromArray([1, 1, 1, 1], [4]);
  it('wrong rank', () => {
    expect(() => batchNorm(fromArray([1, 2, 3], [3]), null, null, null, { training: true }))
      .toThrow('batch_norm: expected an input of rank >= 2 ([N, C] or [N, C, H, W]), got [3]');
  });
  it('per-channel tensors of the wrong shape', () => {
    expect(() => batchNorm(x(), c4(), null, null, { training: true })).toThrow('batch_norm: gamma must have shape [3] (one per channel of input [2,3,2,2]), got [4]');
    expect(() => batchNorm(x(), c3(), fromArray([0, 0, 0], [1, 3]), null, { training: true })).toThrow('batch_norm: beta must have shape [3] (one per channel of input [2,3,2,2]), got [1,3]');
    expect(() => batchNorm(x(), null, null, { mean: c4(), var: c3() }, { training: true })).toThrow('batch_norm: running mean must have shape [3] (one per channel of input [2,3,2,2]), got [4]');
    expect(() => batchNorm(x(), null, null, { mean: c3(), var: c4() }, { training: false })).toThrow('batch_norm: running var must have shape [3]');
  });
  it('eval without running statistics; training with one value per channel', () => {
    expect(() => batchNorm(x(), null, null, null, { training: false })).toThrow('batch_norm: eval mode (training: false) normalizes with running statistics, but none were given (input [2,3,2,2])');
    expect(() => batchNorm(fromArray([1, 2, 3], [1, 3]), null, null, null, { training: true }))
      .toThrow('batch_norm: training needs more than 1 value per channel, got input [1,3] (1 per channel)');
  });
  it('bad eps and momentum', () => {
    expect(() => batchNorm(x(), null, null, null, { training: true, eps: 0 })).toThrow('batch_norm: eps must be a positive finite number, got 0');
    expect(() => batchNorm(x(), null, null, null, { training: true, momentum: 1.5 })).toThrow('batch_norm: momentum must be in [0, 1], got 1.5');
  });
});
