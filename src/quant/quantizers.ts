// Quantizers: modules that fake-quantize a weight or an activation, each with its own state names
// ("step", "alpha", "scale", "zero_point", and the counter "initialized") so that they sit beside a
// layer's full-precision parameters in a state dict without renaming them.
//   lsq     learned step size (Esser et al. 2020): weights and activations
//   pact    learned clipping level alpha (Choi et al. 2018): activations
//   dorefa  tanh-normalized weights (Zhou et al. 2016)
//   minmax  scale from the tensor's own per-channel min/max at every call (fused kernel): weights
//   static  fixed scale (and zero point) from calibration: activations (PTQ, deployment)
import { runBinary, runUnary } from '../../kernels/elementwise.ts';
import { minMaxQParamsRef, quantRange } from '../../kernels/fake_quant.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { noGrad } from '../autograd.ts';
import { Layer } from '../nn/layers.ts';
import { copyInto } from '../nn/module.ts';
import { fromArray } from '../ops/creation.ts';
import { abs, affine, div, fill, mul, tanh } from '../ops/elementwise.ts';
import { max } from '../ops/reduce.ts';
import { fmt } from '../shape.ts';
import { tidy, type Tensor } from '../tensor.ts';
import { dorefaWeights, fakeQuantize, fakeQuantizeMinMax, fakeQuantizeMinMaxUnfused, type FakeQuantParams } from './fake-quant.ts';
import type { QuantizerSpec } from './policy.ts';

export type { QuantizerSpec };

/** The fake-quantized tensor with the scale and zero point that made it (export reads them). */
export interface Quantized {
  y: Tensor;
  scale: Tensor;
  zeroPoint: Tensor | null;
  /** How codes map back to values: (q - z) * scale, or DoReFa's 2 * q * scale - 1. */
  dequant: 'affine' | 'dorefa';
}

const MIN_STEP = 1e-8;

export abstract class Quantizer extends Layer {
  /** The dotted path in its model, for messages (set by quantizeModel). */
  label = 'quantizer';
  /** Calibration: when set, forward hands x to it and returns x unquantized. */
  observe: ((x: Tensor) => void) | null = null;

  constructor(readonly spec: QuantizerSpec, readonly channels: number) {
    super();
    if (!this.stateless) this.counters.set('initialized', 0);
  }

  /** Quantizers without state need no initialization (and save no counter). */
  protected get stateless(): boolean {
    return false;
  }

  get initialized(): boolean {
    return this.stateless || this.counters.get('initialized') === 1;
  }

  protected markInitialized(): void {
    this.counters.set('initialized', 1);
  }

  get range(): { qmin: number; qmax: number } {
    return quantRange(this.spec.bits, this.spec.signed, this.spec.narrow);
  }

  protected params(extra: Partial<FakeQuantParams> = {}): FakeQuantParams {
    return { ...this.range, rounding: this.spec.rounding, ste: this.spec.ste, axis: 0, ...extra };
  }

  forward(x: Tensor): Tensor {
    if (this.observe) {
      this.observe(x);
      return x;
    }
    if (!this.initialized) {
      if (!this.training) {
        throw new Error(`${this.label}: this ${this.spec.method} quantizer has no scale yet (input ${fmt(x.shape)}); calibrate it (ptqQuantize, calibrate) or run a training step first`);
      }
      noGrad(() => tidy(() => this.initFrom(x)));
      this.markInitialized();
    }
    return this.quantize(x).y;
  }

  /** The scale and grid with which a producer's kernel may fake-quantize x in its epilogue, bit for
   *  bit as `quantize` would: only once initialized, outside calibration, with one scale, no zero point
   *  and half-to-even rounding (runBatchNormNormalizeFakeQuant). Null: quantize x itself. */
  epilogue(x: Tensor): { scale: Tensor; params: FakeQuantParams } | null {
    if (this.observe || !this.initialized || this.channels !== 1 || (this.spec.rounding ?? 'half-even') !== 'half-even') return null;
    return this.epilogueScale(x);
  }

  protected epilogueScale(_x: Tensor): { scale: Tensor; params: FakeQuantParams } | null {
    return null;
  }

  abstract quantize(x: Tensor): Quantized;
  /** Data-driven initialization from the first training batch (or the weights themselves). */
  protected abstract initFrom(x: Tensor): void;
  /** Sets the scale from a calibrated range per channel (lo[c] <= 0 <= hi[c] not required). */
  abstract setRange(lo: readonly number[], hi: readonly number[]): void;

  /** Elements that share one scale: per channel for weights, per sample for activations (LSQ's N). */
  protected elementsPerScale(x: Tensor): number {
    return this.spec.target === 'weight' ? x.size / this.channels : x.size / Math.max(1, x.shape[0] ?? 1);
  }

  /** mean |x| per scale, times `factor`, floored at MIN_STEP: [channels] (the learned quantizers' init). */
  protected meanAbsTimes(x: Tensor, factor: number): Tensor {
    const perChannel = this.channels > 1;
    const axes = perChannel ? x.shape.map((_, i) => i).slice(1) : undefined;
    const n = perChannel ? x.size / this.channels : x.size;
    const m = runReduce('sum', runUnary('abs', x), axes, false, factor / n);   // [C] or []
    return runBinary('maximum', m.view([m.size]), fill([1], MIN_STEP));          // [C]
  }
}

/** Learned step size. Init: 2 mean|x| / sqrt(Qp) (per channel for weights); gradient scale 1/sqrt(N Qp). */
export class LsqQuantizer extends Quantizer {
  readonly step: Tensor; // [channels]
  constructor(spec: QuantizerSpec, channels: number) {
    super(spec, channels);
    this.step = this.parameter('step', fill([channels], 1));
  }
  quantize(x: Tensor): Quantized {
    return { y: fakeQuantize(x, this.step, null, this.lsqParams(x)), scale: this.step, zeroPoint: null, dequant: 'affine' };
  }
  protected override epilogueScale(x: Tensor): { scale: Tensor; params: FakeQuantParams } {
    return { scale: this.step, params: this.lsqParams(x) };
  }
  private lsqParams(x: Tensor): FakeQuantParams {
    return this.params({ gradScale: 1 / Math.sqrt(this.elementsPerScale(x) * this.range.qmax) });
  }
  protected initFrom(x: Tensor): void {
    copyInto(this.step, this.meanAbsTimes(x, 2 / Math.sqrt(this.range.qmax)));
  }
  setRange(lo: readonly number[], hi: readonly number[]): void {
    const steps = lo.map((l, c) => Math.max(Math.max(-l, hi[c]!) / this.range.qmax, MIN_STEP));
    upload(this.step, steps);
    this.markInitialized();
  }
}

/**
 * PACT: clip to [-alpha, alpha] (signed; a narrow grid, so the clip is symmetric) or [0, alpha], then
 * quantize with step alpha / Qp. d/d alpha is the STE's: the clipped elements' sign, nothing inside.
 * Init: alpha = Qp * LSQ's initial step = 2 mean|x| sqrt(Qp).
 */
export class PactQuantizer extends Quantizer {
  readonly alpha: Tensor; // [1]
  constructor(spec: QuantizerSpec) {
    super({ ...spec, perChannel: false, narrow: spec.signed }, 1);
    this.alpha = this.parameter('alpha', fill([1], 1));
  }
  quantize(x: Tensor): Quantized {
    const { scale, params } = this.epilogueScale();
    return { y: fakeQuantize(x, scale, null, params), scale, zeroPoint: null, dequant: 'affine' };
  }
  /** The step alpha / Qp ([1], differentiable in alpha) and PACT's gradient rule: what a producer's
   *  epilogue needs to fake-quantize x as quantize does. */
  protected override epilogueScale(): { scale: Tensor; params: FakeQuantParams } {
    return { scale: affine(this.alpha, 1 / this.range.qmax, 0), params: this.params({ ste: 'clipped', stepGradInside: false }) };
  }
  protected initFrom(x: Tensor): void {
    copyInto(this.alpha, this.meanAbsTimes(x, 2 * Math.sqrt(this.range.qmax)));
  }
  setRange(lo: readonly number[], hi: readonly number[]): void {
    upload(this.alpha, [Math.max(this.spec.signed ? Math.max(-lo[0]!, hi[0]!) : hi[0]!, MIN_STEP)]);
    this.markInitialized();
  }
}

/**
 * DoReFa weights: w' = tanh(w) / (2 max|tanh(w)|) + 1/2 in [0, 1], quantized to k bits on [0, 1]
 * (identity STE), then mapped to [-1, 1] as 2 w'_q - 1. Stateless; the max spans the whole tensor.
 */
export class DorefaQuantizer extends Quantizer {
  /** false: the composition of generic ops (8 dispatches forward, about 20 backward), for measuring
   *  the fused kernels (bench/quant.bench.ts) and checking them against it. */
  fused = true;
  constructor(spec: QuantizerSpec) {
    super({ ...spec, perChannel: false, signed: false, symmetric: true }, 1);
  }
  protected override get stateless(): boolean {
    return true;
  }
  quantize(w: Tensor): Quantized {
    const scale = fill([1], 1 / this.range.qmax);                       // [1]
    if (this.fused) return { y: dorefaWeights(w, scale, { qmax: this.range.qmax, rounding: this.spec.rounding }), scale, zeroPoint: null, dequant: 'dorefa' };
    const t = tanh(w);
    const normalized = affine(div(t, mul(max(abs(t)), 2)), 1, 0.5);   // [...w], in [0, 1]
    const q01 = fakeQuantize(normalized, scale, null, this.params({ ste: 'identity' }));
    return { y: affine(q01, 2, -1), scale, zeroPoint: null, dequant: 'dorefa' };
  }
  protected initFrom(): void {}
  setRange(): void {
    throw new Error(`${this.label}: DoReFa quantizers take no range (they normalize the weights themselves)`);
  }
}

/** Scale (and zero point) from the tensor's own min/max at every call, per channel: the fused kernel. */
export class MinMaxQuantizer extends Quantizer {
  /** false: the unfused composition of generic kernels (symmetric only), for measuring the fusion. */
  fused = true;
  protected override get stateless(): boolean {
    return true;
  }
  quantize(x: Tensor): Quantized {
    // One scale for the whole tensor: the fused kernel would run it in a single workgroup, while the
    // generic reduction spreads over the device.
    if ((!this.fused || this.channels === 1) && this.spec.symmetric) {
      const out = fakeQuantizeMinMaxUnfused(x, this.channels, this.params());
      return { ...out, zeroPoint: null, dequant: 'affine' };
    }
    const out = fakeQuantizeMinMax(x, this.channels, this.spec.symmetric, this.params());
    if (this.spec.symmetric) out.zeroPoint.dispose();
    return { y: out.y, scale: out.scale, zeroPoint: this.spec.symmetric ? null : out.zeroPoint, dequant: 'affine' };
  }
  protected initFrom(): void {}
  setRange(): void {
    throw new Error(`${this.label}: min/max quantizers measure their range at every call`);
  }
}

/** A fixed scale and zero point: calibrated (PTQ), from the first batch's min/max (QAT), or exported. */
export class StaticQuantizer extends Quantizer {
  readonly scale: Tensor; // [channels]
  readonly zeroPoint: Tensor; // [channels], integers
  constructor(spec: QuantizerSpec, channels: number) {
    super(spec, channels);
    this.scale = this.buffer('scale', fill([channels], 1));
    this.zeroPoint = this.buffer('zero_point', fill([channels], 0));
  }
  quantize(x: Tensor): Quantized {
    const zeroPoint = this.spec.symmetric ? null : this.zeroPoint;
    return { y: fakeQuantize(x, this.scale, zeroPoint, this.params()), scale: this.scale, zeroPoint, dequant: 'affine' };
  }
  protected override epilogueScale(): { scale: Tensor; params: FakeQuantParams } | null {
    return this.spec.symmetric ? { scale: this.scale, params: this.params() } : null;
  }
  protected initFrom(x: Tensor): void {
    const out = fakeQuantizeMinMax(x, this.channels, this.spec.symmetric, this.params());
    copyInto(this.scale, out.scale);
    copyInto(this.zeroPoint, out.zeroPoint);
  }
  setRange(lo: readonly number[], hi: readonly number[]): void {
    const q = lo.map((l, c) => minMaxQParamsRef(l, hi[c]!, this.range.qmin, this.range.qmax, this.spec.symmetric));
    this.setParams(q.map((e) => e.scale), q.map((e) => e.zeroPoint));
  }
  /** Sets the scale and zero point directly (exported models). */
  setParams(scale: readonly number[], zeroPoint: readonly number[]): void {
    upload(this.scale, scale);
    upload(this.zeroPoint, zeroPoint);
    this.markInitialized();
  }
}

function upload(dst: Tensor, values: readonly number[]): void {
  const t = fromArray(values, dst.shape);
  copyInto(dst, t);
  t.dispose();
}

export function makeQuantizer(spec: QuantizerSpec, channels: number): Quantizer {
  const c = spec.perChannel ? channels : 1;
  switch (spec.method) {
    case 'lsq': return new LsqQuantizer(spec, c);
    case 'pact': return new PactQuantizer(spec);
    case 'dorefa': return new DorefaQuantizer(spec);
    case 'minmax': return new MinMaxQuantizer(spec, c);
    case 'static': return new StaticQuantizer(spec, c);
  }
}
