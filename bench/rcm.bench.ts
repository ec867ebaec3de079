// What RCM costs over plain QAT, on the tiny preset's model at batch 32. Three jobs interleaved round
// by round: a W4A4 training step with ArcFace, the same step with RCM (the training objectives
// themselves: the frozen FP teacher's forward, its batch norms folded and its PReLUs and shortcut adds
// in the conv kernels, then the angles and the metrics), and one FP forward pass (eval mode, unfolded).
// Each sample runs STEPS steps back to back and waits once, as training does (it flushes each step and
// never waits), so the host's recording of a step overlaps the GPU's work on the one before.
// The budget: RCM - QAT <= one FP forward. Per round, (RCM - QAT) / FP forward; the median of
// those ratios with its 95% interval (a slow round slows all three alike, so the ratio is steadier than
// a ratio of medians). Then the teacher's forward alone, fused and unfused, and the angle kernel.
// Run: npx tsx bench/rcm.bench.ts [--json]
import { pathToFileURL } from 'node:url';
import { noGrad } from '../src/autograd.ts';
import { backward } from '../src/backward.ts';
import { gpu, initGpu } from '../src/gpu/device.ts';
import { rowAngles } from '../src/loss/rcm.ts';
import type { Layer } from '../src/nn/layers.ts';
import { fromArray, parameter, randn } from '../src/ops/creation.ts';
import { SGD } from '../src/optim/sgd.ts';
import { quantConfig } from '../src/quant/policy.ts';
import { dispose, keep, tidy, type Tensor } from '../src/tensor.ts';
import { PRESETS } from '../src/train/config.ts';
import { buildHead, buildModel } from '../src/train/model.ts';
import { marginObjective, type Objective } from '../src/train/objective.ts';
import { freezeTeacher, rcmObjective, type RcmObjective } from '../src/train/rcm-objective.ts';
import { compareInterleaved, median, medianWithCi, type BenchOptions } from './lib.ts';

const BATCH = 32;
const CLASSES = 100;
const PER_IDENTITY = 4;
/** Steps per sample, recorded back to back. */
const STEPS = 3;
/** rowAngles calls per sample of the angle comparison. */
const ANGLE_CALLS = 50;
const LOSS = { s: 16, m: 0.3 };

export interface Setup {
  student: Layer;
  /** The same FP model unfolded (eval mode): what "one FP forward pass" costs. */
  fp: Layer;
  head: Tensor;
  x: Tensor;
  labels: Tensor;
  labelsCpu: Int32Array;
  opt: SGD;
  qat: Objective;
  rcm: RcmObjective;
}

/** As training builds them: the student W4A4, the teacher frozen and folded (train/rcm-objective.ts). */
export async function build(): Promise<Setup> {
  const model = PRESETS.tiny!.model;
  const student = buildModel(model, 1, quantConfig('W4A4')).train();
  const head = buildHead(CLASSES, model.numFeatures, 2);
  const labelsCpu = Int32Array.from({ length: BATCH }, (_, i) => Math.floor(i / PER_IDENTITY));
  return {
    student, head, labelsCpu,
    fp: buildModel(model, 1).eval(),
    x: keep(randn([BATCH, 3, model.inputSize, model.inputSize], { seed: 3 })),     // [N, 3, H, W]
    labels: keep(fromArray(labelsCpu, [BATCH], 'i32')),
    opt: new SGD([...student.parameters(), head], { lr: 0.001, momentum: 0.9 }),
    qat: marginObjective({ kind: 'arcface', ...LOSS }),
    rcm: rcmObjective({ model: await freezeTeacher(buildModel(model, 1)) }, { ...LOSS, lambda: 1 }),
  };
}

/** STEPS training steps with `objective` as the trainer runs them (QAT and RCM update the same
 *  student: only time matters), or STEPS FP forwards for 'fp'. */
export function stepsOf(s: Setup, kind: 'qat' | 'rcm' | 'fp'): () => void {
  const step = (): void => {
    if (kind === 'fp') {
      noGrad(() => s.fp.forward(s.x));
      return;
    }
    const out = s[kind].loss(s.student, s.head, s.x, s.labels, s.labelsCpu);
    backward(out.loss);
    s.opt.step();
    s.opt.zeroGrad();
  };
  return () => {
    for (let i = 0; i < STEPS; i++) {
      tidy(step);
      gpu().recorder.flush();
    }
  };
}

export async function main(opts: BenchOptions & { rounds?: number } = {}): Promise<void> {
  await initGpu();
  const s = await build();
  tidy(() => s.student.forward(s.x)); // quantizers initialize on their first training batch
  const [rcm, fp, qat] = await compareInterleaved([
    [`steps${STEPS}_rcm_w4a4_tiny_b32`, stepsOf(s, 'rcm')],
    [`forwards${STEPS}_fp_tiny_b32`, stepsOf(s, 'fp')],
    [`steps${STEPS}_qat_w4a4_tiny_b32`, stepsOf(s, 'qat')],
  ], opts.rounds ?? 20, opts.json);
  // The folded teacher's forward as RCM runs it (no gradient: the convs apply PReLU and the shortcut
  // add as they store) against the same forward recorded for autograd (an input that needs a gradient
  // takes the unfused path; it also pays the host's recording of the tape, a small part), and the
  // unfolded FP forward.
  const xNeedsGrad = parameter(randn(s.x.shape, { seed: 3 }));
  await compareInterleaved([
    ['teacher_forward_folded_fused', () => noGrad(() => s.rcm.teacher.forward(s.x))],
    ['teacher_forward_folded_unfused', () => s.rcm.teacher.forward(xNeedsGrad)],
    ['forward_fp_unfolded', () => noGrad(() => s.fp.forward(s.x))],
  ], opts.rounds ?? 12, opts.json);
  xNeedsGrad.dispose();
  s.opt.dispose();
  s.student.dispose();
  s.rcm.dispose?.();
  s.fp.dispose();
  dispose([s.head, s.x, s.labels]);
  gpu().pool.trim();
  // RCM's angle kernel (no gradient: theta_Q detached) against the composition of differentiable ops
  // (an operand that needs a gradient takes it), ANGLE_CALLS calls per sample: one call is well under
  // the ~0.8 ms a sample's sync costs.
  const [a, b] = [keep(randn([BATCH, 64], { seed: 5 })), keep(randn([BATCH, 64], { seed: 6 }))];   // [N, D]
  const bNeedsGrad = parameter(randn([BATCH, 64], { seed: 6 }));                                    // [N, D]
  const repeat = (f: () => unknown) => (): void => { for (let i = 0; i < ANGLE_CALLS; i++) f(); };
  await compareInterleaved([
    [`row_angles_fused_32x64_x${ANGLE_CALLS}`, repeat(() => rowAngles(a, b))],
    [`row_angles_composed_32x64_x${ANGLE_CALLS}`, repeat(() => rowAngles(a, bNeedsGrad))],
  ], 30, opts.json);
  dispose([a, b, bNeedsGrad]);
  const extra = medianWithCi(rcm!.times_ms.map((t, r) => (t - qat!.times_ms[r]!) / fp!.times_ms[r]!));
  const summary = {
    case: 'rcm_overhead', median_ms: rcm!.median_ms / STEPS, qat_step_ms: qat!.median_ms / STEPS, fp_forward_ms: fp!.median_ms / STEPS,
    rcm_over_qat: median(rcm!.times_ms.map((t, r) => t / qat!.times_ms[r]!)),
    extra_in_fp_forwards: extra.median, extra_ci95: [extra.low, extra.high], within_budget: extra.high <= 1,
  };
  console.log(opts.json ? JSON.stringify(summary) : `per step: RCM ${summary.median_ms.toFixed(1)} ms, QAT ${summary.qat_step_ms.toFixed(1)} ms (RCM/QAT ${summary.rcm_over_qat.toFixed(3)}x), FP forward ${summary.fp_forward_ms.toFixed(1)} ms\nRCM's extra = ${extra.median.toFixed(2)} FP forwards (95% interval ${extra.low.toFixed(2)}-${extra.high.toFixed(2)}; budget 1: ${summary.within_budget ? 'met' : 'not shown to be met'})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
