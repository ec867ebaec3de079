import { describe, expect, it } from 'vitest';
import { marginLossRef, targetLogitRef } from '../kernels/margin_softmax.ts';
import { crossEntropyRef } from '../kernels/softmax.ts';
import { backward } from '../src/backward.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { mul } from '../src/ops/elementwise.ts';
import { crossEntropy } from '../src/ops/softmax.ts';
import { cosineLogits, marginSoftmaxLoss } from '../src/loss/margin.ts';
import { checkOp } from './check-op.ts';
import { data, numericGrad } from './helpers.ts';

const N = 6;
const C = 9;
const LABELS = [0, 3, 8, 3, 5, 1];
/** Cosines in (-1, 1), one row pushed near +1 and one near -1 so both ArcFace branches run. */
function cosines(seed: number): number[] {
  const v = Array.from(data(N * C, seed), (x) => Math.tanh(x));
  v[0 * C + 0] = 0.999;   // target near cos = 1: theta small
  v[2 * C + 8] = -0.95;   // target far beyond pi - m: the th/mm fall-back
  return v;
}

const VARIANTS = [
  { name: 'ArcFace s=16 m=0.5', h: { s: 16, m1: 1, m3: 0 }, m2: 0.5 },
  { name: 'CosFace s=16 m=0.35', h: { s: 16, m1: 1, m3: 0.35 }, m2: 0 },
  { name: 'combined m1=1.2 m2=0.3 m3=0.1', h: { s: 8, m1: 1.2, m3: 0.1 }, m2: 0.3 },
];

describe('margin softmax cross-entropy', () => {
  for (const v of VARIANTS) {
    it(`${v.name}: forward and gradient vs float64 reference and finite differences`, () =>
      checkOp({
        label: v.name,
        inputs: [{ shape: [N, C], values: cosines(1) }],
        gpu: ([c]) => marginSoftmaxLoss(c!, LABELS, { s: v.h.s, m1: v.h.m1, m2: v.m2, m3: v.h.m3 }).loss,
        ref: ([c]) => [marginLossRef(c!, N, C, LABELS, new Array(N).fill(v.m2), v.h)],
        fwd: { atol: 1e-4, rtol: 1e-5 },
        grad: { atol: 2e-3, rtol: 2e-3 },
        h: 1e-5,
      }));
  }

  it('per-sample margins (RCM): gradients reach both the cosines and the margins', () => {
    const margins = [0.5, 0.1, 0.7, 0.0, 0.3, 0.55];
    const h = { s: 10, m1: 1, m3: 0 };
    return checkOp({
      label: 'per-sample m2',
      inputs: [{ shape: [N, C], values: cosines(2) }, { shape: [N], values: margins }],
      gpu: ([c, m]) => marginSoftmaxLoss(c!, LABELS, { s: h.s, m2: m! }).loss,
      ref: ([c, m]) => [marginLossRef(c!, N, C, LABELS, m!, h)],
      fwd: { atol: 1e-4, rtol: 1e-5 },
      grad: { atol: 2e-3, rtol: 2e-3 },
      h: 1e-5,
    });
  });

  it('is finite at cos = +1 and -1 exactly, with finite gradients (exact away from the clamp)', async () => {
    const values = [1, 0.2, -0.3, -1, 0.5, 0.1];
    const h = { s: 8, m1: 1, m3: 0 };
    const c = parameter(fromArray(values, [2, 3]));
    const loss = marginSoftmaxLoss(c, [0, 0], { s: 8, m2: 0.5 }).loss;
    expect(await loss.item()).toBeCloseTo(marginLossRef(values, 2, 3, [0, 0], [0.5, 0.5], h), 4);
    backward(loss);
    const grad = await c.grad!.toArray();
    expect(Array.from(grad).every(Number.isFinite)).toBe(true);
    const fd = numericGrad((x) => marginLossRef(x[0]!, 2, 3, [0, 0], [0.5, 0.5], h), [Float64Array.from(values)], 0, 1e-6);
    for (const i of [1, 2, 4, 5]) expect(grad[i]).toBeCloseTo(fd[i]!, 3); // the non-target cosines
    c.dispose();
  });

  it('with no margin and s = 1 it is plain cross-entropy', async () => {
    const c = fromArray(cosines(3), [N, C]);
    const a = await marginSoftmaxLoss(c, LABELS, { s: 1 }).loss.item();
    expect(a).toBeCloseTo(crossEntropyRef(cosines(3), N, C, LABELS), 5);
    const b = await crossEntropy(c, LABELS).item();
    expect(a).toBeCloseTo(b, 5);
  });

  it('the target logit follows ArcFace: cos(theta + m) above th, cos - mm below', () => {
    const h = { s: 1, m1: 1, m3: 0 };
    expect(targetLogitRef(0.8, 0.5, h)).toBeCloseTo(Math.cos(Math.acos(0.8) + 0.5), 12);
    const th = Math.cos(Math.PI - 0.5);
    expect(targetLogitRef(th - 0.01, 0.5, h)).toBeCloseTo(th - 0.01 - Math.sin(Math.PI - 0.5) * 0.5, 12);
  });

  it('reports which rows the plain cosine classifies correctly', async () => {
    const c = fromArray([0.9, 0.1, 0.2, 0.3, 0.8, 0.1, 0.5, 0.6, 0.4], [3, 3]);
    const { correct } = marginSoftmaxLoss(c, [0, 2, 1], { s: 30, m2: 0.5 });
    expect(Array.from(await correct.toArray())).toEqual([1, 0, 1]);
  });

  it('cosine logits of normalized embeddings and class weights', () =>
    checkOp({
      label: 'cosine_logits',
      inputs: [{ shape: [4, 5] }, { shape: [7, 5] }],
      gpu: ([e, w]) => mul(cosineLogits(e!, w!), 3),
      ref: ([e, w]) => {
        const out: number[] = [];
        const norm = (v: ArrayLike<number>, i: number): number => Math.hypot(...Array.from({ length: 5 }, (_, k) => v[i * 5 + k]!));
        for (let n = 0; n < 4; n++) for (let c = 0; c < 7; c++) {
          let dot = 0;
          for (let k = 0; k < 5; k++) dot += e![n * 5 + k]! * w![c * 5 + k]!;
          out.push((3 * dot) / (norm(e!, n) * norm(w!, c)));
        }
        return out;
      },
    }));

  it('rejects bad labels and shapes, naming them', () => {
    const c = fromArray(new Float32Array(6), [2, 3]);
    expect(() => marginSoftmaxLoss(c, [0, 3], { s: 1 })).toThrow('margin_softmax: label 3 at index 1 is outside [0, 3) for cosines [2,3]');
    expect(() => marginSoftmaxLoss(c, [0, 1], { s: 1, m2: fromArray([0.1], [1]) })).toThrow('margin_softmax: per-sample margins must be [2], got [1]');
    expect(() => marginSoftmaxLoss(c, [0, 1], { s: NaN })).toThrow('margin_softmax: s must be a finite number, got NaN');
    expect(() => cosineLogits(c, fromArray(new Float32Array(8), [2, 4]))).toThrow(/share D, got \[2,3\] and \[2,4\]/);
  });
});
