import { describe, expect, it } from 'vitest';
import { adamRef } from '../kernels/adam.ts';
import { clipGradNormRef } from '../kernels/grad_norm.ts';
import { sgdRef } from '../kernels/sgd.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { Adam, AdamW } from '../src/optim/adam.ts';
import { clipGradNorm } from '../src/optim/clip.ts';
import { decayMatricesOnly } from '../src/optim/optimizer.ts';
import { learningRate } from '../src/optim/schedule.ts';
import { SGD } from '../src/optim/sgd.ts';
import { dispose, keep } from '../src/tensor.ts';
import { data, expectClose } from './helpers.ts';

const W0 = [0.5, -1, 2, 0.25, -0.75];
const gradAt = (step: number): number[] => [0.1 * step + 0.3, -0.2, 0.05, 1, -step];

describe('SGD', () => {
  it('the fused kernel matches torch.optim.SGD rules (momentum, dampening, weight decay, Nesterov) over 3 steps', async () => {
    for (const hyper of [
      { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true },
      { lr: 0.2, momentum: 0.5, dampening: 0.3, weightDecay: 0, nesterov: false },
      { lr: 0.3, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
    ]) {
      const w = parameter(fromArray(W0, [5]));
      const opt = new SGD([w], { ...hyper, decayIf: () => true });
      const ref = Float64Array.from(W0);
      const buf = new Float64Array(5);
      for (let step = 0; step < 3; step++) {
        w.grad = keep(fromArray(gradAt(step), [5]));
        opt.step();
        opt.zeroGrad();
        sgdRef(ref, gradAt(step), buf, hyper, step === 0);
      }
      expectClose(await w.toArray(), ref, { atol: 1e-6, rtol: 1e-6 }, JSON.stringify(hyper));
      opt.dispose();
      w.dispose();
    }
  });

  it('vec4 and scalar kernels, over more elements than one pass of the looping workgroups covers', async () => {
    const hyper = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false };
    for (const n of [5000, 1027, 4]) { // 5000 and 4: vec4; 1027: scalar; 16 workgroups x 64 lanes < 1250
      const w0 = data(n, 1);
      const w = parameter(fromArray(w0, [n]));
      const opt = new SGD([w], { ...hyper, decayIf: () => true });
      const ref = Float64Array.from(w0);
      const buf = new Float64Array(n);
      for (let step = 0; step < 3; step++) {
        const g = data(n, 10 + step);
        w.grad = keep(fromArray(g, [n]));
        opt.step();
        opt.zeroGrad();
        sgdRef(ref, g, buf, hyper, step === 0);
      }
      expectClose(await w.toArray(), ref, { atol: 1e-5, rtol: 1e-5 }, `n=${n}`);
      opt.dispose();
      w.dispose();
    }
  });

  it('many parameters: SGD_SLOTS per dispatch where sizes are multiples of 4, the rest alone; decay per parameter', async () => {
    // 9 vec4-sized parameters (one group of 5, 4 left alone), 2 scalar-sized; 5000 > 16 workgroups x 64 x 4
    const shapes = [[8, 3, 3, 3], [5000], [16], [4], [37, 4], [64, 20], [12], [3, 4], [7], [2, 3, 3], [4, 4]];
    const hyper = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0.1, nesterov: true };
    const size = (s: number[]): number => s.reduce((a, b) => a * b);
    const params = shapes.map((s, i) => parameter(fromArray(data(size(s), 40 + i), s)));
    const opt = new SGD(params, hyper); // decays rank >= 2 only: both kinds in one group
    const refs = params.map((_, i) => Float64Array.from(data(size(shapes[i]!), 40 + i)));
    const bufs = shapes.map((s) => new Float64Array(size(s)));
    for (let step = 0; step < 3; step++) {
      params.forEach((p, i) => {
        const g = data(size(shapes[i]!), 100 * step + i);
        p.grad = keep(fromArray(g, shapes[i]!));
        sgdRef(refs[i]!, g, bufs[i]!, { ...hyper, weightDecay: shapes[i]!.length >= 2 ? hyper.weightDecay : 0 }, step === 0);
      });
      opt.step();
      opt.zeroGrad();
    }
    for (const [i, p] of params.entries()) expectClose(await p.toArray(), refs[i]!, { atol: 1e-5, rtol: 1e-5 }, `parameter ${i} ${JSON.stringify(shapes[i])}`);
    opt.dispose();
    dispose(params);
  });

  it('decays only rank >= 2 weights by default (not BN parameters, biases, PReLU slopes)', async () => {
    const matrix = parameter(fromArray([1, 1, 1, 1], [2, 2]));
    const bias = parameter(fromArray([1, 1], [2]));
    const opt = new SGD([matrix, bias], { lr: 0.5, weightDecay: 0.1 });
    matrix.grad = keep(fromArray([0, 0, 0, 0], [2, 2]));
    bias.grad = keep(fromArray([0, 0], [2]));
    opt.step();
    expect(Array.from(await matrix.toArray())).toEqual([0.95, 0.95, 0.95, 0.95].map(Math.fround));
    expect(Array.from(await bias.toArray())).toEqual([1, 1]);
    expect(decayMatricesOnly(bias)).toBe(false);
    opt.dispose();
    dispose([matrix, bias]);
  });
});

it('parameters with the same name keep separate state (every module names its parameter "weight")', async () => {
  const a = parameter(fromArray([1, 1], [2]), 'weight');
  const b = parameter(fromArray([1, 1], [2]), 'weight');
  const opt = new SGD([a, b], { lr: 1, momentum: 0.5 });
  for (let step = 0; step < 2; step++) {
    a.grad = keep(fromArray([1, 1], [2]));
    b.grad = keep(fromArray([-1, -1], [2]));
    opt.step();
    opt.zeroGrad();
  }
  // momentum buffers: a: 1 then 1.5 -> 1 - 1 - 1.5; b mirrors it
  expect(Array.from(await a.toArray())).toEqual([-1.5, -1.5]);
  expect(Array.from(await b.toArray())).toEqual([3.5, 3.5]);
  expect(opt.state().size).toBe(2);
  opt.dispose();
  dispose([a, b]);
});

describe('Adam and AdamW', () => {
  for (const [name, Ctor, decoupled] of [['Adam', Adam, false], ['AdamW', AdamW, true]] as const) {
    it(`${name} matches the torch rules over 4 steps (bias correction, ${decoupled ? 'decoupled' : 'L2'} decay)`, async () => {
      const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05, decoupled };
      const w = parameter(fromArray(W0, [5]));
      const opt = new Ctor([w], { lr: hyper.lr, betas: [hyper.beta1, hyper.beta2], eps: hyper.eps, weightDecay: hyper.weightDecay, decayIf: () => true });
      const ref = Float64Array.from(W0);
      const m = new Float64Array(5);
      const v = new Float64Array(5);
      for (let step = 1; step <= 4; step++) {
        w.grad = keep(fromArray(gradAt(step), [5]));
        opt.step();
        opt.zeroGrad();
        adamRef(ref, gradAt(step), m, v, hyper, step);
      }
      expectClose(await w.toArray(), ref, { atol: 1e-6, rtol: 1e-5 }, name);
      expect([...opt.state().keys()].sort()).toEqual(['0.exp_avg', '0.exp_avg_sq']);
      expectClose(await opt.state().get('0.exp_avg')!.toArray(), m, { atol: 1e-6, rtol: 1e-5 }, `${name} m`);
      opt.dispose();
      w.dispose();
    });
  }
});

describe('learning-rate schedules', () => {
  it('linear warm-up then cosine to minLr', () => {
    const o = { baseLr: 0.1, warmupSteps: 10, schedule: { kind: 'cosine', totalSteps: 110, minLr: 0.001 } } as const;
    expect(learningRate(0, o)).toBeCloseTo(0.01);
    expect(learningRate(9, o)).toBeCloseTo(0.1);
    expect(learningRate(10, o)).toBeCloseTo(0.1);
    expect(learningRate(60, o)).toBeCloseTo(0.001 + 0.5 * 0.099);
    expect(learningRate(110, o)).toBeCloseTo(0.001);
    expect(learningRate(500, o)).toBeCloseTo(0.001);
  });

  it('step and multi-step decay', () => {
    expect(learningRate(25, { baseLr: 1, schedule: { kind: 'step', every: 10, gamma: 0.5 } })).toBe(0.25);
    const ms = { baseLr: 0.1, schedule: { kind: 'multistep', milestones: [5, 8], gamma: 0.1 } } as const;
    expect([4, 5, 7, 8, 20].map((s) => learningRate(s, ms))).toEqual([0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1]);
  });
});

describe('gradient clipping by global norm', () => {
  it('scales all gradients by maxNorm / norm when the norm is above it, and leaves them otherwise', async () => {
    const a = parameter(fromArray([1, 2], [2]));
    const b = parameter(fromArray([3], [1]));
    a.grad = keep(fromArray([3, 0], [2]));
    b.grad = keep(fromArray([4], [1]));   // global norm 5
    const norm = clipGradNorm([a, b], 1);
    expect(await norm.item()).toBeCloseTo(5, 5);
    expectClose(await a.grad!.toArray(), [0.6, 0], { atol: 1e-6 }, 'a');
    expectClose(await b.grad!.toArray(), [0.8], { atol: 1e-6 }, 'b');
    const again = clipGradNorm([a, b], 10);
    expect(await again.item()).toBeCloseTo(1, 5);
    expectClose(await b.grad!.toArray(), [0.8], { atol: 1e-6 }, 'b unchanged under a larger bound');
    expect(() => clipGradNorm([a], 0)).toThrow('clipGradNorm: maxNorm must be > 0, got 0');
    dispose([a, b, norm, again]);
  });

  it('matches the float64 reference over many gradients (vec4 and scalar sizes, longer than a workgroup pass)', async () => {
    const shapes = [[37, 3, 3, 3], [1027], [16], [5000], [3]];
    const grads = shapes.map((s, i) => data(s.reduce((x, y) => x * y), 20 + i, 0.05));
    const params = shapes.map((s) => parameter(fromArray(new Float32Array(s.reduce((x, y) => x * y)), s)));
    params.forEach((p, i) => { p.grad = keep(fromArray(grads[i]!, shapes[i]!)); });
    const want = clipGradNormRef(grads, 1);
    expect(want.norm).toBeGreaterThan(1); // so the gradients are scaled
    const norm = clipGradNorm(params, 1);
    expect(await norm.item()).toBeCloseTo(want.norm, 4);
    for (const [i, p] of params.entries()) expectClose(await p.grad!.toArray(), want.scaled[i]!, { atol: 1e-6, rtol: 1e-5 }, `gradient ${i}`);
    dispose([...params, norm]);
  });

  it('many gradients: the multi-gradient kernels (15 and 7 per dispatch) and single ones for the rest', async () => {
    // 17 vec4-sized gradients (one group of 15 for the sums, two of 7 for the scaling) and 3 others
    const shapes = [...Array.from({ length: 17 }, (_, i) => [4 * (i + 1), i % 3 + 1]), [5000], [7], [3, 3], [1027]];
    const size = (sh: number[]): number => sh.reduce((a, b) => a * b);
    const grads = shapes.map((sh, i) => data(size(sh), 60 + i, 0.1));
    const params = shapes.map((sh) => parameter(fromArray(new Float32Array(size(sh)), sh)));
    params.forEach((p, i) => { p.grad = keep(fromArray(grads[i]!, shapes[i]!)); });
    const want = clipGradNormRef(grads, 2);
    expect(want.norm).toBeGreaterThan(2);
    const norm = clipGradNorm(params, 2);
    expect(await norm.item()).toBeCloseTo(want.norm, 4);
    for (const [i, p] of params.entries()) expectClose(await p.grad!.toArray(), want.scaled[i]!, { atol: 1e-6, rtol: 1e-5 }, `gradient ${i}`);
    dispose([...params, norm]);
  });

  it('no gradients: norm 0', async () => {
    const a = parameter(fromArray([1, 2], [2]));
    const norm = clipGradNorm([a], 1);
    expect(await norm.item()).toBe(0);
    dispose([a, norm]);
  });
});
