// RCM training end to end: `lowbit train --init FP --quant W4A4 --loss rcm --lambda L` runs the frozen
// teacher beside the quantized student and logs the three angular errors at each logged step.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, RCM_PER_IDENTITY, resolveConfig } from '../src/train/config.ts';
import { train } from '../src/train/trainer.ts';
import { noGrad } from '../src/autograd.ts';
import { loadCheckpoint } from '../src/io/checkpoint.ts';
import { BatchNorm } from '../src/nn/norm.ts';
import { randn } from '../src/ops/creation.ts';
import { dispose } from '../src/tensor.ts';
import { buildModel } from '../src/train/model.ts';
import { loadTeacher } from '../src/train/rcm-objective.ts';
import { expectClose } from './helpers.ts';
import { lowbit, MICRO, readLog, tmpDir } from './micro.ts';

const tmp = (): string => tmpDir('rcm');
const MICRO4 = { ...MICRO, steps: 4, schedule: { warmupSteps: 1 } };

describe('RCM training', () => {
  it('trains a W4A4 student against the FP teacher from the command line, logging AQE, class and individual errors', async () => {
    const fp = tmp();
    await train(resolveConfig(MICRO4), { outDir: fp, quiet: true, evaluate: false });
    const config = join(tmp(), 'micro.json');
    writeFileSync(config, JSON.stringify(MICRO4));
    const out = tmp();
    lowbit(['train', '--config', config, '--init', fp, '--quant', 'W4A4', '--loss', 'rcm', '--lambda', '0.5', '--out', out]);
    const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(saved.loss).toMatchObject({ kind: 'rcm', lambda: 0.5, detach: true, centres: 'batch', teacher: fp });
    const log = readLog(out);
    expect(log.map((r) => r.step)).toEqual([2, 4]);
    for (const r of log) {
      expect(r.aqe_deg).toBeGreaterThan(0);
      expect(r.class_error_deg).toBeGreaterThanOrEqual(0);
      expect(r.individual_error_deg).toBeGreaterThanOrEqual(0);
      // |AQE - class error| <= AQE for each sample, so the means obey it too
      expect(r.individual_error_deg).toBeLessThanOrEqual(r.aqe_deg + 1e-9);
    }
    expect(JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')).accuracy).toBeGreaterThan(0);
  });

  it('running centres train, and a resume restores them from the checkpoint (the same losses and angles)', async () => {
    const fp = tmp();
    await train(resolveConfig(MICRO4), { outDir: fp, quiet: true, evaluate: false });
    const config = resolveConfig({ ...MICRO4, checkpointEvery: 2, quant: 'W4A4', loss: { kind: 'rcm', lambda: 1, centres: 'running', decay: 0.5, teacher: fp } });
    const whole = tmp();
    await train(config, { outDir: whole, quiet: true, evaluate: false, init: fp });
    expect(readLog(whole).every((r) => Number.isFinite(r.loss) && r.aqe_deg! > 0)).toBe(true);
    const parted = tmp();
    await train(config, { outDir: parted, quiet: true, evaluate: false, init: fp, stopAfter: 2 });
    await train(config, { outDir: parted, quiet: true, evaluate: false, resume: true });
    const angles = (dir: string) => readLog(dir).map((r) => [r.loss, r.aqe_deg, r.class_error_deg, r.individual_error_deg]);
    expect(angles(parted)).toEqual(angles(whole));
  });

  it('classifier centres: the class error starts near 0 (the student head is a copy of the teacher\'s) and stays below AQE', async () => {
    const fp = tmp();
    await train(resolveConfig(MICRO4), { outDir: fp, quiet: true, evaluate: false });
    const out = tmp();
    await train(resolveConfig({ ...MICRO4, quant: 'W4A4', loss: { kind: 'rcm', lambda: 1, centres: 'classifier', teacher: fp } }), { outDir: out, quiet: true, evaluate: false, init: fp });
    const log = readLog(out);
    expect(log[0]!.class_error_deg).toBeLessThan(log[0]!.aqe_deg! / 2);
    for (const r of log) expect(Number.isFinite(r.loss) && r.individual_error_deg! > 0).toBe(true);
  });

  it('RCM with per-batch centres samples identity-balanced batches unless the config chooses', () => {
    const rcm = { kind: 'rcm', teacher: 'fp' };
    expect(resolveConfig({ ...MICRO4, quant: 'W4A4', loss: rcm }).data.perIdentity).toBe(RCM_PER_IDENTITY);
    expect(resolveConfig({ ...MICRO4, quant: 'W4A4', loss: rcm, data: { perIdentity: 0 } }).data.perIdentity).toBe(0);
    expect(resolveConfig({ ...MICRO4, quant: 'W4A4', loss: { ...rcm, centres: 'running' } }).data.perIdentity).toBe(0);
    expect(resolveConfig({ ...MICRO4, quant: 'W4A4' }).data.perIdentity).toBe(0);
  });

  it('the teacher has its batch norms folded (fewer dispatches) and embeds as the FP model does', async () => {
    const fp = tmp();
    const config = resolveConfig(MICRO4);
    await train(config, { outDir: fp, quiet: true, evaluate: false });
    const teacher = await loadTeacher(config.model, config.seed, fp);
    const plain = buildModel(config.model, config.seed);
    dispose([...loadCheckpoint(fp, plain).extra.values()]);
    plain.eval();
    const x = randn([3, 3, config.model.inputSize, config.model.inputSize], { seed: 9 });
    const [want, got] = [await noGrad(() => plain.forward(x)).toArray(), await noGrad(() => teacher.model.forward(x)).toArray()];
    expectClose(got, want, { atol: 1e-4, rtol: 1e-4 }, 'teacher embedding');
    expect(teacher.model.namedModules().filter(([, m]) => m instanceof BatchNorm).length).toBeLessThan(plain.namedModules().filter(([, m]) => m instanceof BatchNorm).length);
    teacher.model.dispose();
    teacher.head?.dispose();
    plain.dispose();
  });

  it('config errors name what RCM needs', () => {
    expect(() => resolveConfig({ ...MICRO4, loss: { kind: 'rcm' } })).toThrow(ConfigError);
    expect(() => resolveConfig({ ...MICRO4, loss: { kind: 'rcm' } })).toThrow(/loss.teacher: RCM needs the full-precision teacher checkpoint/);
    expect(() => resolveConfig({ ...MICRO4, loss: { kind: 'rcm', teacher: 'x' } })).toThrow(/quant: RCM trains a quantized student/);
    expect(() => resolveConfig({ ...MICRO4, quant: 'W4A4', loss: { kind: 'rcm', teacher: 'x', centres: 'global' } })).toThrow(/loss.centres: expected one of 'batch', 'running'/);
  });
});
