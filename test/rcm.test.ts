import { describe, expect, it } from 'vitest';
import { marginLossRef } from '../kernels/margin_softmax.ts';
import { backward } from '../src/backward.ts';
import { quantizationError } from '../src/eval/angles.ts';
import { cosineLogits, marginSoftmaxLoss } from '../src/loss/margin.ts';
import { ClassifierCentres, quantizationErrors, rcmLoss, rowAngles, RunningCentres } from '../src/loss/rcm.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { dispose, tidy } from '../src/tensor.ts';
import { data, expectClose, numericGrad } from './helpers.ts';

const rows = (flat: ArrayLike<number>, d: number): Float64Array[] =>
  Array.from({ length: flat.length / d }, (_, i) => Float64Array.from(Array.from(flat).slice(i * d, (i + 1) * d)));

/** 2-D features of 3 classes around distinct directions. */
function features(): { fp: number[]; labels: Int32Array } {
  const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 1, 2, 2]);
  const fp: number[] = [];
  labels.forEach((y, i) => {
    const a = y * 2.1 + 0.15 * Math.sin(3 * i);
    fp.push(Math.cos(a) * (1 + 0.1 * i), Math.sin(a) * (1 + 0.1 * i));
  });
  return { fp, labels };
}

const rotate = (v: number[], labels: Int32Array, angleOf: (y: number) => number): number[] =>
  v.flatMap((_, i) => (i % 2 === 0 ? [i / 2] : [])).flatMap((i) => {
    const a = angleOf(labels[i]!);
    const [x, y] = [v[2 * i]!, v[2 * i + 1]!];
    return [x * Math.cos(a) - y * Math.sin(a), x * Math.sin(a) + y * Math.cos(a)];
  });

describe('quantization errors (AQE, class error, individual error)', () => {
  it('match the CPU reference on hand-built features', async () => {
    const { fp, labels } = features();
    const q = Array.from(data(fp.length, 3, 0.2), (n, i) => fp[i]! + n);
    const ref = quantizationError(rows(fp, 2), rows(q, 2), labels);
    const e = quantizationErrors(fromArray(fp, [9, 2]), fromArray(q, [9, 2]), labels);
    expectClose(await e.sample.toArray(), ref.sampleError, { atol: 2e-6, rtol: 1e-4 }, 'AQE');
    expectClose(await e.classError.toArray(), Array.from(labels, (y) => ref.classError.get(y)!), { atol: 2e-6, rtol: 1e-4 }, 'class error');
    expectClose(await e.individual.toArray(), ref.individualError, { atol: 2e-6, rtol: 1e-4 }, 'individual error');
  });

  it('rotating each class rigidly gives individual errors of 0 and class errors of the rotation', async () => {
    const { fp, labels } = features();
    const angle = (y: number): number => [0.3, -0.1, 0.05][y]!;
    const e = quantizationErrors(fromArray(fp, [9, 2]), fromArray(rotate(fp, labels, angle), [9, 2]), labels);
    expectClose(await e.classError.toArray(), Array.from(labels, (y) => Math.abs(angle(y))), { atol: 2e-6 }, 'class error');
    expectClose(await e.individual.toArray(), new Array(9).fill(0), { atol: 2e-6 }, 'individual error');
  });

  it('scattering symmetrically without rotation gives class errors near 0', async () => {
    const { fp, labels } = features();
    // Opposite small rotations within each class: the centre direction barely moves.
    const sign = [1, -1, 0, 1, -1, 1, -1, 1, -1];
    const q = fp.flatMap((_, k) => (k % 2 ? [] : [k / 2])).flatMap((i) => rotate([fp[2 * i]!, fp[2 * i + 1]!], Int32Array.of(0), () => 0.2 * sign[i]!));
    const e = quantizationErrors(fromArray(fp, [9, 2]), fromArray(q, [9, 2]), labels);
    const classErr = await e.classError.toArray();
    const sample = await e.sample.toArray();
    expect(Math.max(...classErr)).toBeLessThan(0.03);
    expect(Math.min(...Array.from(sample).filter((_, i) => sign[i] !== 0))).toBeGreaterThan(0.19);
  });

  it('rowAngles: the fused kernel (no gradient) agrees with the differentiable composition', async () => {
    for (const [n, d] of [[1, 3], [5, 64], [3, 130]]) {
      const [av, bv] = [data(n * d, 11 + n), data(n * d, 12 + d)];
      const fused = await rowAngles(fromArray(av, [n, d]), fromArray(bv, [n, d])).toArray();
      const composed = tidy(() => rowAngles(parameter(fromArray(av, [n, d])), fromArray(bv, [n, d])));
      expectClose(fused, await composed.toArray(), { atol: 2e-6, rtol: 1e-5 }, `[${n}, ${d}]`);
    }
  });

  it('rowAngles is accurate for tiny angles (where acos loses digits)', async () => {
    const a = fromArray([1, 0, 0, 1], [2, 2]);
    const b = fromArray([Math.cos(1e-4), Math.sin(1e-4), -Math.sin(3e-3), Math.cos(3e-3)], [2, 2]);
    expectClose(await rowAngles(a, b).toArray(), [1e-4, 3e-3], { atol: 2e-7, rtol: 1e-3 }, 'angles');
  });

  it('running centres: the first batch sets them, later batches blend with the decay', async () => {
    const running = new RunningCentres(3, 2, 0.75);
    const labels = Int32Array.from([0, 0, 2]);
    const f1 = fromArray([1, 0, 1, 0, 0, 1], [3, 2]);
    const q1 = fromArray([0, 1, 0, 1, 0, 1], [3, 2]);
    tidy(() => running.centresFor(f1, q1, labels));
    expectClose(await running.fp.toArray(), [1, 0, 0, 0, 0, 1], {}, 'after one batch');
    tidy(() => running.centresFor(fromArray([0, 1, 0, 1, 1, 0], [3, 2]), q1, labels));
    expectClose(await running.fp.toArray(), [0.75, 0.25, 0, 0, 0.25, 0.75], {}, 'after two');
    running.dispose();
  });

  it('classifier centres: the class error is the angle between the teacher\'s and the student\'s head rows', async () => {
    const { fp, labels } = features();
    const q = Array.from(data(fp.length, 5, 0.2), (n, i) => fp[i]! + n);
    const teacherHead = [1, 0, 0, 1, -1, 0];                                   // [3, 2]
    const turn = [0.2, 0, -0.4];                                               // student head row y turned by turn[y]
    const studentHead = rotate(teacherHead, Int32Array.of(0, 1, 2), (y) => turn[y]!);
    const source = new ClassifierCentres(fromArray(teacherHead, [3, 2]), fromArray(studentHead, [3, 2]));
    const e = quantizationErrors(fromArray(fp, [9, 2]), fromArray(q, [9, 2]), labels, source);
    expectClose(await e.classError.toArray(), Array.from(labels, (y) => Math.abs(turn[y]!)), { atol: 2e-6 }, 'class error');
    const sample = await e.sample.toArray();
    expectClose(await e.individual.toArray(), Array.from(labels, (y, i) => Math.abs(sample[i]! - Math.abs(turn[y]!))), { atol: 2e-6 }, 'individual error');
    expect(() => new ClassifierCentres(fromArray(teacherHead, [3, 2]), fromArray([1, 0], [1, 2]))).toThrow(/teacher's head is \[3,2\], the student's \[1,2\]/);
  });
});

/** Float64 reference of the RCM loss: margins from `marginQ` (the detached point) or from q itself. */
function rcmRef(fp: number[], q: ArrayLike<number>, w: ArrayLike<number>, labels: Int32Array, d: number, classes: number, o: { s: number; m: number; lambda: number }, marginQ?: ArrayLike<number>): number {
  const n = labels.length;
  const err = quantizationError(rows(fp, d), rows(marginQ ?? q, d), labels);
  const margins = Array.from(err.individualError, (t) => o.m + o.lambda * t);
  const norm = (v: ArrayLike<number>, i: number): number => Math.hypot(...Array.from({ length: d }, (_, k) => v[i * d + k]!));
  const cos: number[] = [];
  for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += q[i * d + k]! * w[c * d + k]!;
    cos.push(dot / (norm(q, i) * norm(w, c)));
  }
  return marginLossRef(cos, n, classes, labels, margins, { s: o.s, m1: 1, m3: 0 });
}

describe('the RCM loss', () => {
  const d = 4;
  const classes = 3;
  const labels = Int32Array.from([0, 0, 1, 1, 1, 2]);
  const fp = Array.from(data(6 * d, 11));
  const q0 = Array.from(data(6 * d, 12, 0.3), (v, i) => fp[i]! + v);
  const w0 = Array.from(data(classes * d, 13));
  const o = { s: 8, m: 0.3, lambda: 0.7 };

  it('with lambda = 0 equals ArcFace exactly', async () => {
    const f = fromArray(fp, [6, d]);
    const q = fromArray(q0, [6, d]);
    const w = fromArray(w0, [classes, d]);
    const lt = fromArray(labels, [6]);
    const rcm = await rcmLoss(f, q, w, lt, labels, { ...o, lambda: 0 }).loss.item();
    const arc = await marginSoftmaxLoss(cosineLogits(q, w), lt, { s: o.s, m2: o.m }).loss.item();
    expect(rcm).toBe(arc);
  });

  for (const detach of [true, false]) {
    it(`gradients to the student features and the class weights match finite differences (${detach ? 'theta_Q detached' : 'gradient through theta_Q'})`, async () => {
      const q = parameter(fromArray(q0, [6, d]));
      const w = parameter(fromArray(w0, [classes, d]));
      const loss = tidy(() => {
        const l = rcmLoss(fromArray(fp, [6, d]), q, w, fromArray(labels, [6]), labels, { ...o, detach }).loss;
        backward(l);
        return l;
      });
      expect(await loss.item()).toBeCloseTo(rcmRef(fp, q0, w0, labels, d, classes, o), 4);
      const x = [Float64Array.from(q0), Float64Array.from(w0)];
      const f = (v: Float64Array[]): number => rcmRef(fp, v[0]!, v[1]!, labels, d, classes, o, detach ? q0 : undefined);
      expectClose(await q.grad!.toArray(), numericGrad(f, x, 0, 1e-5), { atol: 2e-3, rtol: 2e-3 }, 'dq');
      expectClose(await w.grad!.toArray(), numericGrad(f, x, 1, 1e-5), { atol: 2e-3, rtol: 2e-3 }, 'dw');
      dispose([q, w, loss]);
    });
  }

  it('detaching matters: the two gradients differ', async () => {
    const grads: Float32Array[] = [];
    for (const detach of [true, false]) {
      const q = parameter(fromArray(q0, [6, d]));
      tidy(() => backward(rcmLoss(fromArray(fp, [6, d]), q, fromArray(w0, [classes, d]), fromArray(labels, [6]), labels, { ...o, detach }).loss));
      grads.push((await q.grad!.toArray()) as Float32Array);
      q.dispose();
    }
    expect(Math.max(...grads[0]!.map((v, i) => Math.abs(v - grads[1]![i]!)))).toBeGreaterThan(1e-3);
  });
});
