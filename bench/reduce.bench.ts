// Reductions and row-wise kernels in GB/s: BatchNorm-style sums over (N, H, W), a sum over the last
// axis, a full sum, softmax over 10,000 classes and the fused margin-softmax forward + backward.
// Run: npx tsx bench/reduce.bench.ts  (or `lowbit bench reduce [--json]`)
import { pathToFileURL } from 'node:url';
import { runMarginBackward, runMarginForward } from '../kernels/margin_softmax.ts';
import { runReduce } from '../kernels/reduce.ts';
import { runSoftmax } from '../kernels/softmax.ts';
import { fill } from '../src/ops/elementwise.ts';
import { fromArray, rand, randn } from '../src/ops/creation.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { runCases, type BenchCase, type BenchOptions } from './lib.ts';

function reduceCase(id: string, shape: Shape, axes: number[] | undefined): BenchCase {
  let x: Tensor;
  return {
    id,
    bytes: 4 * sizeOf(shape),
    setup: () => { x = keep(randn(shape, { seed: 1 })); },
    run: () => runReduce('sum', x, axes, false),
    teardown: () => x.dispose(),
  };
}

/** Margin softmax on cosines [N, C]: forward and backward together (the training step's cost). */
function marginCase(N: number, C: number): BenchCase {
  let cos: Tensor;
  let labels: Tensor;
  let margins: Tensor;
  let g: Tensor;
  const h = { s: 64, m1: 1, m3: 0 };
  return {
    id: `margin_softmax_${N}x${C}`,
    bytes: 4 * N * C * 3,
    setup: () => {
      cos = keep(rand([N, C], { seed: 2, lo: -1, hi: 1 }));
      labels = keep(fromArray(Int32Array.from({ length: N }, (_, i) => (i * 7) % C), [N]));
      margins = keep(fill([N], 0.5));
      g = keep(fill([1], 1));
    },
    run: () => {
      const { stats } = runMarginForward(cos, labels, margins, h);
      return runMarginBackward(cos, labels, stats, g, h, 1 / N);
    },
    teardown: () => dispose([cos, labels, margins, g]),
  };
}

export function reduceCases(): BenchCase[] {
  let logits: Tensor;
  return [
    reduceCase('sum_bn_8x64x56x56', [8, 64, 56, 56], [0, 2, 3]),
    reduceCase('sum_rows_4096x512', [4096, 512], [1]),
    reduceCase('sum_all_1M', [1 << 20], undefined),
    {
      id: 'softmax_128x10000',
      bytes: 8 * 128 * 10000,
      setup: () => { logits = keep(randn([128, 10000], { seed: 3 })); },
      run: () => runSoftmax(logits, 1, false),
      teardown: () => logits.dispose(),
    },
    marginCase(128, 10572),
  ];
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  await runCases(reduceCases(), opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
