// reduction kernel lab: validates every variant of variants.ts against the float64 CPU reference, then
// times them interleaved on bench/reduce.bench.ts's sums (batch norm's over (N, H, W), over rows, all)
// and a max over the rows of softmax-sized logits.
//   npx tsx kernels/lab/reduce/run.ts [--json] [--rounds 10] [--no-validate]
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf } from '../../../src/shape.ts';
import { keep } from '../../../src/tensor.ts';
import { runLab } from '../lib.ts';
import { validate, VARIANTS, type Problem } from './variants.ts';

const PROBLEMS: Problem[] = [
  { id: 'sum 8x64x56x56 axes 0,2,3', op: 'sum', shape: [8, 64, 56, 56], axes: [0, 2, 3] },
  { id: 'sum 4096x512 axis 1', op: 'sum', shape: [4096, 512], axes: [1] },
  { id: 'sum 1M all', op: 'sum', shape: [1 << 20], axes: undefined },
  { id: 'max 128x10000 axis 1', op: 'max', shape: [128, 10000], axes: [1] },
];

await runLab({
  title: 'reduce lab',
  variants: VARIANTS,
  validate: () => validate(),
  problems: PROBLEMS,
  prepare: (pr) => {
    const x = keep(fromArray(normalArray(sizeOf(pr.shape), 1), pr.shape));
    return { runs: VARIANTS.map((v) => [v.name, () => v.run(pr, x)]), dispose: () => x.dispose() };
  },
}, 10);
