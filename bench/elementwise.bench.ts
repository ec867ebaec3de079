// Elementwise GB/s on a ResNet activation x[8,64,56,56]: add (two inputs), relu, prelu (per-channel
// slope) and dropout. Bytes are each input read once and the output written once.
// Run: npx tsx bench/elementwise.bench.ts  (or `lowbit bench elementwise [--json]`)
import { pathToFileURL } from 'node:url';
import { runDropout } from '../kernels/dropout.ts';
import { runBinary, runUnary } from '../kernels/elementwise.ts';
import { runPrelu } from '../kernels/prelu.ts';
import { randn } from '../src/ops/creation.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { runCases, type BenchCase, type BenchOptions } from './lib.ts';

export const ELEMENTWISE_SHAPE: Shape = [8, 64, 56, 56];

export function elementwiseCases(shape: Shape = ELEMENTWISE_SHAPE): BenchCase[] {
  const n = sizeOf(shape);
  const tag = shape.join('x');
  let a: Tensor;
  let b: Tensor;
  let slope: Tensor;
  const setup = (): void => {
    a = keep(randn(shape, { seed: 1 }));
    b = keep(randn(shape, { seed: 2 }));
    slope = keep(randn([shape[1]!], { seed: 3 }));
  };
  const teardown = (): void => dispose([a, b, slope]);
  return [
    { id: `add_${tag}`, bytes: 12 * n, setup, teardown, run: () => runBinary('add', a, b) },
    { id: `relu_${tag}`, bytes: 8 * n, setup, teardown, run: () => runUnary('relu', a) },
    { id: `prelu_${tag}`, bytes: 8 * n, setup, teardown, run: () => runPrelu(a, slope) },
    { id: `dropout_${tag}`, bytes: 8 * n, setup, teardown, run: () => runDropout(a, 0.2, 1) },
  ];
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  await runCases(elementwiseCases(), opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
