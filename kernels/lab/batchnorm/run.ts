// batch norm kernel lab: validates every variant of variants.ts against the float64 CPU reference, then
// times the training forward interleaved on bench/batchnorm.bench.ts's shapes (iresnet18 at 112x112,
// batch 8, and the tiny preset's largest and smallest, batch 32).
//   npx tsx kernels/lab/batchnorm/run.ts [--json] [--rounds 20] [--no-validate]
import { BATCHNORM_SHAPES } from '../../../bench/batchnorm.bench.ts';
import { fill } from '../../../src/ops/elementwise.ts';
import { randn } from '../../../src/ops/creation.ts';
import { dispose, keep } from '../../../src/tensor.ts';
import { runLab } from '../lib.ts';
import { validate, VARIANTS } from './variants.ts';

await runLab({
  title: 'batchnorm lab (training forward)',
  variants: VARIANTS,
  validate: () => validate(),
  problems: BATCHNORM_SHAPES.map((shape) => ({ id: shape.join('x'), shape })),
  prepare: ({ shape }) => {
    const C = shape[1]!;
    const x = keep(randn(shape, { seed: 1 }));
    const [gamma, beta] = [keep(randn([C], { seed: 3 })), keep(randn([C], { seed: 4 }))];
    const running = { mean: keep(fill([C], 0)), var: keep(fill([C], 1)) };
    return {
      runs: VARIANTS.filter((v) => !v.unsupported(shape)).map((v) => [v.name, () => v.run(x, gamma, beta, running, 0.1, 1e-5)]),
      dispose: () => dispose([x, gamma, beta, running]),
    };
  },
}, 20);
