// The demo pipeline and the seeds experiment end to end, shrunk to seconds.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/experiment/demo.ts';
import type { ExperimentPlan } from '../src/experiment/plan.ts';
import { EXPERIMENTS, fpConfigFor, planNamed, quantConfigFor } from '../src/experiment/plan.ts';
import { runSeeds, stats } from '../src/experiment/seeds.ts';
import { MICRO, tmpDir } from './micro.ts';

const PLAN: ExperimentPlan = {
  fpPreset: 'tiny',
  overrides: { ...MICRO, steps: 4 },
  quantSteps: 4,
  quantLr: 0.01,
  policy: 'W4A4',
  lambda: 1,
  ptqBits: [8, 4],
  perIdentity: 2,
  description: 'micro test plan',
};
const quiet = (): void => undefined;

describe('experiments', () => {
  it('QAT and RCM runs share seed, steps, data and FP checkpoint; only the loss differs', () => {
    const qat = quantConfigFor(PLAN, 3, 'arcface', '/fp');
    const rcm = quantConfigFor(PLAN, 3, 'rcm', '/fp');
    expect(rcm.loss).toMatchObject({ kind: 'rcm', teacher: '/fp', lambda: 1 });
    expect({ ...rcm, loss: null }).toEqual({ ...qat, loss: null });
    expect(qat.seed).toBe(3);
    expect(qat.quant?.policy).toBe('W4A4');
    expect(qat.data.perIdentity).toBe(2);
  });

  it('the demo trains FP, QAT and RCM, analyzes PTQ and writes one table with every row', async () => {
    const out = tmpDir('demo');
    const result = await runDemo(PLAN, out, 1, quiet);
    expect(result.rows.map((r) => r.label)).toEqual(['FP', 'PTQ-8', 'PTQ-4', 'QAT-4', 'RCM-4']);
    for (const r of result.rows) expect(r.verification!.accuracy).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'demo.md'), 'utf8')).toContain('| RCM-4 |');
    for (const f of ['analysis/class_error_vs_bits.png', 'analysis/roc.png', 'fp/checkpoint.safetensors', 'rcm-w4a4-seed1/log.jsonl']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('the seeds experiment reports mean, standard deviation and the paired difference', async () => {
    const out = tmpDir('seeds');
    const report = await runSeeds(PLAN, out, [1, 2], undefined, quiet);
    expect(report.seeds.map((s) => s.seed)).toEqual([1, 2]);
    expect(report.qat.n).toBe(2);
    expect(report.difference.mean).toBeCloseTo(report.rcm.mean - report.qat.mean, 12);
    expect(report.tar.difference.n).toBe(report.seeds.filter((s) => s.qat.tar_at_far_1e2 !== null && s.rcm.tar_at_far_1e2 !== null).length);
    expect(readFileSync(join(out, 'experiment.md'), 'utf8')).toMatch(/RCM - QAT \(paired by seed\)/);

    // Rerun after a crash: finished runs are reused, an interrupted one resumes from its checkpoint.
    rmSync(join(out, 'rcm-w4a4-seed2', 'summary.json'));
    const said: string[] = [];
    const again = await runSeeds(PLAN, out, [1, 2], undefined, (m) => said.push(m));
    expect(said.filter((m) => m.startsWith('reusing the finished run'))).toHaveLength(4);
    expect(said.filter((m) => m.startsWith('resuming the interrupted run'))).toEqual([`resuming the interrupted run in ${join(out, 'rcm-w4a4-seed2')} from its last checkpoint`]);
    expect(again.seeds).toEqual(report.seeds);
  });

  it('every preset of lowbit demo / experiment resolves to valid FP, QAT and RCM configs', () => {
    for (const [name, plan] of Object.entries(EXPERIMENTS)) {
      const fp = fpConfigFor(plan, 1);
      const qat = quantConfigFor(plan, 1, 'arcface', '/fp');
      expect(quantConfigFor(plan, 1, 'rcm', '/fp').data.perIdentity, name).toBe(qat.data.perIdentity);
      expect(qat.model, name).toEqual(fp.model);
      expect(qat.steps, name).toBe(plan.quantSteps);
    }
    expect(() => planNamed('huge')).toThrow(/unknown preset 'huge' \(known: tiny, demo, faces112, casia\)/);
  });

  it('stats uses the sample standard deviation', () => {
    expect(stats([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3), n: 4 });
  });
});
