// What RCM costs over plain QAT: one W4A4 training step of the tiny preset's model with ArcFace, the
// same with RCM (the frozen FP teacher's forward, its batch norms folded as training folds them, plus the angle computations), and the FP forward
// (unfolded, eval mode) alone, interleaved. The budget: RCM - QAT <= one FP forward. Run: npx tsx bench/rcm.bench.ts
import { pathToFileURL } from 'node:url';
import { noGrad } from '../src/autograd.ts';
import { backward } from '../src/backward.ts';
import { gpu, initGpu } from '../src/gpu/device.ts';
import { cosineLogits, marginSoftmaxLoss } from '../src/loss/margin.ts';
import { rcmLoss, rowAngles } from '../src/loss/rcm.ts';
import type { Layer } from '../src/nn/layers.ts';
import { fromArray, parameter, randn } from '../src/ops/creation.ts';
import { SGD } from '../src/optim/sgd.ts';
import { dispose, keep, tidy, type Tensor } from '../src/tensor.ts';
import { PRESETS } from '../src/train/config.ts';
import { foldBatchNorm } from '../src/quant/fold.ts';
import { quantConfig } from '../src/quant/policy.ts';
import { buildHead, buildModel } from '../src/train/model.ts';
import { compareInterleaved, type BenchOptions } from './lib.ts';

const BATCH = 32;
const CLASSES = 100;
const PER_IDENTITY = 4;

interface Setup {
  student: Layer;
  teacher: Layer;
  /** The same FP model unfolded (eval mode): what "one FP forward pass" costs. */
  fp: Layer;
  head: Tensor;
  x: Tensor;
  labels: Tensor;
  labelsCpu: Int32Array;
  opt: SGD;
}

/** As training builds it: the teacher frozen with its batch norms folded (train/rcm-objective.ts). */
export async function build(): Promise<Setup> {
  const model = PRESETS.tiny!.model;
  const fp = buildModel(model, 1).eval();
  const teacher = buildModel(model, 1).eval();
  await foldBatchNorm(teacher);
  for (const [, p] of teacher.namedParameters()) p.requiresGrad = false;
  const student = buildModel(model, 1, quantConfig('W4A4')).train();
  const head = buildHead(CLASSES, model.numFeatures, 2);
  const labelsCpu = Int32Array.from({ length: BATCH }, (_, i) => Math.floor(i / PER_IDENTITY));
  return {
    student, teacher, fp, head, labelsCpu,
    x: keep(randn([BATCH, 3, model.inputSize, model.inputSize], { seed: 3 })),
    labels: keep(fromArray(labelsCpu, [BATCH])),
    opt: new SGD([...student.parameters(), head], { lr: 0.001, momentum: 0.9 }),
  };
}

/** One step of `kind` on the shared setup (QAT and RCM update the same student: only time matters). */
export function stepOf(s: Setup, kind: 'qat' | 'rcm' | 'fp'): () => Tensor {
  return () => {
    if (kind === 'fp') return noGrad(() => s.fp.forward(s.x));
    const q = s.student.forward(s.x);
    const loss = kind === 'qat'
      ? marginSoftmaxLoss(cosineLogits(q, s.head), s.labels, { s: 16, m2: 0.3 }).loss
      : rcmLoss(noGrad(() => s.teacher.forward(s.x)), q, s.head, s.labels, s.labelsCpu, { s: 16, m: 0.3, lambda: 1 }).loss;
    backward(loss);
    s.opt.step();
    s.opt.zeroGrad();
    return loss;
  };
}

/** Interleaved sample by sample (the CPU adapter's speed drifts over a run; see quant.bench.ts). */
export async function main(opts: BenchOptions & { rounds?: number } = {}): Promise<void> {
  await initGpu();
  const s = await build();
  tidy(() => s.student.forward(s.x)); // quantizers initialize on their first training batch
  const [rcm, fpForward, qat] = (await compareInterleaved([
    ['step_rcm_w4a4_tiny_b32', stepOf(s, 'rcm')],
    ['forward_fp_tiny_b32', stepOf(s, 'fp')],
    ['step_qat_w4a4_tiny_b32', stepOf(s, 'qat')],
  ], opts.rounds ?? 8, opts.json)).map((r) => r.median_ms) as [number, number, number];
  s.opt.dispose();
  s.student.dispose();
  s.teacher.dispose();
  s.fp.dispose();
  dispose([s.head, s.x, s.labels]);
  gpu().pool.trim();
  // RCM's angle kernel (no gradient: theta_Q detached) against the composition of differentiable ops
  const [a, b] = [keep(randn([BATCH, 64], { seed: 5 })), keep(randn([BATCH, 64], { seed: 6 }))];   // [N, D]
  await compareInterleaved([
    ['row_angles_fused_32x64', () => rowAngles(a, b)],
    ['row_angles_composed_32x64', () => rowAngles(a, parameter(b))],
  ], 30, opts.json);
  dispose([a, b]);
  const summary = { case: 'rcm_overhead', median_ms: rcm, rcm_over_qat: rcm / qat, extra_ms: rcm - qat, fp_forward_ms: fpForward, extra_in_fp_forwards: (rcm - qat) / fpForward };
  console.log(opts.json ? JSON.stringify(summary) : `RCM / QAT step: ${summary.rcm_over_qat.toFixed(3)}x; RCM's extra ${summary.extra_ms.toFixed(1)} ms = ${summary.extra_in_fp_forwards.toFixed(2)} FP forward passes (${fpForward.toFixed(1)} ms each)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
