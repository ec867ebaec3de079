// Activation-range calibration for post-training quantization: the model runs in full precision on N
// batches while each activation quantizer watches its input; then each gets a range by one of
//   minmax      the exact min and max seen
//   percentile  the p-th percentile of |x| (symmetric) or the (100-p)-th and p-th of x: clips outliers
//   mse         the clipping level (a fraction of max|x|, 128 candidates) that minimizes the mean squared
//               quantization error on the sample, rounding and clipping together
// Percentile and MSE work on a seeded reservoir sample of each input (exact min/max are kept besides).
import { runUnary } from '../../kernels/elementwise.ts';
import { noGrad } from '../autograd.ts';
import type { Layer } from '../nn/layers.ts';
import { rng } from '../random.ts';
import { keep, tidy, type Tensor } from '../tensor.ts';
import { quantizers } from './model.ts';
import type { Quantizer } from './quantizers.ts';

export type CalibrationMethod = 'minmax' | 'percentile' | 'mse';

export interface CalibrationOptions {
  /** Default 'mse': at 4 bits and below the error-optimal clip of a bell-shaped activation is far
   *  inside its max (about 2.5 sigma for a Gaussian at 4 bits), and at 8 bits it approaches the max. */
  method?: CalibrationMethod;
  /** For 'percentile' (default 99.99). */
  percentile?: number;
  /** Reservoir size per quantizer (default 65536). */
  samples?: number;
  seed?: number;
}

export interface CalibratedRange {
  lo: number;
  hi: number;
  /** The exact extremes seen. */
  min: number;
  max: number;
}

/** Statistics of one quantizer's input over the calibration batches. */
export class RangeObserver {
  min = Infinity;
  max = -Infinity;
  private seen = 0;
  private readonly sample: Float64Array;
  private filled = 0;
  private readonly next: () => number;

  constructor(capacity = 65536, seed = 0) {
    this.sample = new Float64Array(capacity);
    this.next = rng(seed);
  }

  update(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      // Reservoir sampling (Algorithm R): every value seen has the same chance to be in the sample.
      if (this.filled < this.sample.length) this.sample[this.filled++] = v;
      else {
        const j = Math.floor(this.next() * (this.seen + 1));
        if (j < this.sample.length) this.sample[j] = v;
      }
      this.seen++;
    }
  }

  values(): Float64Array {
    return this.sample.subarray(0, this.filled);
  }

  /** The range to quantize [lo, hi] for a grid [qmin, qmax]; symmetric grids get lo = -hi (or 0). */
  range(method: CalibrationMethod, qmin: number, qmax: number, symmetric: boolean, percentile = 99.99): CalibratedRange {
    if (this.seen === 0) throw new Error('RangeObserver: no values observed');
    const unsigned = qmin >= 0;
    const extremes = { min: this.min, max: this.max };
    const finish = (lo: number, hi: number): CalibratedRange => ({ lo: Math.min(lo, 0), hi: Math.max(hi, 0), ...extremes });
    if (method === 'minmax') return symmetric && !unsigned ? finish(-this.absMax(), this.absMax()) : finish(this.min, this.max);
    const xs = this.values();
    if (method === 'percentile') {
      if (!(percentile > 50 && percentile <= 100)) throw new RangeError(`calibrate: percentile must be in (50, 100], got ${percentile}`);
      if (symmetric && !unsigned) {
        const c = quantile(Float64Array.from(xs, Math.abs), percentile / 100);
        return finish(-c, c);
      }
      const sorted = Float64Array.from(xs).sort();
      return finish(unsigned ? 0 : quantileSorted(sorted, 1 - percentile / 100), quantileSorted(sorted, percentile / 100));
    }
    // mse: shrink the full range by a common factor k/128, keep the best.
    const [lo0, hi0] = symmetric && !unsigned ? [-this.absMax(), this.absMax()] : [Math.min(this.min, 0), Math.max(this.max, 0)];
    let best = { err: Infinity, lo: lo0, hi: hi0 };
    for (let k = 128; k >= 8; k--) {
      const [lo, hi] = [(lo0 * k) / 128, (hi0 * k) / 128];
      const err = quantizationMse(xs, lo, hi, qmin, qmax, symmetric);
      if (err < best.err) best = { err, lo, hi };
    }
    return finish(best.lo, best.hi);
  }

  private absMax(): number {
    return Math.max(-this.min, this.max);
  }
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  return i + 1 < sorted.length ? sorted[i]! + (at - i) * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
}

export function quantile(values: Float64Array, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

/** Mean squared error of fake-quantizing xs to the grid [qmin, qmax] spanning [lo, hi] (float64). */
export function quantizationMse(xs: ArrayLike<number>, lo: number, hi: number, qmin: number, qmax: number, symmetric: boolean): number {
  const unsigned = qmin >= 0;
  const scale = symmetric ? (unsigned ? hi : Math.max(-lo, hi)) / qmax : (hi - lo) / (qmax - qmin);
  if (!(scale > 0)) return Infinity;
  const z = symmetric ? 0 : Math.min(Math.max(qmin - Math.round(lo / scale), qmin), qmax);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    const q = Math.min(Math.max(Math.round(xs[i]! / scale) + z, qmin), qmax);
    const d = (q - z) * scale - xs[i]!;
    sum += d * d;
  }
  return sum / xs.length;
}

/**
 * Runs `model` in eval mode and full precision on `batches`, then sets the range of every activation
 * quantizer by `opts.method`. Weight quantizers need no data (min/max per channel, or learned).
 */
export async function calibrate(model: Layer, batches: Iterable<Tensor>, opts: CalibrationOptions = {}): Promise<Map<string, CalibratedRange>> {
  const method = opts.method ?? 'mse';
  const targets = quantizers(model).filter(([, q]) => q.spec.target === 'activation');
  const observers = new Map<Quantizer, RangeObserver>(targets.map(([, q], i) => [q, new RangeObserver(opts.samples ?? 65536, (opts.seed ?? 0) + i)]));
  const wasTraining = model.training;
  model.eval();
  let batchCount = 0;
  try {
    for (const x of batches) {
      const captured: [Quantizer, Tensor][] = [];
      for (const [, q] of targets) q.observe = (t) => captured.push([q, keep(runUnary('copy', t))]);
      tidy(() => {
        noGrad(() => model.forward(x));
      });
      for (const [q, t] of captured) {
        observers.get(q)!.update(await t.toFloat32());
        t.dispose();
      }
      batchCount++;
    }
  } finally {
    for (const [, q] of targets) q.observe = null;
    model.train(wasTraining);
  }
  if (batchCount === 0) throw new Error('calibrate: no calibration batches were given');
  const ranges = new Map<string, CalibratedRange>();
  for (const [name, q] of targets) {
    const r = observers.get(q)!.range(method, q.range.qmin, q.range.qmax, q.spec.symmetric, opts.percentile);
    q.setRange([r.lo], [r.hi]);
    ranges.set(name, r);
  }
  return ranges;
}
