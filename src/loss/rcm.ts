// Rotation Consistent Margin (Wu et al., CVPR 2020). With f_i the frozen full-precision embedding and
// q_i the quantized one of the same image:
//   AQE(i)      = angle(f_i, q_i)                               the sample's quantization error
//   AQE(c_y)    = angle(centre_fp(y), centre_q(y))              the class error (a rotation of class y)
//   theta_Q(i)  = |AQE(i) - AQE(c_{y_i})|                       the individual error
//   loss        = ArcFace with the target margin m + lambda * theta_Q(i), per sample (th/mm per sample)
// Centres are means of L2-normalized features over the batch's samples of the class (default),
// running averages across batches (decay exposed), or the classifier weights (the FP teacher's head
// row against the student's). theta_Q is detached by default (an option lets the gradient flow through
// it into the quantized network).
import { isGradEnabled, noGrad } from '../autograd.ts';
import { runRowAngles } from '../../kernels/normalize.ts';
import { copyInto } from '../nn/module.ts';
import { fromArray } from '../ops/creation.ts';
import { abs, add, atan2, mul, sqrt, sub } from '../ops/elementwise.ts';
import { matmul } from '../ops/matmul.ts';
import { mean, sum } from '../ops/reduce.ts';
import { l2Normalize } from '../ops/softmax.ts';
import { fmt, sameShape, ShapeError } from '../shape.ts';
import { keep, type Tensor } from '../tensor.ts';
import { cosineLogits, marginSoftmaxLoss, type MarginLoss } from './margin.ts';

/** Angles between the rows of a and b ([N, D], any norms) as 2 atan2(|â - b̂|, |â + b̂|): [N].
 *  Accurate for small angles, where acos(â.b̂) loses digits (quantization errors are a few degrees).
 *  Without a gradient to record (RCM detaches theta_Q by default) one fused kernel computes it; with
 *  one, the composition of differentiable ops below. */
export function rowAngles(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== 2 || a.shape.join() !== b.shape.join()) throw new ShapeError(`rowAngles: expected two [N, D] tensors of one shape, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  if (!isGradEnabled() || !(a.requiresGrad || b.requiresGrad)) return runRowAngles(a, b);
  const an = l2Normalize(a, 1);
  const bn = l2Normalize(b, 1);
  const d = sub(an, bn);
  const s = add(an, bn);
  const norm = (t: Tensor): Tensor => sqrt(sum(mul(t, t), 1));
  return mul(atan2(norm(d), norm(s)), 2);
}

export interface RcmOptions {
  /** Logit scale. */
  s: number;
  /** Base additive angular margin (ArcFace's m). */
  m: number;
  /** Weight of the individual error in the margin. */
  lambda: number;
  /** Stop the gradient at theta_Q (default true). */
  detach?: boolean;
  /** Class centres per batch (default), as running averages, or the classifier weights. */
  centres?: 'batch' | 'running' | 'classifier';
  /** Running centres: c <- decay * c + (1 - decay) * batch mean (default 0.9). */
  decay?: number;
}

export interface QuantizationErrors {
  /** Each [N], radians. */
  sample: Tensor;
  classError: Tensor;
  individual: Tensor;
}

/** [N, N] with 1 where samples i and j share a label: sums over it give per-sample class sums. */
function sameClassMatrix(labels: Int32Array): Tensor {
  const n = labels.length;
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[i * n + j] = labels[i] === labels[j] ? 1 : 0;
  return fromArray(data, [n, n]);
}

/** Where the class centres of a batch come from when they are not the batch's own class means. */
export interface CentreSource {
  /** Each sample's FP and quantized class centre, [N, D] each (any norm). */
  centresFor(fn: Tensor, qn: Tensor, labels: Int32Array): { fp: Tensor; quantized: Tensor };
}

/** [N, K] one-hot rows of `labels`: multiplying it into [K, D] gathers each sample's row. */
function oneHotRows(labels: Int32Array, classes: number): Tensor {
  const onehot = new Float32Array(labels.length * classes);
  labels.forEach((y, i) => (onehot[i * classes + y] = 1));
  return fromArray(onehot, [labels.length, classes]);
}

/** The classifier weights as class centres: the FP teacher's head row [C, D] against the student's
 *  (which starts as a copy of it and moves with training). */
export class ClassifierCentres implements CentreSource {
  constructor(readonly teacherHead: Tensor, readonly studentHead: Tensor) {
    if (!sameShape(teacherHead.shape, studentHead.shape)) throw new ShapeError(`RCM classifier centres: the teacher's head is ${fmt(teacherHead.shape)}, the student's ${fmt(studentHead.shape)}`);
  }

  centresFor(_fn: Tensor, _qn: Tensor, labels: Int32Array): { fp: Tensor; quantized: Tensor } {
    const rows = oneHotRows(labels, this.teacherHead.shape[0]!);              // [N, C]
    return { fp: matmul(rows, this.teacherHead), quantized: matmul(rows, this.studentHead) };
  }
}

/** Running class centres of the full-precision and the quantized features: [classes, D] each. */
export class RunningCentres implements CentreSource {
  readonly fp: Tensor;
  readonly quantized: Tensor;
  private readonly seen: Uint8Array;
  constructor(classes: number, dim: number, readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`RCM running centres: decay must be in [0, 1), got ${decay}`);
    this.fp = keep(fromArray(new Float32Array(classes * dim), [classes, dim]));
    this.quantized = keep(fromArray(new Float32Array(classes * dim), [classes, dim]));
    this.seen = new Uint8Array(classes);
  }

  /** Folds the batch means of normalized features into the centres; returns each sample's centres [N, D]. */
  centresFor(fn: Tensor, qn: Tensor, labels: Int32Array): { fp: Tensor; quantized: Tensor } {
    const classes = this.seen.length;
    const counts = new Float32Array(classes);
    for (const y of labels) counts[y]!++;
    // weight of the batch mean: 1 the first time a class is seen, 1 - decay after, 0 when absent
    const weight = new Float32Array(classes);
    for (let k = 0; k < classes; k++) {
      if (counts[k]! > 0) {
        weight[k] = (this.seen[k] ? 1 - this.decay : 1) / counts[k]!;
        this.seen[k] = 1;
      }
    }
    const keepShare = Float32Array.from(weight, (w, k) => (counts[k]! > 0 ? 1 - w * counts[k]! : 1)); // [K]
    const oneHot = oneHotRows(labels, classes);                                 // [N, K]
    const w = fromArray(weight, [classes, 1]);
    const keepT = fromArray(keepShare, [classes, 1]);
    noGrad(() => {
      for (const [centres, features] of [[this.fp, fn], [this.quantized, qn]] as const) {
        const batchSums = matmul(oneHot, features, { transA: true });          // [K, D]
        const next = add(mul(centres, keepT), mul(batchSums, w));              // [K, D]
        copyInto(centres, next);
      }
    });
    return { fp: matmul(oneHot, this.fp), quantized: matmul(oneHot, this.quantized) };
  }

  /** Restores centres saved from `fp` and `quantized` ([classes, D] each); a class was seen iff its
   *  FP centre is non-zero (a mean of unit vectors). */
  async restore(fp: Tensor, quantized: Tensor): Promise<void> {
    if (!sameShape(fp.shape, this.fp.shape) || !sameShape(quantized.shape, this.quantized.shape)) {
      throw new ShapeError(`RCM running centres: the checkpoint holds ${fmt(fp.shape)} and ${fmt(quantized.shape)}, this run needs ${fmt(this.fp.shape)} for both`);
    }
    copyInto(this.fp, fp);
    copyInto(this.quantized, quantized);
    const rows = (await fp.toArray()) as Float32Array;
    const dim = fp.shape[1]!;
    for (let k = 0; k < this.seen.length; k++) this.seen[k] = rows.subarray(k * dim, (k + 1) * dim).some((v) => v !== 0) ? 1 : 0;
  }

  dispose(): void {
    this.fp.dispose();
    this.quantized.dispose();
  }
}

/** AQE, class error and individual error per sample. */
export function quantizationErrors(fp: Tensor, q: Tensor, labels: Int32Array, source?: CentreSource): QuantizationErrors {
  if (fp.shape.length !== 2 || fp.shape.join() !== q.shape.join() || fp.shape[0] !== labels.length) {
    throw new ShapeError(`quantizationErrors: full-precision ${fmt(fp.shape)} and quantized ${fmt(q.shape)} features must be [N, D] with N = ${labels.length} labels`);
  }
  const fn = l2Normalize(fp, 1);
  const qn = l2Normalize(q, 1);
  const sample = rowAngles(fn, qn);                                            // [N]
  let centres: { fp: Tensor; quantized: Tensor };
  if (source) centres = source.centresFor(fn, qn, labels);
  else {
    const same = sameClassMatrix(labels);                                       // [N, N]
    centres = { fp: matmul(same, fn), quantized: matmul(same, qn) };            // [N, D] class sums per sample
  }
  const classError = rowAngles(centres.fp, centres.quantized);                 // [N]
  return { sample, classError, individual: abs(sub(sample, classError)) };
}

export interface RcmStep extends MarginLoss {
  errors: QuantizationErrors;
  /** m + lambda * theta_Q, [N]. */
  margins: Tensor;
}

/**
 * The RCM loss for one batch: fp features from the frozen teacher (no gradient), q from the student,
 * classWeights [C, D] of the cosine classifier, labels both as a tensor and on the CPU.
 */
export function rcmLoss(fp: Tensor, q: Tensor, classWeights: Tensor, labels: Tensor, labelsCpu: Int32Array, o: RcmOptions, source?: CentreSource): RcmStep {
  for (const [name, v] of [['s', o.s], ['m', o.m], ['lambda', o.lambda]] as const) {
    if (!Number.isFinite(v)) throw new RangeError(`rcm: ${name} must be a finite number, got ${v}`);
  }
  const detach = o.detach ?? true;
  const errors = detach ? noGrad(() => quantizationErrors(fp, q, labelsCpu, source)) : quantizationErrors(fp, q, labelsCpu, source);
  const margins = add(mul(errors.individual, o.lambda), o.m);                 // [N]
  const cosines = cosineLogits(q, classWeights);                               // [N, C]
  const { loss, correct } = marginSoftmaxLoss(cosines, labels, { s: o.s, m2: margins });
  return { loss, correct, errors, margins };
}

/** Batch means in degrees of the three errors, as [1] tensors for the log. */
export function errorMetrics(e: QuantizationErrors): Record<string, Tensor> {
  const deg = 180 / Math.PI;
  return noGrad(() => ({
    aqe_deg: mul(mean(e.sample, 0, true), deg),
    class_error_deg: mul(mean(e.classError, 0, true), deg),
    individual_error_deg: mul(mean(e.individual, 0, true), deg),
  }));
}
