// The fake-quant kernels against their CPU references (exact codes), the grid, per-channel scales, the
// rounding rule, the straight-through gradients and LSQ's step gradient.
import { describe, expect, it } from 'vitest';
import { fakeQuantBackwardRef, fakeQuantMinMaxRef, fakeQuantRef, quantRange, type FakeQuantParams } from '../kernels/fake_quant.ts';
import { backward } from '../src/backward.ts';
import { fromArray } from '../src/ops/creation.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';
import { fakeQuantize, fakeQuantizeMinMax, fakeQuantizeMinMaxUnfused } from '../src/quant/fake-quant.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, tidy, type Tensor } from '../src/tensor.ts';
import { data, expectClose } from './helpers.ts';

const f = Math.fround;
/** NOTE: whether a negative value that rounds to 0 comes back as -0 or +0 is the shader compiler's
 *  choice ((r + z) - z with z = 0 may fold to r); both compare equal, toEqual tells them apart. */
const plusZero = (y: ArrayLike<number>): number[] => Array.from(y, (v) => v + 0);

/** Exact equality, except where the reference's x/s sits within a few ulps of a rounding boundary:
 *  there a GPU whose 1/s differs in the last bit may pick the neighbouring code (lavapipe does not). */
function expectSameCodes(got: ArrayLike<number>, want: ArrayLike<number>, x: ArrayLike<number>, scaleOf: (i: number) => number, label: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) continue;
    const u = x[i]! / scaleOf(i);
    const nearTie = Math.abs(Math.abs(u - Math.trunc(u)) - 0.5) < 1e-5 * Math.max(1, Math.abs(u));
    expect(nearTie, `${label}: element ${i}: got ${got[i]}, want ${want[i]} (x ${x[i]}, x/s ${u})`).toBe(true);
  }
}

interface Case {
  shape: Shape;
  channels: number;
  axis?: number;
  bits: number;
  signed: boolean;
  zeroPoint?: boolean;
}

// Odd sizes, batch 1, per-tensor sizes over several grid-stride workgroups, per-channel along axis 0
// (weights) and axis 1 (activations), 2 to 8 bits, with and without a zero point.
const CASES: Case[] = [
  { shape: [1, 7, 5, 3], channels: 1, bits: 4, signed: true },
  { shape: [9001], channels: 1, bits: 8, signed: true },
  { shape: [3, 37], channels: 1, bits: 2, signed: true },
  { shape: [70001], channels: 1, bits: 3, signed: false, zeroPoint: true },
  { shape: [5, 3, 3, 3], channels: 5, axis: 0, bits: 4, signed: true },
  { shape: [7, 11], channels: 7, axis: 0, bits: 6, signed: true },
  { shape: [2, 5, 3, 3], channels: 5, axis: 1, bits: 5, signed: false, zeroPoint: true },
  { shape: [1, 3, 1, 1], channels: 3, axis: 1, bits: 7, signed: true },
];

function caseData(c: Case, seed: number) {
  const C = c.channels;
  const x = data(sizeOf(c.shape), seed, 1.5);
  const scale = Float32Array.from({ length: C }, (_, i) => f(0.05 + 0.11 * i + 0.013 * seed));
  const { qmin, qmax } = quantRange(c.bits, c.signed);
  const zeroPoint = c.zeroPoint ? Float32Array.from({ length: C }, (_, i) => Math.round(qmin + (qmax - qmin) * (0.3 + 0.1 * (i % 4)))) : null;
  return { x, scale, zeroPoint, qmin, qmax };
}

describe('fake quantization kernels', () => {
  for (const c of CASES) {
    for (const rounding of ['half-even', 'half-away'] as const) {
      it(`forward and backward match the reference: ${JSON.stringify(c)} ${rounding}`, async () => {
        const { x, scale, zeroPoint, qmin, qmax } = caseData(c, 3);
        const p: FakeQuantParams = { qmin, qmax, rounding, axis: c.axis, gradScale: 0.37 };
        const g = data(x.length, 9);
        const [xt, st] = [fromArray(x, c.shape), fromArray(scale, [c.channels])];
        const zt = zeroPoint ? fromArray(zeroPoint, [c.channels]) : null;
        xt.requiresGrad = true;
        st.requiresGrad = true;
        const y = tidy(() => {
          const out = fakeQuantize(xt, st, zt, p);
          backward(sum(mul(out, fromArray(g, c.shape))));
          return out;
        });
        const per = c.channels === 1 ? x.length : sizeOf(c.shape.slice((c.axis ?? 0) + 1));
        const scaleOf = (i: number): number => scale[c.channels === 1 ? 0 : Math.floor(i / per) % c.channels]!;
        expectSameCodes(await y.toArray(), fakeQuantRef(x, c.shape, scale, zeroPoint, p), x, scaleOf, 'forward');
        const want = fakeQuantBackwardRef(x, c.shape, scale, zeroPoint, g, p);
        expectClose(await xt.grad!.toArray(), want.dx, { atol: 0, rtol: 0 }, 'dx');
        expectClose(await st.grad!.toArray(), want.dscale, { atol: 1e-4, rtol: 1e-4 }, 'dscale');
        dispose([xt, st, zt, y]);
      });
    }
  }

  it('the fused min/max quantizer matches its reference (per channel and per tensor, with and without zero point)', async () => {
    for (const [shape, channels, symmetric, signed] of [[[6, 3, 3, 3], 6, true, true], [[5, 17], 5, false, true], [[301], 1, true, false], [[4, 9], 4, false, false]] as const) {
      const x = data(sizeOf(shape), 11, 0.2);
      const p = { ...quantRange(4, signed) };
      const out = fakeQuantizeMinMax(fromArray(x, shape), channels, symmetric, p);
      const want = fakeQuantMinMaxRef(x, shape, channels, symmetric, p);
      expectClose(await out.scale.toArray(), want.scale, { atol: 0, rtol: 1e-7 }, 'scale');
      expect(Array.from(await out.zeroPoint.toArray())).toEqual(Array.from(want.zeroPoint));
      const scale = await out.scale.toArray();
      expectSameCodes(await out.y.toArray(), want.y, x, (i) => scale[Math.floor(i / (x.length / channels))]!, `minmax ${shape}`);
      dispose(out);
    }
  });

  it('the fused min/max quantizer agrees with its unfused composition (five generic kernels)', async () => {
    for (const [shape, channels, signed] of [[[6, 5, 3, 3], 6, true], [[9, 13], 9, false], [[257], 1, true]] as const) {
      const x = fromArray(data(sizeOf(shape), 12, 0.3), shape);
      const p = { ...quantRange(3, signed), axis: 0 };
      const fused = fakeQuantizeMinMax(x, channels, true, p);
      const unfused = fakeQuantizeMinMaxUnfused(x, channels, p);
      // The scale is max / qmax in one kernel and max * (1 / qmax) in the other: one ulp apart at most.
      expectClose(await unfused.scale.toArray(), await fused.scale.toArray(), { atol: 0, rtol: 2e-7 }, 'scale');
      const xs = await x.toArray();
      const codes = async (o: { y: Tensor; scale: Tensor }): Promise<number[]> => {
        const [y, s] = [await o.y.toArray(), await o.scale.toArray()];
        return Array.from(y, (v, i) => Math.round(v / s[Math.floor(i / (y.length / channels))]!));
      };
      const scale = await fused.scale.toArray();
      expectSameCodes(await codes(unfused), await codes(fused), xs, (i) => scale[Math.floor(i / (xs.length / channels))]!, `unfused ${shape}`);
      dispose([x, fused, unfused]);
    }
  });

  it('an all-zero channel gets the smallest scale and stays zero', async () => {
    const out = fakeQuantizeMinMax(fromArray([0, 0, 0, 1, -2, 3], [2, 3]), 2, true, quantRange(4, true));
    expect(Array.from(await out.scale.toArray())).toEqual([f(1.1920929e-7), f(3 / 7)]);
    expect(Array.from((await out.y.toArray()).slice(0, 3))).toEqual([0, 0, 0]);
    dispose(out);
  });
});

describe('the grid', () => {
  it('fake-quantized values lie exactly on the grid (q - z) * s with q in [qmin, qmax]', async () => {
    for (const [bits, signed, zp] of [[2, true, 0], [3, true, 0], [4, false, 5], [8, true, -3], [8, false, 128]] as const) {
      const { qmin, qmax } = quantRange(bits, signed);
      const s = f(0.0731);
      const x = data(4099, bits, 4);
      const y = await fakeQuantize(fromArray(x, [4099]), fromArray([s], [1]), zp ? fromArray([zp], [1]) : null, { qmin, qmax }).toArray();
      const codes = new Set<number>();
      const offGrid: string[] = [];
      for (let i = 0; i < y.length; i++) {
        const k = Math.round(y[i]! / s);
        if (f(k * s) !== y[i] || k + zp < qmin || k + zp > qmax) offGrid.push(`element ${i} = ${y[i]} (code ${k + zp})`);
        codes.add(k + zp);
      }
      expect(offGrid, `bits ${bits}`).toEqual([]);
      expect([Math.min(...codes), Math.max(...codes)]).toEqual([qmin, qmax]);   // wide data reaches both ends
    }
  });

  it('per-channel scales: each channel on its own grid, clipped at its own range', async () => {
    const scales = [0.01, 0.1, 1];
    // [3, 4]: channel c holds 0.3 and 30 in units of its scale, and their negatives.
    const x = scales.flatMap((s) => [0.3 * s, -0.3 * s, 30 * s, -30 * s]);
    const y = await fakeQuantize(fromArray(x, [3, 4]), fromArray(scales, [3]), null, { ...quantRange(4, true), axis: 0 }).toArray();
    const want = scales.flatMap((s) => [0, 0, 7 * f(s), -8 * f(s)]).map(f);
    expect(plusZero(y)).toEqual(want);
  });

  it('signed, unsigned and narrow grids', () => {
    expect(quantRange(4, true)).toEqual({ qmin: -8, qmax: 7 });
    expect(quantRange(4, false)).toEqual({ qmin: 0, qmax: 15 });
    expect(quantRange(4, true, true)).toEqual({ qmin: -7, qmax: 7 });
    expect(quantRange(2, true)).toEqual({ qmin: -2, qmax: 1 });
    expect(quantRange(8, false)).toEqual({ qmin: 0, qmax: 255 });
    expect(() => quantRange(9, true)).toThrow('bits must be an integer in 2..8, got 9');
  });
});

describe('rounding rule', () => {
  const halves = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997, -0.49999997];
  it('half to even by default, as torch.round and torch.fake_quantize_per_tensor_affine', async () => {
    // torch.fake_quantize_per_tensor_affine(torch.tensor(halves), 1.0, 0, -128, 127)
    const y = await fakeQuantize(fromArray(halves, [9]), fromArray([1], [1]), null, { qmin: -128, qmax: 127 }).toArray();
    expect(plusZero(y)).toEqual([-2, -2, 0, 0, 2, 2, 4, 0, 0]);
  });
  it('half away from zero as an option (0.49999997 still rounds to 0)', async () => {
    const y = await fakeQuantize(fromArray(halves, [9]), fromArray([1], [1]), null, { qmin: -128, qmax: 127, rounding: 'half-away' }).toArray();
    expect(plusZero(y)).toEqual([-3, -2, -1, 1, 2, 3, 4, 0, 0]);
  });
  it('ties are ties of x / s: scale 0.5 and the zero point added after rounding (torch order)', async () => {
    const x = [0.25, 0.75, -0.25, 1.25];   // x / s = 0.5, 1.5, -0.5, 2.5
    const y = await fakeQuantize(fromArray(x, [4]), fromArray([0.5], [1]), fromArray([3], [1]), { qmin: 0, qmax: 15 }).toArray();
    expect(Array.from(y)).toEqual([0, 1, 0, 1]);   // codes 3, 5, 3, 5: round(u) + 3
  });
});

describe('straight-through gradients', () => {
  // 4-bit signed, s = 0.1: the range is u in [-8, 7], x in [-0.8, 0.7].
  const x = [-2, -0.81, -0.8, -0.33, 0, 0.26, 0.7, 0.71, 5];
  const g = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  async function gradOfX(ste: 'clipped' | 'identity'): Promise<number[]> {
    const xt = fromArray(x, [9]);
    xt.requiresGrad = true;
    tidy(() => backward(sum(mul(fakeQuantize(xt, fromArray([0.1], [1]), null, { ...quantRange(4, true), ste }), fromArray(g, [9])))));
    const out = Array.from(await xt.grad!.toArray());
    xt.dispose();
    return out;
  }
  it('identity: the upstream gradient everywhere', async () => {
    expect(await gradOfX('identity')).toEqual(g);
  });
  it('clipped: the upstream gradient inside the range, zero outside', async () => {
    expect(await gradOfX('clipped')).toEqual([0, 0, 3, 4, 5, 6, 7, 0, 0]);
  });
});

describe('LSQ step gradient', () => {
  // LSQ (Esser et al. 2020, eq. 3): dy/ds = -u + round(u) inside, qmin - z or qmax - z outside; times g.
  const formula = (x: number[], s: number, qmin: number, qmax: number): number =>
    x.reduce((acc, xi) => {
      const u = f(xi * f(1 / s));
      return acc + (u < qmin ? qmin : u > qmax ? qmax : Math.round(u) - u);   // no exact halves in this data
    }, 0);

  it('equals its formula, with the gradient scale 1/sqrt(N Qp)', async () => {
    const x = Array.from(data(5003, 21, 1));
    const { qmin, qmax } = quantRange(3, true);
    const gradScale = 1 / Math.sqrt(x.length * qmax);
    const s = fromArray([0.3], [1]);
    s.requiresGrad = true;
    tidy(() => backward(sum(fakeQuantize(fromArray(x, [5003]), s, null, { qmin, qmax, gradScale }))));
    expectClose(await s.grad!.toArray(), [formula(x, f(0.3), qmin, qmax) * gradScale], { atol: 1e-6, rtol: 1e-4 }, 'step grad');
    s.dispose();
  });

  it('equals central finite differences of the reference where it is differentiable (saturated inputs)', async () => {
    // Outside the range y = qmax s (or qmin s): smooth in s, and LSQ's gradient is its true derivative.
    const x = [3, -4, 2.5, 10, -2.2];
    const { qmin, qmax } = quantRange(4, true);
    const y = (s: number): number => x.reduce((acc, xi) => acc + Math.min(Math.max(Math.round(xi / s), qmin), qmax) * s, 0);
    const h = 1e-4;
    const fd = (y(0.2 + h) - y(0.2 - h)) / (2 * h);
    const s = fromArray([0.2], [1]);
    s.requiresGrad = true;
    tidy(() => backward(sum(fakeQuantize(fromArray(x, [5]), s, null, { qmin, qmax }))));
    expectClose(await s.grad!.toArray(), [fd], { atol: 1e-4, rtol: 1e-4 }, 'step grad vs finite differences');
    s.dispose();
  });

  it('equals finite differences of the straight-through surrogate inside the range', async () => {
    // The STE treats round(u) - u as a constant c: y = s (u + c), u = x / s, whose d/ds is round(u) - u.
    const x = [0.13, -0.41, 0.27, 0.06, -0.33];
    const s0 = 0.1;
    const c = x.map((xi) => Math.round(xi / s0) - xi / s0);
    const surrogate = (s: number): number => x.reduce((acc, xi, i) => acc + s * (xi / s + c[i]!), 0);
    const h = 1e-6;
    const fd = (surrogate(s0 + h) - surrogate(s0 - h)) / (2 * h);
    const s = fromArray([s0], [1]);
    s.requiresGrad = true;
    tidy(() => backward(sum(fakeQuantize(fromArray(x, [5]), s, null, quantRange(4, true)))));
    expectClose(await s.grad!.toArray(), [fd], { atol: 1e-5, rtol: 1e-4 }, 'step grad vs surrogate');
    s.dispose();
  });

  it('PACT mode (no inside term) keeps only the clipped elements', async () => {
    const s = fromArray([0.1], [1]);
    s.requiresGrad = true;
    tidy(() => backward(sum(fakeQuantize(fromArray([-2, -0.33, 0.26, 5], [4]), s, null, { ...quantRange(4, true, true), stepGradInside: false }))));
    expect(Array.from(await s.grad!.toArray())).toEqual([-7 + 7]);   // one element at -7, one at +7
    s.dispose();
  });
});

describe('errors name the op, the shapes and the values', () => {
  it('scale and zero point shapes, the grid, the gradient scale', () => {
    const x = fromArray(new Float32Array(24), [2, 3, 4]);
    expect(() => fakeQuantize(x, fromArray([1, 1], [2]), null, { qmin: -8, qmax: 7, axis: 1 }))
      .toThrow('fake_quant: 2 scales for axis 1 of [2,3,4] (size 3); give one per channel or one for the tensor');
    expect(() => fakeQuantize(x, fromArray([1, 1, 1], [1, 3]), null, { qmin: -8, qmax: 7 }))
      .toThrow('fake_quant: scale must be [1] or [C] (one per channel), got [1,3] for input [2,3,4]');
    expect(() => fakeQuantize(x, fromArray([1], [1]), fromArray([0, 0], [2]), { qmin: -8, qmax: 7 }))
      .toThrow('fake_quant: zero point [2] must match scale [1] (input [2,3,4])');
    expect(() => fakeQuantize(x, fromArray([1], [1]), null, { qmin: 7, qmax: -8 }))
      .toThrow('fake_quant: the grid [qmin, qmax] = [7, -8] must be integers with qmin < qmax within [-128, 255] (2..8 bits), input [2,3,4]');
    expect(() => fakeQuantize(x, fromArray([1], [1]), null, { qmin: -8, qmax: 7, gradScale: 0 }))
      .toThrow('fake_quant: gradScale must be a positive finite number, got 0 (input [2,3,4])');
    x.dispose();
  });
});
