// optimizer kernel lab: validates every SGD launch variant of variants.ts against the float64 CPU
// reference, then times one update step interleaved on every parameter of the tiny preset's iresnet18
// (94 tensors, 0.7 M weights: dispatch-bound, as bench/optim.bench.ts) and on one 2.4 M weight.
//   npx tsx kernels/lab/optimizer/run.ts [--json] [--rounds 20] [--no-validate]
import type { SgdParam } from '../../sgd.ts';
import { fill } from '../../../src/ops/elementwise.ts';
import { PRESETS } from '../../../src/train/config.ts';
import { buildModel } from '../../../src/train/model.ts';
import { dispose, keep, type Tensor } from '../../../src/tensor.ts';
import { runLab } from '../lib.ts';
import { run, validate, VARIANTS } from './variants.ts';

const hyper = { lr: 1e-3, momentum: 0.9, dampening: 0, nesterov: false };

/** Weights, gradients (1e-2) and momentum buffers (0) of these shapes, weight decay 5e-4. */
function updatesOf(weights: Tensor[]): SgdParam[] {
  return weights.map((w) => ({ weight: w, grad: keep(fill(w.shape, 1e-2)), momentumBuffer: keep(fill(w.shape, 0)), weightDecay: 5e-4, first: false }));
}

await runLab({
  title: 'optimizer lab (SGD update)',
  variants: VARIANTS,
  validate: () => validate(),
  problems: [{ id: 'tiny preset, 94 params' }, { id: '512x512x3x3' }],
  prepare: ({ id }) => {
    const net = id.startsWith('tiny') ? buildModel(PRESETS.tiny!.model, 1) : null;
    const updates = updatesOf(net ? net.parameters() : [keep(fill([512, 512, 3, 3], 0.5))]);
    return {
      runs: VARIANTS.map((v) => [v.name, () => run(v, updates, hyper)]),
      dispose: () => {
        dispose(updates.map((u) => [u.grad, u.momentumBuffer]));
        if (net) net.dispose();
        else updates[0]!.weight.dispose();
      },
    };
  },
}, 20);
