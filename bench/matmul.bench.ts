// matmul GFLOP/s at 256, 512, 1024 and a non-tile-multiple shape.
// Run: npx tsx bench/matmul.bench.ts  (or `lowbit bench matmul [--json]`)
import { pathToFileURL } from 'node:url';
import { runMatmul } from '../kernels/matmul.ts';
import { randn } from '../src/ops/creation.ts';
import type { Tensor } from '../src/tensor.ts';
import { keep } from '../src/tensor.ts';
import { runCases, type BenchCase, type BenchOptions } from './lib.ts';

export const MATMUL_SHAPES: [string, number, number, number][] = [
  ['matmul_256', 256, 256, 256],
  ['matmul_512', 512, 512, 512],
  ['matmul_1024', 1024, 1024, 1024],
  ['matmul_1000x999x1001', 1000, 999, 1001],
];

export function matmulCases(): BenchCase[] {
  return MATMUL_SHAPES.map(([id, M, K, N]) => {
    let a: Tensor;
    let b: Tensor;
    return {
      id,
      flops: 2 * M * N * K,
      setup: () => {
        a = keep(randn([M, K], { seed: 1 }));
        b = keep(randn([K, N], { seed: 2 }));
      },
      run: () => runMatmul(a, b),
      teardown: () => {
        a.dispose();
        b.dispose();
      },
    };
  });
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  await runCases(matmulCases(), opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
