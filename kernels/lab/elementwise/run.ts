// elementwise kernel lab: validates every variant of variants.ts against the float64 CPU reference, then
// times them interleaved on a ResNet activation (bench/elementwise.bench.ts's shape) and the tiny preset's.
//   npx tsx kernels/lab/elementwise/run.ts [--json] [--rounds 20] [--no-validate]
import { ELEMENTWISE_SHAPE } from '../../../bench/elementwise.bench.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf } from '../../../src/shape.ts';
import { dispose, keep } from '../../../src/tensor.ts';
import { runLab } from '../lib.ts';
import { validate, VARIANTS, type Problem } from './variants.ts';

const tag = ELEMENTWISE_SHAPE.join('x');
const PROBLEMS: Problem[] = [
  { id: `add ${tag}`, op: 'add', a: ELEMENTWISE_SHAPE, b: ELEMENTWISE_SHAPE },
  { id: `add bias ${tag}`, op: 'add', a: ELEMENTWISE_SHAPE, b: [ELEMENTWISE_SHAPE[1]!, 1, 1] },
  { id: `relu ${tag}`, op: 'relu', a: ELEMENTWISE_SHAPE },
  { id: 'add 32x16x32x32', op: 'add', a: [32, 16, 32, 32], b: [32, 16, 32, 32] },
];

await runLab({
  title: 'elementwise lab',
  variants: VARIANTS,
  validate: () => validate(),
  problems: PROBLEMS,
  prepare: (pr) => {
    const a = keep(fromArray(normalArray(sizeOf(pr.a), 1), pr.a));
    const b = pr.b ? keep(fromArray(normalArray(sizeOf(pr.b), 2), pr.b)) : null;
    return {
      runs: VARIANTS.filter((v) => !v.unsupported(pr)).map((v) => [v.name, () => v.run(pr, a, b)]),
      dispose: () => dispose([a, b]),
    };
  },
}, 20);
