// Pooling GB/s: torchvision resnet18's stem max pool (3x3, stride 2, padding 1) forward and backward,
// and global average pooling (mean over [2, 3]) at the head.
// Run: npx tsx bench/pool.bench.ts  (or `lowbit bench pool [--json]`)
import { pathToFileURL } from 'node:url';
import { poolOutputSize, runMaxPool2d, runMaxPool2dBackward, type Pool2d } from '../kernels/pool.ts';
import { runReduce } from '../kernels/reduce.ts';
import { randn } from '../src/ops/creation.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { runCases, type BenchCase, type BenchOptions } from './lib.ts';

const STEM: Pool2d = { kernel: [3, 3], stride: [2, 2], padding: [1, 1] };

function maxPoolCases(shape: Shape): BenchCase[] {
  const [N, C, H, W] = shape as [number, number, number, number];
  const [Ho, Wo] = poolOutputSize(H, W, STEM);
  const nIn = sizeOf(shape);
  const nOut = N * C * Ho * Wo;
  const tag = shape.join('x');
  let x: Tensor;
  let gy: Tensor;
  let argmax: Tensor;
  const setup = (): void => {
    x = keep(randn(shape, { seed: 1 }));
    gy = keep(randn([N, C, Ho, Wo], { seed: 2 }));
    const out = runMaxPool2d(x, STEM);
    out.y.dispose();
    argmax = keep(out.argmax);
  };
  const teardown = (): void => dispose([x, gy, argmax]);
  return [
    // reads x, writes y and the i32 argmax
    { id: `maxpool_3x3s2p1_forward_${tag}`, bytes: 4 * (nIn + 2 * nOut), setup, teardown, run: () => runMaxPool2d(x, STEM) },
    // reads g and argmax, writes dx
    { id: `maxpool_3x3s2p1_backward_${tag}`, bytes: 4 * (nIn + 2 * nOut), setup, teardown, run: () => runMaxPool2dBackward(gy, argmax, shape, STEM) },
  ];
}

function globalAvgPoolCase(shape: Shape): BenchCase {
  let x: Tensor;
  return {
    id: `global_avg_pool_${shape.join('x')}`, bytes: 4 * (sizeOf(shape) + shape[0]! * shape[1]!),
    setup: () => void (x = keep(randn(shape, { seed: 3 }))),
    teardown: () => x.dispose(),
    run: () => runReduce('sum', x, [2, 3], false, 1 / (shape[2]! * shape[3]!), 'mean'),
  };
}

export function poolCases(): BenchCase[] {
  return [...maxPoolCases([8, 64, 112, 112]), ...maxPoolCases([8, 64, 56, 56]), globalAvgPoolCase([8, 512, 7, 7]), globalAvgPoolCase([8, 512, 4, 4])];
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  await runCases(poolCases(), opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
