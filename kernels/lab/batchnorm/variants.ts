// The batch norm variants of the kernel lab (llm.c dev/cuda style), for the training forward: batch
// statistics, the running-estimate update and the normalization. Shaders: shaders/lab/batchnorm/naive.wgsl
// (lab only) and shaders/batchnorm.wgsl (production, and its lab-only entry bn_train_fused_vec4).
import {
  batchNormRef, batchNormStatsRef, channelView, runBatchNormNormalize, runBatchNormStats, runningStatsRef,
} from '../../batchnorm.ts';
import { grid1d, launch, Uniforms } from '../../../src/gpu/kernel.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf, type Shape } from '../../../src/shape.ts';
import { Tensor } from '../../../src/tensor.ts';
import { relErr, type Check } from '../lib.ts';

/** Running estimates [C] each, updated in place. */
export interface Running {
  mean: Tensor;
  var: Tensor;
}

export interface Variant {
  name: string;
  about: string;
  /** Why it cannot run on this input shape, or null. */
  unsupported: (shape: Shape) => string | null;
  /** y, and the batch mean and biased variance [C]; `running` updated with `momentum`. */
  run: (x: Tensor, gamma: Tensor, beta: Tensor, running: Running, momentum: number, eps: number) => { y: Tensor; mean: Tensor; var: Tensor };
}

/** The uniforms of shaders/batchnorm.wgsl and the naive lab shader: N, C, S (in vec4s when `vec4`),
 *  M = N*S, eps, momentum, M / (M - 1), and two zeros (room for fields a production kernel may add
 *  at the end; a uniform buffer larger than the struct is fine). */
function bnUniforms(shape: Shape, vec4: boolean, eps: number, momentum: number): Uniforms {
  const { N, C, S } = channelView(shape, 'lab.batch_norm');
  const M = N * S;
  return new Uniforms().u32(N, C, vec4 ? S / 4 : S).f32(M, eps, momentum, M / (M - 1), 0, 0);
}

const statsOutputs = (C: number): { mean: Tensor; var: Tensor } => ({ mean: Tensor.empty([C], 'lab'), var: Tensor.empty([C], 'lab') });

const naive: Variant = {
  name: 'naive', about: 'shaders/lab/batchnorm/naive.wgsl: a thread per channel for the statistics, a thread per element to normalize',
  unsupported: () => null,
  run: (x, gamma, beta, running, momentum, eps) => {
    const C = x.shape[1]!;
    const s = statsOutputs(C);
    const u = bnUniforms(x.shape, false, eps, momentum);
    launch({
      name: 'lab.bn_stats_naive', shader: 'lab/batchnorm/naive', entry: 'bn_stats_naive', uniforms: u,
      inputs: [x], outputs: [s.mean, s.var, running.mean, running.var], workgroups: grid1d(Math.ceil(C / 64)), flops: 0, bytes: 0,
    });
    const y = Tensor.empty(x.shape, 'lab');
    launch({
      name: 'lab.bn_normalize_naive', shader: 'lab/batchnorm/naive', entry: 'bn_normalize_naive', uniforms: u,
      inputs: [x, s.mean, s.var, gamma, beta], outputs: [y], workgroups: grid1d(Math.ceil(x.size / 64)), flops: 0, bytes: 0,
    });
    return { y, ...s };
  },
};

/** Production's two kernels (statistics with the running update folded in, then normalize) on scalar
 *  loads, where production reads vec4s whenever H*W % 4 == 0. */
const scalar: Variant = {
  name: 'scalar', about: 'production kernels, scalar loads forced (bn_stats_running + bn_normalize)',
  unsupported: () => null,
  run: (x, gamma, beta, running, momentum, eps) => {
    const C = x.shape[1]!;
    const s = statsOutputs(C);
    launch({
      name: 'lab.bn_stats_running', shader: 'batchnorm', entry: 'bn_stats_running', uniforms: bnUniforms(x.shape, false, 0, momentum),
      inputs: [x], outputs: [s.mean, s.var, running.mean, running.var], workgroups: grid1d(C), flops: 0, bytes: 0,
    });
    const y = Tensor.empty(x.shape, 'lab');
    launch({
      name: 'lab.bn_normalize', shader: 'batchnorm', entry: 'bn_normalize', uniforms: bnUniforms(x.shape, false, eps, 0),
      inputs: [x, s.mean, s.var, gamma, beta], outputs: [y], workgroups: grid1d(C), flops: 0, bytes: 0,
    });
    return { y, ...s };
  },
};

/** The lab entry bn_train_fused_vec4 (shaders/batchnorm.wgsl): statistics, running update and
 *  normalization in one dispatch; H*W % 4 == 0 only. bench/batchnorm.bench.ts times it too. */
export function fusedTrainForward(x: Tensor, gamma: Tensor, beta: Tensor, running: Running, momentum: number, eps: number): { y: Tensor; mean: Tensor; var: Tensor } {
  const s = statsOutputs(x.shape[1]!);
  const y = Tensor.empty(x.shape, 'lab');
  launch({
    name: 'batch_norm_train_fused', shader: 'batchnorm', entry: 'bn_train_fused_vec4', uniforms: bnUniforms(x.shape, true, eps, momentum),
    inputs: [x, gamma, beta], outputs: [s.mean, s.var, running.mean, running.var, y], workgroups: grid1d(x.shape[1]!), flops: 0, bytes: 0,
  });
  return { y, ...s };
}

const fused: Variant = {
  name: 'fused_vec4', about: 'bn_train_fused_vec4: statistics, running update and normalization in one dispatch',
  unsupported: (shape) => (sizeOf(shape.slice(2)) % 4 !== 0 ? 'H*W % 4 != 0' : null),
  run: fusedTrainForward,
};

const production: Variant = {
  name: 'production', about: 'runBatchNormStats (running update folded in) + runBatchNormNormalize, vec4 when H*W % 4 == 0',
  unsupported: () => null,
  run: (x, gamma, beta, running, momentum, eps) => {
    const s = runBatchNormStats(x, { ...running, momentum });
    return { y: runBatchNormNormalize(x, s.mean, s.var, gamma, beta, eps), ...s };
  },
};

export const VARIANTS: Variant[] = [naive, scalar, fused, production];

// ---- validation against batchNormRef, batchNormStatsRef, runningStatsRef (float64) -----------------

/** Odd channel counts and planes, H*W % 4 == 0 for the vec4 kernels, [N, C] input, a large mean. */
export const CHECKS: { id: string; shape: Shape; mean?: number }[] = [
  { id: '3x5x7x9', shape: [3, 5, 7, 9] },
  { id: '2x7x6x6', shape: [2, 7, 6, 6] },
  { id: '9x3 (no plane)', shape: [9, 3] },
  { id: '4x3x4x4 mean 100', shape: [4, 3, 4, 4], mean: 100 },
];

/** For y, mean, var and the running estimates: max |got - want| / (1 + |want|); tolerance 1e-4. */
export async function validate(variants: readonly Variant[] = VARIANTS, problems = CHECKS): Promise<Check[]> {
  const out: Check[] = [];
  const [momentum, eps] = [0.1, 1e-5];
  for (const pr of problems) {
    const C = pr.shape[1]!;
    const data = { x: normalArray(sizeOf(pr.shape), 7, pr.mean ?? 0, 2), gamma: normalArray(C, 8), beta: normalArray(C, 9), rm: normalArray(C, 10), rv: normalArray(C, 11, 1, 0.1) };
    const want = batchNormRef(data.x, pr.shape, data.gamma, data.beta, null, eps);
    const stats = batchNormStatsRef(data.x, pr.shape);
    const runningWant = runningStatsRef(data.x, pr.shape, { mean: data.rm, var: data.rv }, momentum);
    const [x, gamma, beta] = [fromArray(data.x, pr.shape), fromArray(data.gamma, [C]), fromArray(data.beta, [C])];
    for (const v of variants) {
      if (v.unsupported(pr.shape)) continue;
      const running = { mean: fromArray(data.rm, [C]), var: fromArray(data.rv, [C]) };
      const got = v.run(x, gamma, beta, running, momentum, eps);
      const errs = [
        relErr(await got.y.toArray(), want), relErr(await got.mean.toArray(), stats.mean), relErr(await got.var.toArray(), stats.var),
        relErr(await running.mean.toArray(), runningWant.mean), relErr(await running.var.toArray(), runningWant.var),
      ];
      out.push({ variant: v.name, problem: pr.id, err: Math.max(...errs), tol: 1e-4 });
      for (const t of [got.y, got.mean, got.var, running.mean, running.var]) t.dispose();
    }
    for (const t of [x, gamma, beta]) t.dispose();
  }
  return out;
}
