// The angular-margin family on normalized features: a cosine classifier and the fused
// margin-softmax cross-entropy (ArcFace cos(theta+m), CosFace cos(theta)-m, combined cos(m1 theta+m2)-m3).
import { runMarginBackward, runMarginForward } from '../../kernels/margin_softmax.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { record } from '../autograd.ts';
import { fromArray } from '../ops/creation.ts';
import { checkFinite, checkFloat, fill } from '../ops/elementwise.ts';
import { matmul } from '../ops/matmul.ts';
import { l2Normalize } from '../ops/softmax.ts';
import { fmt, ShapeError } from '../shape.ts';
import { Tensor } from '../tensor.ts';

/** cos(theta_ij) between L2-normalized embeddings [N, D] and L2-normalized class weights [C, D]: [N, C]. */
export function cosineLogits(embeddings: Tensor, classWeights: Tensor): Tensor {
  if (embeddings.shape.length !== 2 || classWeights.shape.length !== 2 || embeddings.shape[1] !== classWeights.shape[1]) {
    throw new ShapeError(`cosine_logits: embeddings [N, D] and class weights [C, D] must share D, got ${fmt(embeddings.shape)} and ${fmt(classWeights.shape)}`);
  }
  return matmul(l2Normalize(embeddings, 1), l2Normalize(classWeights, 1), { transB: true });
}

export interface MarginLossOptions {
  /** Logit scale s (ArcFace uses 64). */
  s: number;
  /** Multiplicative angular margin m1 (default 1 = none). */
  m1?: number;
  /** Additive angular margin m2 (ArcFace; default 0), or one per sample as a [N] tensor (RCM); a
   *  margin tensor that requires a gradient receives one. */
  m2?: number | Tensor;
  /** Additive cosine margin m3 (CosFace; default 0). */
  m3?: number;
}

export interface MarginLoss {
  /** Mean loss over the batch, a scalar with a gradient to the cosines. */
  loss: Tensor;
  /** Rows whose plain-cosine argmax is the label: [N] of 1/0 (no gradient). */
  correct: Tensor;
}

/** ArcFace: m2 = m. CosFace: m3 = m. Combined: all three. Labels: i32 tensor [N] or integers. */
export function marginSoftmaxLoss(cosines: Tensor, labels: Tensor | Int32Array | readonly number[], opts: MarginLossOptions): MarginLoss {
  checkFloat('margin_softmax', cosines);
  const h = { s: opts.s, m1: opts.m1 ?? 1, m3: opts.m3 ?? 0 };
  checkFinite('margin_softmax', 's', h.s);
  checkFinite('margin_softmax', 'm1', h.m1);
  checkFinite('margin_softmax', 'm3', h.m3);
  if (h.m1 <= 0) throw new RangeError(`margin_softmax: m1 must be > 0, got ${h.m1}`);
  const N = cosines.shape[0] ?? 0;
  const C = cosines.shape[1] ?? 0;
  let labelTensor: Tensor;
  if (labels instanceof Tensor) labelTensor = labels;
  else {
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= C) throw new RangeError(`margin_softmax: label ${v} at index ${i} is outside [0, ${C}) for cosines ${fmt(cosines.shape)}`);
    }
    labelTensor = fromArray(Int32Array.from(labels), [labels.length], 'i32');
  }
  let margins: Tensor;
  if (opts.m2 instanceof Tensor) margins = opts.m2;
  else {
    checkFinite('margin_softmax', 'm2', opts.m2 ?? 0);
    margins = fill([N], opts.m2 ?? 0);
  }
  const { rowLoss, stats, correct } = runMarginForward(cosines, labelTensor, margins, h);
  const loss = runReduce('sum', rowLoss, undefined, false, 1 / N, 'margin_softmax_mean');
  rowLoss.dispose();
  record(loss, 'margin_softmax', [cosines, margins], (g) => {
    const { dcos, dmargin } = runMarginBackward(cosines, labelTensor, stats, g, h, 1 / N);
    if (!margins.requiresGrad) dmargin.dispose();
    return [dcos, margins.requiresGrad ? dmargin : null];
  });
  return { loss, correct };
}
