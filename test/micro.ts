// The micro training run the trainer, QAT, RCM and experiment tests share: 16x16 faces of 16
// identities (4 held out), a 1/16-width iresnet18, a few steps, seconds on the CPU adapter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { merge, resolveConfig, type TrainConfig } from '../src/train/config.ts';
import type { LogRecord } from '../src/train/trainer.ts';

const FACES = { identities: 16, heldOutIdentities: 4, imagesPerIdentity: 6, size: 16 };

/** Config fields over the tiny preset (a config file may hold exactly this). */
export const MICRO: Record<string, unknown> = {
  preset: 'tiny',
  steps: 8,
  batchSize: 8,
  logEvery: 2,
  checkpointEvery: 4,
  model: { width: 0.0625, inputSize: 16, numFeatures: 16 },
  data: { train: { options: FACES }, heldOut: { options: FACES }, pairs: 40, workers: 0 },
  schedule: { warmupSteps: 2 },
};

/** The micro config with `over` merged in (deeply). */
export const micro = (over: Record<string, unknown> = {}): TrainConfig => resolveConfig(merge(structuredClone(MICRO), over));

export const tmpDir = (tag: string): string => mkdtempSync(join(tmpdir(), `lowbit-${tag}-`));

export const readLog = (dir: string): LogRecord[] =>
  readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogRecord);

/** Runs the lowbit command line; returns its stdout. */
export const lowbit = (args: string[]): string =>
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'lowbit.mjs'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
