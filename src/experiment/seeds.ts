// lowbit experiment --seeds N: QAT vs RCM repeated over seeds from one FP checkpoint, with the mean and
// standard deviation of each and of their paired difference, so a difference can be told from noise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPath } from '../io/checkpoint.ts';
import { writeFileAtomic } from '../io/safetensors.ts';
import { fpConfigFor, quantConfigFor, runDirs, type ExperimentPlan } from './plan.ts';
import { trainOnce } from './run-once.ts';

export interface SeedResult {
  seed: number;
  qat: { accuracy: number; tar_at_far_1e2: number | null };
  rcm: { accuracy: number; tar_at_far_1e2: number | null };
}

export interface Stats {
  mean: number;
  std: number;
  n: number;
}

/** Mean and sample standard deviation (n - 1). */
export function stats(values: readonly number[]): Stats {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

export interface SeedsReport {
  seeds: SeedResult[];
  qat: Stats;
  rcm: Stats;
  /** RCM - QAT accuracy per seed (same FP, same seed, same steps). */
  difference: Stats;
  /** difference.mean / (difference.std / sqrt(n)): |t| well above 2 suggests more than noise. */
  t: number;
  /** The same for TAR at FAR = 1e-2 (seeds where both runs have it). */
  tar: { qat: Stats; rcm: Stats; difference: Stats; t: number };
}

/** Student's t of a paired difference (0 when it has no spread). */
const pairedT = (d: Stats): number => (d.std > 0 ? d.mean / (d.std / Math.sqrt(d.n)) : 0);

export async function runSeeds(plan: ExperimentPlan, outDir: string, seeds: number[], fpCheckpoint?: string, say: (m: string) => void = console.error): Promise<SeedsReport> {
  mkdirSync(outDir, { recursive: true });
  const dirs = runDirs(outDir, plan);
  let teacher = fpCheckpoint;
  if (!teacher) {
    say(`the full-precision model (${plan.fpPreset})`);
    await trainOnce(fpConfigFor(plan, seeds[0]!), dirs.fp, undefined, say);
    teacher = dirs.fp;
  }
  checkpointPath(teacher);
  const results: SeedResult[] = [];
  for (const seed of seeds) {
    const accuracyOf = async (loss: 'arcface' | 'rcm', dir: string): Promise<{ accuracy: number; tar_at_far_1e2: number | null }> => {
      say(`seed ${seed}: ${loss === 'rcm' ? 'RCM' : 'QAT'} ${plan.policy}`);
      const s = await trainOnce(quantConfigFor(plan, seed, loss, teacher!), dir, teacher, say);
      return { accuracy: s.verification!.accuracy, tar_at_far_1e2: s.verification!.tar_at_far['0.01'] ?? null };
    };
    results.push({ seed, qat: await accuracyOf('arcface', dirs.qat(seed)), rcm: await accuracyOf('rcm', dirs.rcm(seed)) });
  }
  const difference = stats(results.map((r) => r.rcm.accuracy - r.qat.accuracy));
  const withTar = results.filter((r) => r.qat.tar_at_far_1e2 !== null && r.rcm.tar_at_far_1e2 !== null);
  const tarDifference = stats(withTar.map((r) => r.rcm.tar_at_far_1e2! - r.qat.tar_at_far_1e2!));
  const report: SeedsReport = {
    seeds: results,
    qat: stats(results.map((r) => r.qat.accuracy)),
    rcm: stats(results.map((r) => r.rcm.accuracy)),
    difference,
    t: pairedT(difference),
    tar: {
      qat: stats(withTar.map((r) => r.qat.tar_at_far_1e2!)),
      rcm: stats(withTar.map((r) => r.rcm.tar_at_far_1e2!)),
      difference: tarDifference,
      t: pairedT(tarDifference),
    },
  };
  writeFileAtomic(join(outDir, 'experiment.json'), `${JSON.stringify({ plan, teacher, ...report }, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'experiment.md'), `${formatSeeds(report, plan)}\n`);
  return report;
}

export function formatSeeds(r: SeedsReport, plan: ExperimentPlan): string {
  const pct = (v: number): string => (100 * v).toFixed(2);
  const lines = [
    `# QAT vs RCM, ${plan.policy}, ${r.seeds.length} seeds (${plan.description})`,
    '',
    '| seed | QAT accuracy | RCM accuracy | RCM - QAT | QAT TAR@1e-2 | RCM TAR@1e-2 |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.seeds.map((s) => `| ${s.seed} | ${pct(s.qat.accuracy)}% | ${pct(s.rcm.accuracy)}% | ${(100 * (s.rcm.accuracy - s.qat.accuracy)).toFixed(2)} | ${s.qat.tar_at_far_1e2?.toFixed(4) ?? 'n/a'} | ${s.rcm.tar_at_far_1e2?.toFixed(4) ?? 'n/a'} |`),
    '',
    `QAT: ${pct(r.qat.mean)}% ± ${pct(r.qat.std)} (mean ± sd over seeds)`,
    `RCM: ${pct(r.rcm.mean)}% ± ${pct(r.rcm.std)}`,
    `RCM - QAT (paired by seed): ${(100 * r.difference.mean).toFixed(2)} ± ${(100 * r.difference.std).toFixed(2)} points, t = ${r.t.toFixed(2)} with ${r.difference.n - 1} degrees of freedom`,
  ];
  if (r.tar.difference.n > 0) {
    lines.push(
      '',
      `TAR@FAR=1e-2: QAT ${r.tar.qat.mean.toFixed(4)} ± ${r.tar.qat.std.toFixed(4)}, RCM ${r.tar.rcm.mean.toFixed(4)} ± ${r.tar.rcm.std.toFixed(4)}; ` +
        `RCM - QAT ${r.tar.difference.mean.toFixed(4)} ± ${r.tar.difference.std.toFixed(4)}, t = ${r.tar.t.toFixed(2)} with ${r.tar.difference.n - 1} degrees of freedom`,
    );
  }
  return lines.join('\n');
}
