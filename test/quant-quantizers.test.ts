// The quantizer modules: LSQ's initialization and gradient scale, PACT's clipping gradient, DoReFa's
// grid and its straight-through gradient, the min/max and static quantizers.
import { describe, expect, it } from 'vitest';
import { dorefaRef, fakeQuantBackwardRef, fakeQuantMinMaxRef, quantRange } from '../kernels/fake_quant.ts';
import { backward } from '../src/backward.ts';
import { fromArray } from '../src/ops/creation.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';
import type { QuantizerSpec } from '../src/quant/policy.ts';
import { DorefaQuantizer, LsqQuantizer, MinMaxQuantizer, PactQuantizer, StaticQuantizer } from '../src/quant/quantizers.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, tidy, type Tensor } from '../src/tensor.ts';
import { data, expectClose, numericGrad, weightedSum } from './helpers.ts';

const spec = (over: Partial<QuantizerSpec>): QuantizerSpec => ({
  target: 'weight', method: 'lsq', bits: 4, signed: true, symmetric: true, perChannel: true, rounding: 'half-even', ste: 'clipped', ...over,
});

/** Runs q on x (training mode) with sum(q(x) * w) as the loss; returns y and the gradients. */
async function run(q: { forward(x: Tensor): Tensor }, x: Float32Array, shape: Shape, w: Float32Array) {
  const xt = fromArray(x, shape);
  xt.requiresGrad = true;
  const y = tidy(() => {
    const out = q.forward(xt);
    backward(sum(mul(out, fromArray(w, shape))));
    return out;
  });
  const result = { y: await y.toArray(), dx: await xt.grad!.toArray() };
  dispose([xt, y]);
  return result;
}

describe('LSQ', () => {
  it('initializes its steps from the first training batch: 2 mean|x| / sqrt(Qp), per output channel for weights', async () => {
    const shape = [3, 2, 3, 3];
    const x = data(sizeOf(shape), 1, 0.2);
    const q = new LsqQuantizer(spec({}), 3);
    expect(q.initialized).toBe(false);
    await run(q, x, shape, new Float32Array(x.length).fill(1));
    expect(q.initialized).toBe(true);
    const per = x.length / 3;
    const want = [0, 1, 2].map((c) => (2 * x.slice(c * per, (c + 1) * per).reduce((a, v) => a + Math.abs(v), 0)) / per / Math.sqrt(7));
    expectClose(await q.step.toArray(), want, { atol: 1e-7, rtol: 1e-5 }, 'initial steps');
    q.dispose();
  });

  it('the step gradient carries g = 1/sqrt(N Qp): N the elements per channel (weights) or per sample (activations)', async () => {
    for (const [target, shape, channels, N] of [['weight', [4, 5], 4, 5], ['activation', [6, 2, 3, 3], 1, 18]] as const) {
      const q = new LsqQuantizer(spec({ target, perChannel: channels > 1 }), channels);
      const x = data(sizeOf(shape), 2, 1);
      const w = data(x.length, 3);
      await run(q, x, shape, w);   // initializes the step
      q.step.grad?.dispose();
      q.step.grad = null;
      await run(q, x, shape, w);
      const g = 1 / Math.sqrt(N * 7);
      const steps = await q.step.toArray();
      const want = fakeQuantBackwardRef(x, shape, steps, null, w, { ...quantRange(4, true), axis: 0, gradScale: g });
      expectClose(await q.step.grad!.toArray(), want.dscale, { atol: 1e-6, rtol: 1e-4 }, `${target} step grad`);
      q.dispose();
    }
  });

  it('an uninitialized quantizer refuses to run in eval mode, naming itself', () => {
    const q = new LsqQuantizer(spec({ target: 'activation', perChannel: false }), 1);
    q.label = 'layer1.0.conv1.input_quant';
    q.eval();
    const x = fromArray([1, 2], [1, 2]);
    expect(() => q.forward(x)).toThrow('layer1.0.conv1.input_quant: this lsq quantizer has no scale yet (input [1,2]); calibrate it (ptqQuantize, calibrate) or run a training step first');
    x.dispose();
    q.dispose();
  });

  it('setRange sets step = max|range| / qmax', async () => {
    const q = new LsqQuantizer(spec({ perChannel: true }), 2);
    q.setRange([-1.4, -0.2], [0.7, 3.5]);
    expectClose(await q.step.toArray(), [0.2, 0.5], { atol: 1e-7, rtol: 0 }, 'steps');
    q.dispose();
  });
});

describe('PACT', () => {
  it('clips to [-alpha, alpha] on a narrow grid; d/d alpha is the sign of each clipped element', async () => {
    const q = new PactQuantizer(spec({ target: 'activation', method: 'pact', perChannel: false }));
    q.setRange([-0.7], [0.7]);   // alpha = 0.7, step 0.1 on [-7, 7]
    const x = Float32Array.from([-2, -0.71, -0.33, 0, 0.26, 0.69, 0.9, 3]);
    const w = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const { y, dx } = await run(q, x, [1, 8], w);
    expectClose(y, [-0.7, -0.7, -0.3, 0, 0.3, 0.7, 0.7, 0.7], { atol: 1e-6, rtol: 0 }, 'values');
    expect(Array.from(dx)).toEqual([0, 0, 3, 4, 5, 6, 0, 0]);
    expectClose(await q.alpha.grad!.toArray(), [-1 - 2 + 7 + 8], { atol: 1e-5, rtol: 0 }, 'alpha grad');
    q.dispose();
  });
});

describe('DoReFa weights', () => {
  const shape = [4, 3, 3];
  const x = data(sizeOf(shape), 5, 0.5);
  it('2^k levels on [-1, 1]: 2 round((2^k - 1) w_n) / (2^k - 1) - 1, w_n = tanh(w) / (2 max|tanh w|) + 1/2', async () => {
    const q = new DorefaQuantizer(spec({ method: 'dorefa', bits: 3 }));
    const { y } = await run(q, x, shape, new Float32Array(x.length).fill(1));
    const t = Array.from(x, Math.tanh);
    const m = Math.max(...t.map(Math.abs));
    const want = t.map((v) => (2 * Math.round(7 * (v / (2 * m) + 0.5))) / 7 - 1);
    expectClose(y, want, { atol: 1e-6, rtol: 0 }, 'values');
    expect(new Set(Array.from(y, (v) => Math.round(((v + 1) / 2) * 7))).size).toBeLessThanOrEqual(8);
    q.dispose();
  });
  it('its gradient is the finite-difference gradient of the un-rounded surrogate (identity STE through round)', async () => {
    const q = new DorefaQuantizer(spec({ method: 'dorefa', bits: 4 }));
    const w = data(x.length, 6);
    const { dx } = await run(q, x, shape, w);
    const surrogate = ([v]: Float64Array[]): number => {
      const t = Array.from(v!, Math.tanh);
      const m = Math.max(...t.map(Math.abs));
      return weightedSum(t.map((u) => 2 * (u / (2 * m) + 0.5) - 1), w);
    };
    expectClose(dx, numericGrad(surrogate, [Float64Array.from(x)], 0, 1e-6), { atol: 1e-4, rtol: 1e-3 }, 'dx');
    q.dispose();
  });
  it('the fused kernels equal the float64 reference and the composition of generic ops, ties at the max included', async () => {
    const shape = [7, 13, 3, 3];                      // 819 elements: several workgroups, no multiple of 256
    const w = data(sizeOf(shape), 7, 0.3);
    w[5] = 1.5;                                       // two tied maxima of |w| (5 sigma): max's gradient is shared
    w[600] = 1.5;                                     // positive too: WGSL does not promise tanh(-x) = -tanh(x)
    const g = data(w.length, 8);
    const [fused, composed] = [true, false].map((f) => Object.assign(new DorefaQuantizer(spec({ method: 'dorefa', bits: 3 })), { fused: f }));
    const a = await run(fused!, w, shape, g);
    const b = await run(composed!, w, shape, g);
    const want = dorefaRef(w, g, 7);
    expectClose(a.y, want.y, { atol: 1e-6, rtol: 0 }, 'fused y vs reference');
    expectClose(a.dx, want.dw, { atol: 1e-5, rtol: 1e-4 }, 'fused dw vs reference');
    expectClose(a.y, b.y, { atol: 1e-6, rtol: 0 }, 'fused y vs composed');
    expectClose(a.dx, b.dx, { atol: 1e-5, rtol: 1e-4 }, 'fused dw vs composed');
    expect(Math.abs(a.dx[5]! - g[5]! * (1 - Math.tanh(1.5) ** 2) / Math.tanh(1.5)), 'the max term reaches the tied entries').toBeGreaterThan(1e-3);
    fused!.dispose();
    composed!.dispose();
  });
});

describe('min/max and static quantizers', () => {
  it('min/max: the fused per-channel kernel, no state to initialize', async () => {
    const q = new MinMaxQuantizer(spec({ method: 'minmax' }), 3);
    const shape = [3, 7];
    const x = data(21, 8, 0.3);
    expect(q.initialized).toBe(true);
    const { y, dx } = await run(q, x, shape, new Float32Array(21).fill(2));
    expectClose(y, fakeQuantMinMaxRef(x, shape, 3, true, { ...quantRange(4, true), axis: 0 }).y, { atol: 0, rtol: 0 }, 'values');
    expect(Array.from(dx)).toEqual(new Array(21).fill(2));
    q.dispose();
  });

  it('static: a calibrated range sets scale (and zero point) as torch MinMaxObserver does', async () => {
    const sym = new StaticQuantizer(spec({ target: 'activation', method: 'static', perChannel: false }), 1);
    sym.setRange([-1.4], [0.7]);
    expectClose(await sym.scale.toArray(), [0.2], { atol: 1e-7, rtol: 0 }, 'symmetric scale');
    const asym = new StaticQuantizer(spec({ target: 'activation', method: 'static', signed: false, symmetric: false, perChannel: false, bits: 8 }), 1);
    asym.setRange([-1], [3]);
    expectClose(await asym.scale.toArray(), [4 / 255], { atol: 1e-8, rtol: 0 }, 'asymmetric scale');
    expect(Array.from(await asym.zeroPoint.toArray())).toEqual([64]);   // 0 - round(-1 / (4/255)) = 64
    sym.dispose();
    asym.dispose();
  });
});
