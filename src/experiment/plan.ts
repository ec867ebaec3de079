// The paper's experiment as runnable plans: a full-precision model, then W4A4 quantization-aware
// training with plain ArcFace (QAT) and with RCM, both from that FP checkpoint with the same seed and
// number of steps, then the PTQ analysis. Each plan names the training preset of its FP model and the
// fine-tuning settings of the quantized runs.
import { join } from 'node:path';
import { UsageError } from '../cli/args.ts';
import { merge, RCM_DEFAULTS, resolveConfig, type TrainConfig } from '../train/config.ts';

export interface ExperimentPlan {
  /** Training preset of the full-precision model. */
  fpPreset: string;
  /** Config fields merged over the preset, for the FP and the quantized runs alike (tests shrink it). */
  overrides?: Record<string, unknown>;
  /** Fine-tuning steps of each quantized run (QAT and RCM alike). */
  quantSteps: number;
  /** Learning rate of the quantized fine-tuning (cosine to 0, short warm-up). */
  quantLr: number;
  policy: string;
  /** RCM's weight of the individual error. */
  lambda: number;
  /** PTQ bit widths analyzed. */
  ptqBits: number[];
  /** Images per identity in a batch of the quantized runs (QAT and RCM alike): RCM's per-batch class
   *  centres need several images of a class in a batch. */
  perIdentity: number;
  /** What it is for, for --help and the report. */
  description: string;
}

export const EXPERIMENTS: Record<string, ExperimentPlan> = {
  /** A smoke run of the whole pipeline (about a minute). */
  tiny: { fpPreset: 'tiny', quantSteps: 60, quantLr: 0.01, policy: 'W4A4', lambda: 1, ptqBits: [8, 6, 4], perIdentity: 4, description: 'smoke run: tiny preset, 60 quantized steps' },
  /** npm run demo: fits in 15 minutes on the 2-core CPU adapter. */
  demo: { fpPreset: 'demo', quantSteps: 400, quantLr: 0.01, policy: 'W4A4', lambda: 1, ptqBits: [8, 6, 4], perIdentity: 4, description: 'the default run: demo preset on synthetic faces, 400 quantized steps' },
  /** Scaled up, for a real GPU: full-width iresnet18 at 112x112 on synthetic faces. */
  faces112: { fpPreset: 'faces112', quantSteps: 2000, quantLr: 0.01, policy: 'W4A4', lambda: 1, ptqBits: [8, 6, 4, 3, 2], perIdentity: 4, description: 'full-width iresnet18 at 112x112 on synthetic faces, 2,000 quantized steps (for a real GPU)' },
  /** The paper's setting, for a real GPU: the casia training preset on the user's CASIA-WebFace .rec,
   *  verified on its lfw.bin. */
  casia: { fpPreset: 'casia', quantSteps: 20000, quantLr: 0.01, policy: 'W4A4', lambda: 1, ptqBits: [8, 6, 4, 3, 2], perIdentity: 4, description: 'iresnet18 112x112 on CASIA-WebFace (data/faces_webface_112x112), 20,000 quantized steps (for a real GPU)' },
};

/** The plan named by a command line's --preset, or a usage error listing the known ones. */
export function planNamed(name: string): ExperimentPlan {
  const plan = EXPERIMENTS[name];
  if (!plan) throw new UsageError(`unknown preset '${name}' (known: ${Object.keys(EXPERIMENTS).join(', ')})`);
  return plan;
}

/** The config of the full-precision run. */
export function fpConfigFor(plan: ExperimentPlan, seed: number): TrainConfig {
  return resolveConfig({ ...plan.overrides, preset: plan.fpPreset, seed });
}

/** The config of a quantized fine-tuning run (plain ArcFace QAT, or RCM against `teacher`). */
export function quantConfigFor(plan: ExperimentPlan, seed: number, loss: 'arcface' | 'rcm', teacher: string): TrainConfig {
  const fp = fpConfigFor(plan, seed);
  const logEvery = Math.max(1, Math.min(fp.logEvery, Math.floor(plan.quantSteps / 4)));
  const over: Record<string, unknown> = merge(structuredClone(plan.overrides ?? {}), {
    preset: plan.fpPreset,
    seed,
    steps: plan.quantSteps,
    quant: plan.policy,
    optimizer: { lr: plan.quantLr },
    schedule: { kind: 'cosine', warmupSteps: Math.min(20, Math.floor(plan.quantSteps / 10)) },
    data: { perIdentity: plan.perIdentity },
    logEvery,
    checkpointEvery: logEvery * Math.max(1, Math.floor(plan.quantSteps / logEvery / 2)),
  });
  if (loss === 'rcm') {
    if (fp.loss.kind !== 'arcface') throw new Error(`experiment: RCM extends ArcFace; preset '${plan.fpPreset}' trains with ${fp.loss.kind}`);
    over.loss = { ...RCM_DEFAULTS, kind: 'rcm', s: fp.loss.s, m: fp.loss.m, lambda: plan.lambda, teacher };
  }
  return resolveConfig(over);
}

/** Where each run of an experiment writes, under its output folder. */
export function runDirs(out: string, plan: ExperimentPlan) {
  const tag = plan.policy.toLowerCase();
  return {
    fp: join(out, 'fp'),
    qat: (seed: number) => join(out, `qat-${tag}-seed${seed}`),
    rcm: (seed: number) => join(out, `rcm-${tag}-seed${seed}`),
    analysis: join(out, 'analysis'),
  };
}
