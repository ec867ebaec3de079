// Batch-norm folding for deployment-style PTQ: at inference a BN is the per-channel affine
// z = a * y + t with a = gamma / sqrt(var + eps), t = beta - mean * a, which merges into its neighbour:
//   conv/linear -> BN:   W'[o] = a[o] W[o],            b'[o] = a[o] (b[o] - mean[o]) + beta[o]
//   BN -> linear:        W'[o, j] = W[o, j] a[c(j)],    b'[o] = b[o] + sum_j W[o, j] t[c(j)]
// Where each BN goes, by architecture (the folded BN becomes an Identity; the conv gains a bias):
//   iresnet18: conv1+bn1; per block conv1+bn2, conv2+bn3, downsample.0+downsample.1; bn2 -> fc (exact:
//              flatten and the eval-mode dropout sit between), fc+features.
//              NOT folded: each block's bn1, which comes *before* conv1. BN -> conv folds only without
//              padding: a 3x3 conv with padding 1 pads with zeros, while the folded form would need the
//              padding to hold -t/a. It stays a per-channel affine (BN in eval mode) in front of conv1.
//   resnet18:  conv1+bn1; per block conv1+bn1, conv2+bn2, downsample.0+downsample.1.
// The folded model is for inference (eval mode): its BNs no longer exist.
import { IBasicBlock, IResNet } from '../nn/iresnet.ts';
import { Conv2d, Identity, Layer, Linear } from '../nn/layers.ts';
import { copyInto } from '../nn/module.ts';
import { BatchNorm } from '../nn/norm.ts';
import { BasicBlock, ResNet } from '../nn/resnet.ts';
import { fromArray } from '../ops/creation.ts';
import type { Tensor } from '../tensor.ts';
import { labelQuantizers, moduleAt, replaceModule } from './model.ts';

export interface FoldRecord {
  /** The conv or linear that absorbed the BNs. */
  layer: string;
  /** A BN that fed it (folded into its input side). */
  before?: string;
  /** The BN that followed it: the folded layer's output equals this BN's output in the original. */
  after?: string;
}

/** The (layer, BN) pairs of a known architecture. */
export function foldPlan(model: Layer): FoldRecord[] {
  const plan: FoldRecord[] = [];
  if (model instanceof IResNet) {
    plan.push({ layer: 'conv1', after: 'bn1' });
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof IBasicBlock)) continue;
      plan.push({ layer: `${name}.conv1`, after: `${name}.bn2` }, { layer: `${name}.conv2`, after: `${name}.bn3` });
      if (m.downsample) plan.push({ layer: `${name}.downsample.0`, after: `${name}.downsample.1` });
    }
    plan.push({ layer: 'fc', before: 'bn2', after: 'features' });
  } else if (model instanceof ResNet) {
    plan.push({ layer: 'conv1', after: 'bn1' });
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof BasicBlock)) continue;
      plan.push({ layer: `${name}.conv1`, after: `${name}.bn1` }, { layer: `${name}.conv2`, after: `${name}.bn2` });
      if (m.downsample) plan.push({ layer: `${name}.downsample.0`, after: `${name}.downsample.1` });
    }
  } else {
    throw new Error(`foldBatchNorm: no folding plan for ${model.constructor.name} (known: IResNet, ResNet)`);
  }
  return plan;
}

const data = async (t: Tensor | null, n: number, fill: number): Promise<Float64Array> =>
  t ? Float64Array.from(await t.toFloat32()) : new Float64Array(n).fill(fill);

/** a and t of a BN in eval mode: z = a y + t. */
async function bnAffine(bn: BatchNorm): Promise<{ a: Float64Array; t: Float64Array }> {
  const C = bn.numFeatures;
  const [gamma, beta, mean, variance] = await Promise.all([data(bn.weight, C, 1), data(bn.bias, C, 0), data(bn.runningMean, C, 0), data(bn.runningVar, C, 1)]);
  const a = gamma.map((g, c) => g / Math.sqrt(variance[c]! + bn.eps));
  return { a, t: beta.map((b, c) => b - mean[c]! * a[c]!) };
}

/**
 * Folds every BN the architecture allows, in place (call on a copy: see cloneModule). The replaced
 * layers' tensors are freed unless `keepReplaced` (they may be shared with another model).
 */
export async function foldBatchNorm(model: Layer, { keepReplaced = false } = {}): Promise<FoldRecord[]> {
  const plan = foldPlan(model);
  for (const r of plan) {
    const layer = moduleAt(model, r.layer);
    if (!(layer instanceof Conv2d || layer instanceof Linear)) throw new Error(`foldBatchNorm: '${r.layer}' is a ${layer.constructor.name}, not a Conv2d or Linear (already quantized? fold first)`);
    const O = layer.weight.shape[0]!;
    const perRow = layer.weight.size / O;
    const w = Float64Array.from(await layer.weight.toFloat32()); // [O, perRow]
    const b = await data(layer.bias, O, 0);                     // [O]
    if (r.before) {
      const { a, t } = await bnAffine(moduleAt(model, r.before) as BatchNorm);
      const perChannel = perRow / a.length;                     // input features per BN channel (h*w after flatten)
      for (let o = 0; o < O; o++) {
        for (let j = 0; j < perRow; j++) {
          const c = Math.floor(j / perChannel);
          b[o] = b[o]! + w[o * perRow + j]! * t[c]!;
          w[o * perRow + j] = w[o * perRow + j]! * a[c]!;
        }
      }
    }
    if (r.after) {
      const bn = moduleAt(model, r.after) as BatchNorm;
      const { a, t } = await bnAffine(bn);
      for (let o = 0; o < O; o++) {
        for (let j = 0; j < perRow; j++) w[o * perRow + j] = w[o * perRow + j]! * a[o]!;
        b[o] = a[o]! * b[o]! + t[o]!;
      }
    }
    const folded = layer instanceof Conv2d
      ? new Conv2d(layer.inChannels, layer.outChannels, layer.kernelSize, { stride: layer.options.stride as number, padding: layer.options.padding as number, bias: true })
      : new Linear(layer.inFeatures, layer.outFeatures, { bias: true });
    upload(folded.weight, w);
    upload(folded.bias!, b);
    replaceModule(model, r.layer, folded);
    if (!keepReplaced) layer.dispose();
    for (const bn of [r.before, r.after]) {
      if (!bn) continue;
      if (!keepReplaced) moduleAt(model, bn).dispose();
      replaceModule(model, bn, new Identity());
    }
  }
  labelQuantizers(model);
  return plan;
}

function upload(dst: Tensor, values: Float64Array): void {
  const t = fromArray(Float32Array.from(values), dst.shape);
  copyInto(dst, t);
  t.dispose();
}
