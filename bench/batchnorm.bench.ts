// Batch norm GB/s: training forward (statistics + normalize, running update included), eval forward
// (normalize only) and backward (dx, dgamma, dbeta), on ResNet activations.
// Run: npx tsx bench/batchnorm.bench.ts  (or `lowbit bench batchnorm [--json]`)
import { pathToFileURL } from 'node:url';
import { runBatchNormBackward } from '../kernels/batchnorm.ts';
import { fill } from '../src/ops/elementwise.ts';
import { batchNorm, type RunningStats } from '../src/ops/batchnorm.ts';
import { randn } from '../src/ops/creation.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { runCases, type BenchCase, type BenchOptions } from './lib.ts';

export const BATCHNORM_SHAPES: Shape[] = [[8, 64, 56, 56], [8, 512, 7, 7]];

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

export async function main(opts: BenchOptions = {}): Promise<void> {
  await runCases(batchnormCases(), opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
