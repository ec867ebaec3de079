// The optimizer's per-step work on every parameter of the tiny preset's iresnet18 (94 tensors, 0.7 M
// weights), each production kernel against what it replaced, interleaved sample by sample (the CPU is
// shared: compare within one run):
//   sgd   the SGD update: the variants of the optimizer lab (kernels/lab/optimizer/variants.ts): 5
//         parameters per dispatch (vec4, a few looping workgroups), one per dispatch with several
//         workgroup caps, and scalar with one workgroup per 64 elements (as it was, but the replaced
//         kernel had 256-lane workgroups)
//   clip  clipGradNorm (what the tiny/demo presets run before each update): the fused kernels of
//         kernels/grad_norm.ts, several gradients per dispatch or one, against the composition of
//         elementwise ops they replaced
// Run: npx tsx bench/optim.bench.ts [--json]
import { pathToFileURL } from 'node:url';
import { runBinary, runFill, runUnary } from '../kernels/elementwise.ts';
import { runReduce } from '../kernels/reduce.ts';
import { run as runSgdVariant, VARIANTS as SGD_VARIANTS } from '../kernels/lab/optimizer/variants.ts';
import { initGpu } from '../src/gpu/device.ts';
import { fill } from '../src/ops/elementwise.ts';
import { clipGradNorm } from '../src/optim/clip.ts';
import { PRESETS } from '../src/train/config.ts';
import { buildModel } from '../src/train/model.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { compareInterleaved, type BenchOptions } from './lib.ts';

/** The clipping of an earlier version: 4 elementwise dispatches per gradient. */
function clipUnfused(params: readonly Tensor[], maxNorm: number): Tensor {
  let total = runFill([1], 0, 'clip_grad_norm');
  for (const p of params) {
    const squares = runUnary('pow', p.grad!, p.grad!.shape, 2);
    const partial = runReduce('sum', squares, undefined, true, 1, 'clip_grad_norm').view([1]);
    const next = runBinary('add', total, partial);
    for (const t of [squares, partial, total]) t.dispose();
    total = next;
  }
  const norm = runUnary('sqrt', total, [1]);
  const coef = runUnary('clamp', runUnary('pow', runUnary('affine', norm, [1], 1, 1e-6), [1], -1), [1], -3.4e38, 1 / maxNorm);
  const scale = runUnary('affine', coef, [1], maxNorm, 0);
  for (const p of params) {
    const clipped = runBinary('mul', p.grad!, scale);
    p.grad!.dispose();
    p.grad = keep(clipped);
  }
  return norm;
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  await initGpu();
  const net = buildModel(PRESETS.tiny!.model, 1);
  const params = net.parameters();
  const bufs = params.map((p) => keep(fill(p.shape, 0)));
  const setGrads = (): void => params.forEach((p) => { p.grad?.dispose(); p.grad = keep(fill(p.shape, 1e-2)); });
  setGrads();
  const hyper = { lr: 1e-3, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false };
  const updates = params.map((p, i) => ({ weight: p, grad: p.grad!, momentumBuffer: bufs[i]!, weightDecay: hyper.weightDecay, first: false }));
  // The variants of the optimizer lab, production first and the first form last (the baseline).
  await compareInterleaved([...SGD_VARIANTS].reverse().map((v) => [
    v.name === 'production' ? 'sgd_tiny_params' : `sgd_tiny_params_${v.name}`, () => runSgdVariant(v, updates, hyper),
  ]), opts.iterations ?? 30, opts.json);
  // Each run replaces the gradients by scaled copies: norm 0.01 * sqrt(0.7 M) ~ 8.5 > 5, so they shrink
  // toward norm 5 and stay there; both variants see the same sizes.
  await compareInterleaved([
    ['clip_tiny_params', () => clipGradNorm(params, 5)],
    ['clip_tiny_params_one_per_dispatch', () => clipGradNorm(params, 5, { multi: false })],
    ['clip_tiny_params_unfused', () => clipUnfused(params, 5)],
  ], opts.iterations ?? 30, opts.json);
  dispose([...bufs, ...params.map((p) => p.grad!)]);
  net.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
