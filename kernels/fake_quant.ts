// Fake quantization (shaders/fake_quant.wgsl): dispatch, cost, and the CPU references. The references
// follow the shader's float32 arithmetic step by step (Math.fround after each operation), so tests can
// ask for exact codes, not just close values.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, ShapeError, sizeOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';
import { elementwiseGrid } from './elementwise.ts';
import { runReduce } from './reduce.ts';

/** Lanes of a grid-stride workgroup, as the shader's WG (elementwiseGrid counts workgroups of it). */
const WG = 256;

export type Rounding = 'half-even' | 'half-away';
export type Ste = 'clipped' | 'identity';

/** How one tensor is quantized: the integer grid [qmin, qmax] and the kernel's choices. */
export interface FakeQuantParams {
  qmin: number;
  qmax: number;
  /** Half to even (torch.round, WGSL round; the default) or half away from zero. */
  rounding?: Rounding;
  /** Gradient of x: 'clipped' (zero outside the grid's range; the default) or 'identity'. */
  ste?: Ste;
  /** The channel axis of a per-channel scale (ignored for a per-tensor scale of one element). */
  axis?: number;
  /** LSQ's g: multiplies the scale's gradient (default 1). */
  gradScale?: number;
  /** LSQ: the scale's gradient inside the range is round(u) - u (default); PACT: 0. */
  stepGradInside?: boolean;
}

/** [N, C, S] around the channel axis; C = 1 when one scale covers the tensor. */
export interface QuantView {
  N: number;
  C: number;
  S: number;
}

export function quantView(shape: Shape, channels: number, axis = 0, op = 'fake_quant'): QuantView {
  const n = sizeOf(shape);
  if (channels === 1) return { N: 1, C: 1, S: n };
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) throw new ShapeError(`${op}: channel axis ${axis} is out of range for ${fmt(shape)}`);
  if (shape[axis] !== channels) throw new ShapeError(`${op}: ${channels} scales for axis ${axis} of ${fmt(shape)} (size ${shape[axis]}); give one per channel or one for the tensor`);
  return { N: sizeOf(shape.slice(0, axis)), C: channels, S: sizeOf(shape.slice(axis + 1)) };
}

function uniforms(v: QuantView, p: FakeQuantParams): Uniforms {
  return new Uniforms().u32(v.N, v.C, v.S, v.N * v.C * v.S).f32(p.qmin, p.qmax, p.gradScale ?? 1, 0);
}

function constants(p: FakeQuantParams, zeroPoint: Tensor | null): Record<string, number> {
  return {
    ROUND_HALF_AWAY: p.rounding === 'half-away' ? 1 : 0,
    HAS_ZERO_POINT: zeroPoint ? 1 : 0,
    CLIPPED_STE: (p.ste ?? 'clipped') === 'clipped' ? 1 : 0,
    STEP_GRAD_INSIDE: p.stepGradInside === false ? 0 : 1,
  };
}

/** y = fake_quant(x) with scale [C] (and zero point [C]); C = 1 for one scale. */
export function runFakeQuant(x: Tensor, scale: Tensor, zeroPoint: Tensor | null, p: FakeQuantParams): Tensor {
  const v = quantView(x.shape, scale.size, p.axis);
  const y = Tensor.empty(x.shape, 'fake_quant');
  const perChannel = v.C > 1;
  launch({
    name: 'fake_quant', shader: 'fake_quant', entry: perChannel ? 'fq_forward_channel' : 'fq_forward_tensor', constants: constants(p, zeroPoint),
    uniforms: uniforms(v, p), inputs: [x, scale, zeroPoint ?? scale], outputs: [y],
    workgroups: perChannel ? grid1d(v.C) : elementwiseGrid(x.size),
    flops: 6 * x.size, bytes: 8 * x.size + 8 * v.C,
  });
  return y;
}

/** dx and the scale's gradient ([C], already times gradScale) from the upstream gradient g. */
export function runFakeQuantBackward(x: Tensor, scale: Tensor, zeroPoint: Tensor | null, g: Tensor, p: FakeQuantParams): { dx: Tensor; dscale: Tensor } {
  const v = quantView(x.shape, scale.size, p.axis);
  const dx = Tensor.empty(x.shape, 'fake_quant_backward');
  const common = { shader: 'fake_quant', constants: constants(p, zeroPoint), uniforms: uniforms(v, p), flops: 10 * x.size, bytes: 12 * x.size + 8 * v.C };
  if (v.C > 1) {
    const dscale = Tensor.empty(scale.shape, 'fake_quant_backward');   // [C]
    launch({ ...common, name: 'fake_quant_backward', entry: 'fq_backward_channel', inputs: [x, scale, zeroPoint ?? scale, g], outputs: [dx, dscale], workgroups: grid1d(v.C) });
    return { dx, dscale };
  }
  // One scale: each lane of the grid-stride walk leaves a partial sum, a reduction adds them.
  const workgroups = elementwiseGrid(x.size);
  const partial = Tensor.empty([workgroups[0] * workgroups[1] * WG], 'fake_quant_backward partial');   // [lanes]
  launch({ ...common, name: 'fake_quant_backward', entry: 'fq_backward_tensor', inputs: [x, scale, zeroPoint ?? scale, g], outputs: [dx, partial], workgroups });
  const dscale = runReduce('sum', partial, undefined, true, p.gradScale ?? 1, 'fake_quant_backward_sum');   // [1]
  partial.dispose();
  return { dx, dscale };
}

/**
 * The fused min/max quantizer: per channel (C = scale count along `axis`, 1 for the whole tensor),
 * range -> scale (and zero point) -> fake-quantized values, in one dispatch. Returns the scale and zero
 * point it chose ([C] each; zero point 0 when symmetric).
 */
export function runFakeQuantMinMax(x: Tensor, channels: number, symmetric: boolean, p: FakeQuantParams): { y: Tensor; scale: Tensor; zeroPoint: Tensor } {
  const v = quantView(x.shape, channels, p.axis, 'fake_quant_minmax');
  const y = Tensor.empty(x.shape, 'fake_quant_minmax');
  const scale = Tensor.empty([v.C], 'fake_quant_minmax');       // [C]
  const zeroPoint = Tensor.empty([v.C], 'fake_quant_minmax');   // [C]
  launch({
    name: 'fake_quant_minmax', shader: 'fake_quant', entry: 'fq_minmax_channel',
    constants: { ROUND_HALF_AWAY: p.rounding === 'half-away' ? 1 : 0, SYMMETRIC: symmetric ? 1 : 0 },
    uniforms: uniforms(v, p), inputs: [x], outputs: [y, scale, zeroPoint], workgroups: grid1d(v.C),
    flops: 8 * x.size, bytes: 12 * x.size + 8 * v.C,
  });
  return { y, scale, zeroPoint };
}

/** DoReFa's weights on [-1, 1] from t = tanh(w) and m = max|t| ([1]), on the grid [0, qmax] with step
 *  s = 1 / qmax ([1]) (shaders/fake_quant.wgsl dorefa_forward). */
export function runDorefa(t: Tensor, m: Tensor, s: Tensor, p: Pick<FakeQuantParams, 'qmax' | 'rounding'>): Tensor {
  const y = Tensor.empty(t.shape, 'dorefa');   // [...t]
  launch({
    name: 'dorefa', shader: 'fake_quant', entry: 'dorefa_forward', constants: { ROUND_HALF_AWAY: p.rounding === 'half-away' ? 1 : 0 },
    uniforms: uniforms({ N: 1, C: 1, S: t.size }, { qmin: 0, ...p }), inputs: [t, m, s], outputs: [y],
    workgroups: elementwiseGrid(t.size), flops: 6 * t.size, bytes: 8 * t.size,
  });
  return y;
}

/** dw of DoReFa's weights from t = tanh(w), m = max|t| ([1]) and the upstream gradient g: two grid-stride
 *  passes (the sums of g t and of the tied maxima, then dw) and the reduction between them. */
export function runDorefaBackward(t: Tensor, m: Tensor, g: Tensor): Tensor {
  const u = (): Uniforms => uniforms({ N: 1, C: 1, S: t.size }, { qmin: 0, qmax: 1 });
  const workgroups = elementwiseGrid(t.size);
  const partial = Tensor.empty([workgroups[0] * workgroups[1] * WG, 2], 'dorefa_backward partial');   // [lanes, 2]
  launch({ name: 'dorefa_backward_sums', shader: 'fake_quant', entry: 'dorefa_backward_sums', uniforms: u(), inputs: [t, m, g], outputs: [partial], workgroups, flops: 3 * t.size, bytes: 8 * t.size });
  const sums = runReduce('sum', partial, 0, false, 1, 'dorefa_backward_sum');   // [2]: sum g t, ties
  partial.dispose();
  const dw = Tensor.empty(t.shape, 'dorefa_backward');   // [...t]
  launch({ name: 'dorefa_backward', shader: 'fake_quant', entry: 'dorefa_backward', uniforms: u(), inputs: [t, m, g, sums], outputs: [dw], workgroups, flops: 8 * t.size, bytes: 12 * t.size });
  sums.dispose();
  return dw;
}

// ---- CPU references ------------------------------------------------------------------------------

const f = Math.fround;

export function roundHalfEven(u: number): number {
  const r = Math.round(u);                                  // half up
  return r - u === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function roundHalfAway(u: number): number {
  return Math.sign(u) * Math.round(Math.abs(u));
}

export const roundBy = (rule: Rounding = 'half-even'): ((u: number) => number) => (rule === 'half-away' ? roundHalfAway : roundHalfEven);

/** The integer grid: signed [-2^(b-1), 2^(b-1) - 1] (narrow: from -2^(b-1) + 1), unsigned [0, 2^b - 1]. */
export function quantRange(bits: number, signed: boolean, narrow = false): { qmin: number; qmax: number } {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new RangeError(`quantRange: bits must be an integer in 2..8, got ${bits}`);
  if (!signed) return { qmin: 0, qmax: 2 ** bits - 1 };
  return { qmin: -(2 ** (bits - 1)) + (narrow ? 1 : 0), qmax: 2 ** (bits - 1) - 1 };
}

interface RefElement {
  u: number;
  r: number;
  q: number;
  inside: boolean;
}

function refCode(x: number, s: number, z: number, p: FakeQuantParams): RefElement {
  const u = f(x * f(1 / s));
  const r = roundBy(p.rounding)(u);
  const v = f(u + z);
  return { u, r, q: Math.min(Math.max(r + z, p.qmin), p.qmax), inside: v >= p.qmin && v <= p.qmax };
}

function channelAt(i: number, v: QuantView): number {
  return v.C === 1 ? 0 : Math.floor(i / v.S) % v.C;
}

/** y = fake_quant(x), as the shader computes it. */
export function fakeQuantRef(x: ArrayLike<number>, shape: Shape, scale: ArrayLike<number>, zeroPoint: ArrayLike<number> | null, p: FakeQuantParams): Float64Array {
  const v = quantView(shape, scale.length, p.axis);
  return Float64Array.from(x, (xi, i) => {
    const c = channelAt(i, v);
    const s = f(scale[c]!);
    const z = zeroPoint ? zeroPoint[c]! : 0;
    return f((refCode(f(xi), s, z, p).q - z) * s);
  });
}

/** The integer codes q of fake_quant(x). */
export function fakeQuantCodesRef(x: ArrayLike<number>, shape: Shape, scale: ArrayLike<number>, zeroPoint: ArrayLike<number> | null, p: FakeQuantParams): Int32Array {
  const v = quantView(shape, scale.length, p.axis);
  return Int32Array.from(x as ArrayLike<number>, (xi, i) => {
    const c = channelAt(i, v);
    return refCode(f(xi), f(scale[c]!), zeroPoint ? zeroPoint[c]! : 0, p).q;
  });
}

/** dx and dscale (times gradScale) of fake_quant given the upstream gradient g (float64 sums). */
export function fakeQuantBackwardRef(x: ArrayLike<number>, shape: Shape, scale: ArrayLike<number>, zeroPoint: ArrayLike<number> | null, g: ArrayLike<number>, p: FakeQuantParams): { dx: Float64Array; dscale: Float64Array } {
  const v = quantView(shape, scale.length, p.axis);
  const dx = new Float64Array(x.length);
  const dscale = new Float64Array(scale.length);
  for (let i = 0; i < x.length; i++) {
    const c = channelAt(i, v);
    const z = zeroPoint ? zeroPoint[c]! : 0;
    const k = refCode(f(x[i]!), f(scale[c]!), z, p);
    dx[i] = k.inside || p.ste === 'identity' ? g[i]! : 0;
    const ds = k.inside ? (p.stepGradInside === false ? 0 : k.r - k.u) : k.q - z;
    dscale[c] = dscale[c]! + g[i]! * ds;
  }
  for (let c = 0; c < dscale.length; c++) dscale[c] = dscale[c]! * (p.gradScale ?? 1);
  return { dx, dscale };
}

const MIN_SCALE = 1.1920929e-7;

/** Scale and zero point of a min/max range, as fq_minmax_channel computes them (range widened to 0). */
export function minMaxQParamsRef(lo: number, hi: number, qmin: number, qmax: number, symmetric: boolean): { scale: number; zeroPoint: number } {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  if (symmetric) {
    const amax = qmin >= 0 ? hi : Math.max(-lo, hi);
    return { scale: Math.max(f(amax / qmax), MIN_SCALE), zeroPoint: 0 };
  }
  const scale = Math.max(f(f(hi - lo) / (qmax - qmin)), MIN_SCALE);
  return { scale, zeroPoint: Math.min(Math.max(qmin - roundHalfEven(f(lo / scale)), qmin), qmax) };
}

/** The per-channel min/max quantizer: scales, zero points and values. */
export function fakeQuantMinMaxRef(x: ArrayLike<number>, shape: Shape, channels: number, symmetric: boolean, p: FakeQuantParams): { y: Float64Array; scale: Float64Array; zeroPoint: Float64Array } {
  const v = quantView(shape, channels, p.axis);
  const lo = new Float64Array(v.C).fill(0);
  const hi = new Float64Array(v.C).fill(0);
  for (let i = 0; i < x.length; i++) {
    const c = channelAt(i, v);
    lo[c] = Math.min(lo[c]!, f(x[i]!));
    hi[c] = Math.max(hi[c]!, f(x[i]!));
  }
  const q = Array.from({ length: v.C }, (_, c) => minMaxQParamsRef(lo[c]!, hi[c]!, p.qmin, p.qmax, symmetric));
  const scale = Float64Array.from(q, (e) => e.scale);
  const zeroPoint = Float64Array.from(q, (e) => e.zeroPoint);
  return { y: fakeQuantRef(x, shape, scale, zeroPoint, p), scale, zeroPoint };
}

/** DoReFa's weights and their gradient (identity STE; max's gradient shared among ties), float64. */
export function dorefaRef(w: ArrayLike<number>, g: ArrayLike<number>, qmax: number): { y: Float64Array; dw: Float64Array } {
  const t = Float64Array.from(w, Math.tanh);
  const m = Math.max(...t.map(Math.abs));
  const ties = t.filter((v) => Math.abs(v) === m).length;
  let dot = 0;
  t.forEach((v, i) => (dot += g[i]! * v));
  return {
    y: t.map((v) => (2 * roundHalfEven((v / (2 * m) + 0.5) * qmax)) / qmax - 1),
    dw: t.map((v, i) => (1 - v * v) * (g[i]! / m - (Math.abs(v) === m ? (Math.sign(v) * dot) / (m * m * ties) : 0))),
  };
}
