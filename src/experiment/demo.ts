// npm run demo: train FP, fine-tune W4A4 with ArcFace (QAT) and with RCM from it, analyze PTQ at
// 8/6/4 bits, and print one table: FP, PTQ-8, PTQ-4, QAT-4, RCM-4 with verification accuracy and
// TAR@FAR=1e-2 on unseen identities, plus the analysis figures.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../analysis/run.ts';
import { markdownTable, type QuantErrorRow } from '../analysis/quant-error.ts';
import { writeFileAtomic } from '../io/safetensors.ts';
import type { TrainSummary } from '../train/trainer.ts';
import { fpConfigFor, quantConfigFor, runDirs, type ExperimentPlan } from './plan.ts';
import { trainOnce } from './run-once.ts';

export interface DemoResult {
  outDir: string;
  rows: QuantErrorRow[];
  table: string;
  seconds: Record<string, number>;
}

async function timed<T>(seconds: Record<string, number>, key: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const out = await fn();
  seconds[key] = (performance.now() - start) / 1000;
  return out;
}

export async function runDemo(plan: ExperimentPlan, outDir: string, seed = 1, say: (m: string) => void = console.error): Promise<DemoResult> {
  mkdirSync(outDir, { recursive: true });
  const dirs = runDirs(outDir, plan);
  const seconds: Record<string, number> = {};
  const fpConfig = fpConfigFor(plan, seed);
  say(`\n[1/4] full-precision ${fpConfig.model.arch} (width ${fpConfig.model.width}, ${fpConfig.model.inputSize}x${fpConfig.model.inputSize}), ${fpConfig.steps} steps`);
  const fp: TrainSummary = await timed(seconds, 'fp', () => trainOnce(fpConfig, dirs.fp, undefined, say));
  say(`\n[2/4] QAT ${plan.policy} with ArcFace from the FP checkpoint, ${plan.quantSteps} steps`);
  await timed(seconds, 'qat', () => trainOnce(quantConfigFor(plan, seed, 'arcface', dirs.fp), dirs.qat(seed), dirs.fp, say));
  say(`\n[3/4] RCM ${plan.policy} (lambda ${plan.lambda}) from the FP checkpoint, same seed and steps`);
  await timed(seconds, 'rcm', () => trainOnce(quantConfigFor(plan, seed, 'rcm', dirs.fp), dirs.rcm(seed), dirs.fp, say));
  say(`\n[4/4] analysis: PTQ at ${plan.ptqBits.join('/')} bits, QAT and RCM against the FP model on unseen identities`);
  const bitsTag = plan.policy.replace(/^W(\d+).*/, '$1');
  const analysis = await timed(seconds, 'analysis', () =>
    analyze({ checkpoint: dirs.fp, bits: plan.ptqBits, compare: { [`QAT-${bitsTag}`]: dirs.qat(seed), [`RCM-${bitsTag}`]: dirs.rcm(seed) }, outDir: dirs.analysis, onProgress: say }));
  const table = markdownTable(analysis.rows);
  const total = Object.values(seconds).reduce((a, b) => a + b, 0);
  const report = [
    `# lowbit demo: ${plan.description}`,
    '',
    `Verification on ${fp.verification?.pairs ?? '?'} pairs of unseen identities (chance ${fp.verification?.chance.toFixed(2) ?? '0.50'}); angles in degrees, against the FP model.`,
    '',
    table,
    '',
    `Times (s): FP ${seconds.fp!.toFixed(0)}, QAT ${seconds.qat!.toFixed(0)}, RCM ${seconds.rcm!.toFixed(0)}, analysis ${seconds.analysis!.toFixed(0)}; total ${total.toFixed(0)}.`,
    '',
    `Plots: ${analysis.plots.map((p) => p.slice(outDir.length + 1)).join(', ')}`,
  ].join('\n');
  writeFileAtomic(join(outDir, 'demo.md'), `${report}\n`);
  writeFileAtomic(join(outDir, 'demo.json'), `${JSON.stringify({ plan, seed, seconds, rows: analysis.rows }, null, 2)}\n`);
  return { outDir, rows: analysis.rows, table, seconds };
}
