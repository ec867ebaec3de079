import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../src/data/open.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { ConfigError, resolveConfig, validateConfig } from '../src/train/config.ts';
import { train, TrainingDivergedError } from '../src/train/trainer.ts';
import { lowbit, micro, MICRO, readLog, tmpDir } from './micro.ts';

const tmp = (): string => tmpDir('train');
const microConfig = micro;

describe('trainer', () => {
  it('resume continues exactly: the same losses as an uninterrupted run', async () => {
    const whole = tmp();
    await train(microConfig(), { outDir: whole, quiet: true, evaluate: false });
    const interrupted = tmp();
    await train(microConfig(), { outDir: interrupted, quiet: true, evaluate: false, stopAfter: 4 });
    expect(readLog(interrupted).map((r) => r.step)).toEqual([2, 4]);
    await train(microConfig(), { outDir: interrupted, quiet: true, evaluate: false, resume: true });
    const a = readLog(whole);
    const b = readLog(interrupted);
    expect(b.map((r) => r.step)).toEqual([2, 4, 6, 8]);
    expect(b.map((r) => r.loss)).toEqual(a.map((r) => r.loss));
    expect(b.map((r) => r.acc)).toEqual(a.map((r) => r.acc));
    expect(readSafetensors(join(interrupted, 'checkpoint.safetensors')).metadata.step).toBe('8');

    // From the command line, `--resume --out DIR` alone continues with the config saved in DIR.
    const viaCli = tmp();
    await train(microConfig(), { outDir: viaCli, quiet: true, evaluate: false, stopAfter: 4 });
    lowbit(['train', '--resume', '--out', viaCli]);
    expect(readLog(viaCli).map((r) => r.loss)).toEqual(a.map((r) => r.loss));
  });

  it('the command line refuses RCM without the checkpoint to fine-tune from', () => {
    const config = join(tmp(), 'rcm.json');
    writeFileSync(config, JSON.stringify({ ...MICRO, quant: 'W4A4', loss: { kind: 'rcm', teacher: '/runs/fp' } }));
    expect(() => lowbit(['train', '--config', config, '--out', tmp()])).toThrow(/RCM fine-tunes a quantized student from the full-precision checkpoint: give --init \/runs\/fp/);
  });

  it('stops on a NaN/Inf loss with a clear message and keeps the last good checkpoint', async () => {
    const dir = tmp();
    // Four sane steps, then the learning rate jumps by 1e14 with no clipping: the weights blow up.
    const config = microConfig({ steps: 40, clipGradNorm: 0, checkpointEvery: 2, schedule: { kind: 'multistep', warmupSteps: 0, milestones: [4], gamma: 1e14 } });
    const error = await train(config, { outDir: dir, quiet: true, evaluate: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const message = (error as Error).message;
    expect(message).toMatch(/the loss became (NaN|Infinity|-Infinity) between steps \d+ and \d+; training stopped/);
    const log = readLog(dir);
    const kept = readSafetensors(join(dir, 'checkpoint.safetensors')).metadata.step;
    // The checkpoint is the last step whose loss was finite.
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(Number(kept)).toBe(log[log.length - 1]!.step);
    expect(message).toContain(`last good checkpoint (step ${kept})`);
  });

  it('trains, then evaluates on unseen identities and writes eval.json and roc.png', async () => {
    const dir = tmp();
    const summary = await train(microConfig({ steps: 4 }), { outDir: dir, quiet: true });
    expect(summary.verification!.pairs).toBe(40);
    expect(summary.verification!.accuracy).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'roc.png'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')).accuracy).toBe(summary.verification!.accuracy);

    // lowbit eval on the checkpoint reproduces the held-out verification as JSON.
    const out = lowbit(['eval', '--checkpoint', dir, '--json']);
    const parsed = JSON.parse(out) as { accuracy: number; accuracy_std: number; tar_at_far: Record<string, number | null> };
    expect(parsed.accuracy).toBe(summary.verification!.accuracy);
    expect(parsed.accuracy_std).toBeGreaterThanOrEqual(0);
    expect(Object.keys(parsed.tar_at_far)).toEqual(['0.1', '0.01', '0.001', '0.0001']);

    // --identification: each held-out identity's first image in the gallery, the others as probes.
    const withId = JSON.parse(lowbit(['eval', '--checkpoint', dir, '--identification', '--json'])) as { accuracy: number; identification: { probes: number; identities: number; rank_accuracy: { rank: number; accuracy: number }[] } };
    expect(withId.accuracy).toBe(summary.verification!.accuracy);
    const heldOut = openDataset(microConfig().data.heldOut);
    expect(withId.identification.identities).toBe(heldOut.numClasses);
    expect(withId.identification.probes).toBe(heldOut.length - heldOut.numClasses);
    const [r1, r5, r10] = withId.identification.rank_accuracy;
    expect([r1!.rank, r5!.rank, r10!.rank]).toEqual([1, 5, 10]);
    expect(r1!.accuracy).toBeLessThanOrEqual(r5!.accuracy);
    expect(r5!.accuracy).toBeLessThanOrEqual(r10!.accuracy);
  });
});

describe('config validation', () => {
  it('names every field at fault', () => {
    const bad = () => resolveConfig({ steps: 0, model: { width: -1, inputSize: 30 }, optimizer: { lr: 'fast' }, loss: { kind: 'sphere' }, data: { pairs: 5 }, shuffle: true });
    expect(bad).toThrow(ConfigError);
    let message = '';
    try { bad(); } catch (e) { message = (e as Error).message; }
    for (const part of [
      'steps: must be >= 1, got 0',
      'model.width: must be > 0, got -1',
      'model.inputSize: must be divisible by 16, got 30',
      'optimizer.lr: expected a number, got "fast"',
      "loss.kind: expected one of 'arcface', 'cosface', 'combined', 'rcm', got \"sphere\"",
      'data.pairs: must be >= 20, got 5',
      'shuffle: unknown field',
    ]) expect(message).toContain(part);
  });

  it('names a misspelled or out-of-range synthetic-data option', () => {
    const bad = () => resolveConfig({ data: { train: { kind: 'synthetic', options: { identites: 50, difficulty: 2, split: 'train' } } } });
    expect(bad).toThrow(/data\.train\.options\.identites: unknown field \(known: seed, identities,/);
    expect(bad).toThrow(/data\.train\.options\.difficulty: must be <= 1, got 2/);
  });

  it('merges a config over its preset', () => {
    const c = resolveConfig({ preset: 'demo', steps: 7, loss: { m: 0.2 } });
    expect(c.steps).toBe(7);
    expect(c.loss).toEqual({ kind: 'arcface', s: 16, m: 0.2 });
    expect(c.model.arch).toBe('iresnet18');
    expect(() => resolveConfig({ preset: 'nope' })).toThrow("preset: unknown preset 'nope'");
    expect(() => validateConfig([])).toThrow(ConfigError);
  });
});
