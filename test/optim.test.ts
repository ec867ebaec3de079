import { describe, expect, it } from 'vitest';
import { adamRef } from '../kernels/adam.ts';
import { sgdRef } from '../kernels/sgd.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { Adam, AdamW } from '../src/optim/adam.ts';
import { clipGradNorm } from '../src/optim/clip.ts';
import { decayMatricesOnly } from '../src/optim/optimizer.ts';
import { learningRate } from '../src/optim/schedule.ts';
import { SGD } from '../src/optim/sgd.ts';
import { dispose, keep } from '../src/tensor.ts';
import { expectClose } from './helpers.ts';

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
});
