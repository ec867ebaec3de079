// The fake-quantization op: its own autograd function with an explicit straight-through backward.
// NOTE: composing it from round() would give zero gradients (round's derivative is zero almost everywhere).
//   y = (clamp(round(x / s) + z, qmin, qmax) - z) * s          (shaders/fake_quant.wgsl)
//   dx = g inside the grid's range (clipped STE) or everywhere (identity STE)
//   ds = gradScale * sum g * (round(u) - u inside, q - z outside)   (LSQ; PACT drops the inside term)
// The zero point is a constant (no gradient).
import { runBinary, runUnary } from '../../kernels/elementwise.ts';
import { runDorefa, runDorefaBackward, runFakeQuant, runFakeQuantBackward, runFakeQuantMinMax, type FakeQuantParams } from '../../kernels/fake_quant.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { record } from '../autograd.ts';
import { checkFloat } from '../ops/elementwise.ts';
import { fmt, sameShape, ShapeError } from '../shape.ts';
import { fill } from '../ops/elementwise.ts';
import { dispose, type Tensor } from '../tensor.ts';

export type { FakeQuantParams, Rounding, Ste } from '../../kernels/fake_quant.ts';
export { quantRange } from '../../kernels/fake_quant.ts';

function checkParams(op: string, x: Tensor, scale: Tensor, zeroPoint: Tensor | null, p: FakeQuantParams): void {
  checkFloat(op, x, scale, ...(zeroPoint ? [zeroPoint] : []));
  if (scale.shape.length !== 1) throw new ShapeError(`${op}: scale must be [1] or [C] (one per channel), got ${fmt(scale.shape)} for input ${fmt(x.shape)}`);
  if (zeroPoint && !sameShape(zeroPoint.shape, scale.shape)) {
    throw new ShapeError(`${op}: zero point ${fmt(zeroPoint.shape)} must match scale ${fmt(scale.shape)} (input ${fmt(x.shape)})`);
  }
  const { qmin, qmax } = p;
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || qmin >= qmax || qmin < -128 || qmax > 255) {
    throw new RangeError(`${op}: the grid [qmin, qmax] = [${qmin}, ${qmax}] must be integers with qmin < qmax within [-128, 255] (2..8 bits), input ${fmt(x.shape)}`);
  }
  if (p.gradScale !== undefined && !(p.gradScale > 0 && Number.isFinite(p.gradScale))) {
    throw new RangeError(`${op}: gradScale must be a positive finite number, got ${p.gradScale} (input ${fmt(x.shape)})`);
  }
}

/**
 * Fake-quantizes x with a per-tensor ([1]) or per-channel ([C] along `p.axis`) scale, optionally with
 * a zero point of the same shape. Differentiable in x (STE) and in the scale (LSQ's gradient).
 */
export function fakeQuantize(x: Tensor, scale: Tensor, zeroPoint: Tensor | null, p: FakeQuantParams): Tensor {
  checkParams('fake_quant', x, scale, zeroPoint, p);
  return recordFakeQuant(runFakeQuant(x, scale, zeroPoint, p), x, scale, zeroPoint, p);
}

/** Records y = fake_quant(x) (however it was computed: runFakeQuant, or a producer's fused epilogue)
 *  with the straight-through backward. */
export function recordFakeQuant(y: Tensor, x: Tensor, scale: Tensor, zeroPoint: Tensor | null, p: FakeQuantParams): Tensor {
  return record(y, 'fake_quant', [x, scale], (g) => {
    const { dx, dscale } = runFakeQuantBackward(x, scale, zeroPoint, g, p);
    const grads: (Tensor | null)[] = [dx, dscale];
    if (!x.requiresGrad) grads[0] = null;
    if (!scale.requiresGrad) grads[1] = null;
    for (const [i, t] of [dx, dscale].entries()) if (!grads[i]) t.dispose();
    return grads;
  });
}

/**
 * Fake-quantizes x with a scale (and zero point) taken from its own per-channel min/max, in one fused
 * dispatch. The range is treated as a constant, as torch's observers do: the gradient of x is the STE's
 * (identity inside the range, which covers every value).
 */
export function fakeQuantizeMinMax(x: Tensor, channels: number, symmetric: boolean, p: FakeQuantParams): { y: Tensor; scale: Tensor; zeroPoint: Tensor } {
  checkFloat('fake_quant_minmax', x);
  const out = runFakeQuantMinMax(x, channels, symmetric, p);
  record(out.y, 'fake_quant_minmax', [x], (g) => [g]);
  return out;
}

/**
 * The same symmetric per-channel min/max quantizer composed from generic kernels (abs, max over each
 * channel, divide by qmax, floor at the smallest scale, fake-quant): five dispatches and four passes
 * over x where the fused kernel takes one dispatch. Kept to measure the fusion against
 * (bench/quant.bench.ts) and to check the fused kernel by a second implementation.
 */
export function fakeQuantizeMinMaxUnfused(x: Tensor, channels: number, p: FakeQuantParams): { y: Tensor; scale: Tensor } {
  checkFloat('fake_quant_minmax_unfused', x);
  const axes = channels > 1 ? x.shape.map((_, i) => i).filter((i) => i !== (p.axis ?? 0)) : undefined;
  const absX = runUnary('abs', x);
  // Unsigned grids spend no level on negative values: their range is the max alone.
  const range = runReduce('max', p.qmin >= 0 ? x : absX, axes, false, 1, 'fake_quant_minmax_unfused');   // [C] or []
  const rangeC = range.view([channels]);                                                                 // [C]
  const scaled = runUnary('affine', rangeC, [channels], 1 / p.qmax, 0);
  const floor = fill([1], 1.1920929e-7);
  const scale = runBinary('maximum', scaled, floor);                                                      // [C]
  const y = runFakeQuant(x, scale, null, p);
  for (const t of [absX, range, rangeC, scaled, floor]) t.dispose();   // freed after the submit that reads them
  record(y, 'fake_quant_minmax_unfused', [x], (g) => [g]);
  return { y, scale };
}

/**
 * DoReFa's weights: y = 2 q s - 1 with q the code of tanh(w) / (2 max|tanh w|) + 1/2 on [0, qmax] and
 * s = 1 / qmax the step ([1]), differentiable in w (identity STE through the rounding; the gradient also
 * flows through the max, shared among tied maxima). Four dispatches forward (tanh, |.|, max, the codes),
 * three backward (kernels/fake_quant.ts runDorefaBackward).
 */
export function dorefaWeights(w: Tensor, s: Tensor, p: Pick<FakeQuantParams, 'qmax' | 'rounding'>): Tensor {
  checkFloat('dorefa', w, s);
  const t = runUnary('tanh', w);                                                       // [...w]
  const absT = runUnary('abs', t);                                                     // [...w]
  const m = runReduce('max', absT, undefined, false, 1, 'dorefa_max');                 // []
  const m1 = m.view([1]);                                                              // [1]
  dispose([absT, m]);
  const y = record(runDorefa(t, m1, s, p), 'dorefa', [w], (g) => [runDorefaBackward(t, m1, g)]);
  if (!y.node) dispose([t, m1]);                                                       // no backward will read them
  return y;
}
