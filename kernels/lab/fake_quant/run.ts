// Fake-quant lab runner: validates the variants of variants.ts (batch norm + activation fake quant,
// unfused and fused) against the float64 batch-norm reference and the float32-exact fake-quant
// reference, then times them interleaved on the activations of iresnet18's IR blocks.
//   npx tsx kernels/lab/fake_quant/run.ts [--json] [--rounds 12] [--no-validate]
import type { Shape } from '../../../src/shape.ts';
import { runLab } from '../lib.ts';
import { operands, validate, VARIANTS } from './variants.ts';

/** iresnet18's IR-block activations at 112x112, batch 8, and at the tiny preset (width 1/4, 32x32, batch 32). */
const PROBLEMS: { id: string; shape: Shape }[] = [
  { id: '8x64x56x56', shape: [8, 64, 56, 56] },
  { id: '8x128x28x28', shape: [8, 128, 28, 28] },
  { id: '8x256x14x14', shape: [8, 256, 14, 14] },
  { id: '32x16x32x32', shape: [32, 16, 32, 32] },
];

await runLab({
  title: 'fake_quant lab (batch norm + activation fake quant)',
  variants: VARIANTS,
  validate: () => validate(),
  problems: PROBLEMS,
  prepare: (pr) => {
    const { o, dispose } = operands(pr.shape, 5);
    return { runs: VARIANTS.map((v) => [v.name, () => v.run(o).q]), dispose };
  },
}, 12);
