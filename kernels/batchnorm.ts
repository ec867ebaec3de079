// Batch normalization (shaders/batchnorm.wgsl): dispatch, cost, and the float64 CPU reference.
// Every kernel runs one workgroup per channel over the [N, C, S] view of the input. Byte counts take each
// tensor once: a second walk over a channel (stats, backward) reads what the first left in cache.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, ShapeError, sizeOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

// The shader's workgroups have 16 invocations, small on purpose: on lavapipe a workgroup-per-channel
// kernel at 16 ran 1.5-4x faster than at 64 (x[8,512,7,7] statistics: ~1.1 ms vs ~5 ms), and no slower
// on long channels; idle lanes and barrier trees cost more than the parallelism they buy.

/** The [N, C, S] view batch norm works on: S = H*W for NCHW, 1 for [N, C]. */
export interface ChannelView {
  N: number;
  C: number;
  S: number;
}

export function channelView(shape: Shape, op: string): ChannelView {
  if (shape.length < 2) throw new ShapeError(`${op}: expected an input of rank >= 2 ([N, C] or [N, C, H, W]), got ${fmt(shape)}`);
  return { N: shape[0]!, C: shape[1]!, S: sizeOf(shape.slice(2)) };
}

/** Uniforms for a kernel over `v`, read as vec4s when `vec4` (then a plane holds S / 4 of them). */
function params(v: ChannelView, vec4: boolean, eps = 0, momentum = 0, grid = { qmin: 0, qmax: 0 }): Uniforms {
  const M = v.N * v.S;
  return new Uniforms().u32(v.N, v.C, vec4 ? v.S / 4 : v.S).f32(M, eps, momentum, M / (M - 1), grid.qmin, grid.qmax);
}

/** The vec4 twin of a kernel whenever a plane splits into vec4s (ResNet's 56², 28², 14², 4², not 7²). */
function kernelFor(entry: string, v: ChannelView): { entry: string; vec4: boolean } {
  const vec4 = v.S % 4 === 0;
  return { entry: vec4 ? `${entry}_vec4` : entry, vec4 };
}

/** Per-channel mean and biased variance of x: two [C] tensors. With `running`, the same dispatch also
 *  updates the running estimates in place: running = (1 - momentum) running + momentum batch, the
 *  variance unbiased by M / (M - 1). */
export function runBatchNormStats(x: Tensor, running?: { mean: Tensor; var: Tensor; momentum: number }): { mean: Tensor; var: Tensor } {
  const v = channelView(x.shape, 'batch_norm');
  const mean = Tensor.empty([v.C], 'batch_norm_stats');   // [C]
  const variance = Tensor.empty([v.C], 'batch_norm_stats'); // [C]
  const k = kernelFor(running ? 'bn_stats_running' : 'bn_stats', v);
  launch({
    name: 'batch_norm_stats', shader: 'batchnorm', entry: k.entry,
    uniforms: params(v, k.vec4, 0, running?.momentum ?? 0), inputs: [x],
    outputs: running ? [mean, variance, running.mean, running.var] : [mean, variance], workgroups: grid1d(v.C),
    flops: 4 * x.size, bytes: 4 * (x.size + (running ? 6 : 2) * v.C),
  });
  return { mean, var: variance };
}

/** y = (x - mean) / sqrt(var + eps) * gamma + beta with per-channel [C] mean, var, gamma, beta. */
export function runBatchNormNormalize(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const v = channelView(x.shape, 'batch_norm');
  const y = Tensor.empty(x.shape, 'batch_norm');
  const k = kernelFor('bn_normalize', v);
  launch({
    name: 'batch_norm_normalize', shader: 'batchnorm', entry: k.entry,
    uniforms: params(v, k.vec4, eps), inputs: [x, mean, variance, gamma, beta], outputs: [y], workgroups: grid1d(v.C),
    flops: 3 * x.size, bytes: 4 * (2 * x.size + 4 * v.C),
  });
  return y;
}

/** runBatchNormNormalize, and in the same pass the next layer's activation fake quantization of y with
 *  one scale [1] on the grid [qmin, qmax] (no zero point, half to even, as runFakeQuant): y and q. */
export function runBatchNormNormalizeFakeQuant(
  x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps: number, scale: Tensor, grid: { qmin: number; qmax: number },
): { y: Tensor; q: Tensor } {
  const v = channelView(x.shape, 'batch_norm');
  if (scale.size !== 1) throw new ShapeError(`batch_norm_fake_quant: the activation scale must be one value, got ${fmt(scale.shape)} (input ${fmt(x.shape)})`);
  const y = Tensor.empty(x.shape, 'batch_norm');
  const q = Tensor.empty(x.shape, 'fake_quant');
  const k = kernelFor('bn_normalize_fq', v);
  launch({
    name: 'batch_norm_normalize_fq', shader: 'batchnorm', entry: k.entry,
    uniforms: params(v, k.vec4, eps, 0, grid), inputs: [x, mean, variance, gamma, beta, scale], outputs: [y, q], workgroups: grid1d(v.C),
    flops: 9 * x.size, bytes: 4 * (3 * x.size + 4 * v.C + 1),
  });
  return { y, q };
}

/**
 * Gradients of batch norm given the upstream g: dx, and dgamma = sum(g xhat), dbeta = sum(g) per
 * channel. `training`: mean and var are the batch statistics of x (so dx has their terms too).
 */
export function runBatchNormBackward(x: Tensor, g: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, eps: number, training: boolean): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const v = channelView(x.shape, 'batch_norm_backward');
  const dx = Tensor.empty(x.shape, 'batch_norm_backward');
  const dgamma = Tensor.empty([v.C], 'batch_norm_backward'); // [C]
  const dbeta = Tensor.empty([v.C], 'batch_norm_backward');  // [C]
  const k = kernelFor('bn_backward', v);
  launch({
    name: 'batch_norm_backward', shader: 'batchnorm', entry: k.entry, constants: { TRAINING: training ? 1 : 0 },
    uniforms: params(v, k.vec4, eps), inputs: [x, g, mean, variance, gamma], outputs: [dx, dgamma, dbeta], workgroups: grid1d(v.C),
    flops: 9 * x.size, bytes: 4 * (3 * x.size + 5 * v.C),
  });
  return { dx, dgamma, dbeta };
}

// ---- CPU reference (float64) ---------------------------------------------------------------------

/** Per-channel mean and biased variance over (N, S), two passes. */
export function batchNormStatsRef(x: ArrayLike<number>, shape: Shape): { mean: Float64Array; var: Float64Array } {
  const { N, C, S } = channelView(shape, 'batch_norm');
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sum += x[(n * C + c) * S + s]!;
    mean[c] = sum / (N * S);
    let sq = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sq += (x[(n * C + c) * S + s]! - mean[c]!) ** 2;
    variance[c] = sq / (N * S);
  }
  return { mean, var: variance };
}

/** Batch norm forward. `stats` null: normalize with the batch statistics (training); else with these. */
export function batchNormRef(
  x: ArrayLike<number>, shape: Shape, gamma: ArrayLike<number> | null, beta: ArrayLike<number> | null,
  stats: { mean: ArrayLike<number>; var: ArrayLike<number> } | null, eps: number,
): Float64Array {
  const { N, C, S } = channelView(shape, 'batch_norm');
  const { mean, var: variance } = stats ?? batchNormStatsRef(x, shape);
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const scale = (gamma?.[c] ?? 1) / Math.sqrt(variance[c]! + eps);
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        y[i] = (x[i]! - mean[c]!) * scale + (beta?.[c] ?? 0);
      }
    }
  }
  return y;
}

/** PyTorch's running-statistics update (unbiased variance), returning the new running mean and var. */
export function runningStatsRef(
  x: ArrayLike<number>, shape: Shape, running: { mean: ArrayLike<number>; var: ArrayLike<number> }, momentum: number,
): { mean: Float64Array; var: Float64Array } {
  const { N, S } = channelView(shape, 'batch_norm');
  const m = N * S;
  const batch = batchNormStatsRef(x, shape);
  return {
    mean: batch.mean.map((b, c) => (1 - momentum) * running.mean[c]! + momentum * b),
    var: batch.var.map((b, c) => (1 - momentum) * running.var[c]! + momentum * b * (m / (m - 1))),
  };
}
