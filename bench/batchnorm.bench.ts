// Batch norm GB/s: training forward (statistics with the running update folded in, then normalize),
// eval forward (normalize only) and backward (dx, dgamma, dbeta), on ResNet activations: iresnet18's
// at 112x112, batch 8, and the tiny preset's largest and smallest (batch 32). Then the interleaved
// comparisons of compareTrainForward.
// Run: npx tsx bench/batchnorm.bench.ts  (or `lowbit bench batchnorm [--json]`)
import { pathToFileURL } from 'node:url';
import { batchNormRef, runBatchNormBackward, runBatchNormStats } from '../kernels/batchnorm.ts';
import { fill } from '../src/ops/elementwise.ts';
import { batchNorm, type RunningStats } from '../src/ops/batchnorm.ts';
import { randn } from '../src/ops/creation.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { fusedTrainForward } from '../kernels/lab/batchnorm/variants.ts';
import { compareInterleaved, runCases, type BenchCase, type BenchOptions } from './lib.ts';

export const BATCHNORM_SHAPES: Shape[] = [[8, 64, 56, 56], [8, 512, 7, 7], [32, 16, 32, 32], [32, 128, 2, 2]];

/** Tensors of one case: input, upstream gradient, affine parameters and running statistics. */
interface BnState {
  x: Tensor;
  g: Tensor;
  gamma: Tensor;
  beta: Tensor;
  running: RunningStats;
}

function bnCases(shape: Shape): BenchCase[] {
  const n = sizeOf(shape);
  const C = shape[1]!;
  const tag = shape.join('x');
  let s: BnState;
  const setup = (): void => {
    s = {
      x: keep(randn(shape, { seed: 1 })), g: keep(randn(shape, { seed: 2 })),
      gamma: keep(randn([C], { seed: 3 })), beta: keep(randn([C], { seed: 4 })),
      running: { mean: keep(fill([C], 0)), var: keep(fill([C], 1)) },
    };
  };
  const teardown = (): void => dispose(s);
  return [
    // statistics read x (their second pass hits cache), normalize reads x and writes y
    { id: `batchnorm_forward_train_${tag}`, bytes: 12 * n, setup, teardown, run: () => batchNorm(s.x, s.gamma, s.beta, s.running, { training: true }) },
    { id: `batchnorm_forward_eval_${tag}`, bytes: 8 * n, setup, teardown, run: () => batchNorm(s.x, s.gamma, s.beta, s.running, { training: false }) },
    // reads x and g, writes dx (the second walk over a channel hits cache)
    { id: `batchnorm_backward_${tag}`, bytes: 12 * n, setup, teardown, run: () => runBatchNormBackward(s.x, s.g, s.running.mean, s.running.var, s.gamma, 1e-5, true) },
  ];
}

export function batchnormCases(): BenchCase[] {
  return BATCHNORM_SHAPES.flatMap(bnCases);
}

/** Interleaved: the statistics kernel with the running update folded in against the one without (what
 *  the fold costs; the update was a dispatch of its own), and the fused lab kernel against the two
 *  dispatches production runs. */
async function compareTrainForward(shape: Shape, opts: BenchOptions): Promise<void> {
  const C = shape[1]!;
  const x = keep(randn(shape, { seed: 1 }));
  const [gamma, beta] = [keep(randn([C], { seed: 3 })), keep(randn([C], { seed: 4 }))];
  const running = { mean: keep(fill([C], 0)), var: keep(fill([C], 1)) };
  const tag = shape.join('x');
  const rounds = opts.iterations ?? 40;
  await compareInterleaved([
    [`batchnorm_stats_running_${tag}`, () => runBatchNormStats(x, { ...running, momentum: 0.1 })],
    [`batchnorm_stats_${tag}`, () => runBatchNormStats(x)],
  ], rounds, opts.json);
  if (sizeOf(shape.slice(2)) % 4 === 0) {
    // the lab kernel against the float64 reference first
    const { y } = fusedTrainForward(x, gamma, beta, { mean: keep(fill([C], 0)), var: keep(fill([C], 1)) }, 0.1, 1e-5);
    const want = batchNormRef(await x.toArray(), shape, await gamma.toArray(), await beta.toArray(), null, 1e-5);
    const got = await y.toArray();
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
    if (!opts.json) console.log(`bn_train_fused_vec4 ${tag}: max |y - ref| = ${err.toExponential(1)}${err > 1e-4 ? '  FAILED' : ''}`);
    y.dispose();
    await compareInterleaved([
      [`batchnorm_forward_train_fused_lab_${tag}`, () => fusedTrainForward(x, gamma, beta, running, 0.1, 1e-5).y],
      [`batchnorm_forward_train_${tag}`, () => batchNorm(x, gamma, beta, running, { training: true })],
    ], rounds, opts.json);
  }
  dispose([x, gamma, beta, running]);
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  await runCases(batchnormCases(), opts);
  for (const shape of BATCHNORM_SHAPES) await compareTrainForward(shape, opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
