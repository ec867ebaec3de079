// Batch normalization over (N, H, W) for [N, C, H, W] input, over N for [N, C] (torch.nn.functional.batch_norm).
import {
  channelView, runBatchNormBackward, runBatchNormNormalize, runBatchNormStats,
} from '../../kernels/batchnorm.ts';
import { record } from '../autograd.ts';
import { fmt, sameShape, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat, fill } from './elementwise.ts';

/** Running estimates, each [C]; batchNorm updates them in place in training mode. */
export interface RunningStats {
  mean: Tensor;
  var: Tensor;
}

export interface BatchNormOptions {
  /** true: normalize with the batch statistics and update `running`; false: normalize with `running`. */
  training: boolean;
  /** Weight of the new batch in the running estimates (default 0.1, as PyTorch). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** What computes y from x and the per-channel [C] statistics and affine: the plain normalization, or a
 *  fused kernel that also writes an epilogue output (QConv2d.forwardAfter in src/quant/layers.ts). */
export type Normalize = (x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps: number) => Tensor;

/**
 * y = (x - mean) / sqrt(var + eps) * gamma + beta per channel (axis 1). gamma / beta null: no scale /
 * shift. Training: biased batch variance for y, unbiased for the running update (as PyTorch).
 */
export function batchNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, running: RunningStats | null, opts: BatchNormOptions, normalize: Normalize = runBatchNormNormalize): Tensor {
  const { training } = opts;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  const { C } = checkBatchNormArgs(x, gamma, beta, running, training, momentum, eps);

  // NOTE: absent gamma / beta become ones / zeros, so the kernels have a single affine form.
  const scale = gamma ?? fill([C], 1);   // [C]
  const shift = beta ?? fill([C], 0);    // [C]
  let stats: RunningStats;
  if (training) {
    // batch mean, biased var: [C] each; the running estimates are updated by the same dispatch
    stats = runBatchNormStats(x, running ? { ...running, momentum } : undefined);
  } else {
    stats = running!;
  }
  const y = normalize(x, stats.mean, stats.var, scale, shift, eps);
  if (!beta) shift.dispose();            // released after the submit that reads it

  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  record(y, 'batch_norm', inputs, (g) => {
    const { dx, dgamma, dbeta } = runBatchNormBackward(x, g, stats.mean, stats.var, scale, eps, training);
    if (!gamma) dgamma.dispose();
    if (!beta) dbeta.dispose();
    return [dx, gamma ? dgamma : null, beta ? dbeta : null].filter((t) => t !== null);
  });
  if (!y.node) {                         // no backward will need the saved tensors
    if (!gamma) scale.dispose();
    if (training) [stats.mean, stats.var].forEach((t) => t.dispose());
  }
  return y;
}

function checkBatchNormArgs(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, running: RunningStats | null,
  training: boolean, momentum: number, eps: number,
): { N: number; C: number; S: number } {
  checkFloat('batch_norm', x);
  const view = channelView(x.shape, 'batch_norm');
  const perChannel: [string, Tensor | null][] = [['gamma', gamma], ['beta', beta], ['running mean', running?.mean ?? null], ['running var', running?.var ?? null]];
  for (const [what, t] of perChannel) {
    if (!t) continue;
    checkFloat('batch_norm', t);
    if (!sameShape(t.shape, [view.C])) {
      throw new ShapeError(`batch_norm: ${what} must have shape [${view.C}] (one per channel of input ${fmt(x.shape)}), got ${fmt(t.shape)}`);
    }
  }
  if (!(eps > 0 && Number.isFinite(eps))) throw new RangeError(`batch_norm: eps must be a positive finite number, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`batch_norm: momentum must be in [0, 1], got ${momentum}`);
  if (!training && !running) throw new Error(`batch_norm: eval mode (training: false) normalizes with running statistics, but none were given (input ${fmt(x.shape)})`);
  if (training && view.N * view.S < 2) {
    throw new ShapeError(`batch_norm: training needs more than 1 value per channel, got input ${fmt(x.shape)} (${view.N * view.S} per channel)`);
  }
  return view;
}
