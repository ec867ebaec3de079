// Training configuration: the JSON schema (as TypeScript types), its validation with messages that
// name the field at fault, and the presets. `lowbit train --config FILE.json` merges the file over
// the preset it names (or over `tiny`), so a config only has to say what differs.
import type { DatasetSpec } from '../data/dataset.ts';
import { SYNTHETIC_DEFAULTS } from '../data/synthetic.ts';
import { quantProblems, withQuantDefaults, type QuantConfig } from '../quant/config.ts';

export interface ModelConfig {
  arch: 'iresnet18' | 'resnet18';
  /** Channel multiplier (1 = 64/128/256/512). */
  width: number;
  /** Square input size, divisible by 16. */
  inputSize: number;
  /** Embedding size. */
  numFeatures: number;
  dropout: number;
}

/**
 * RCM (src/loss/rcm.ts): ArcFace whose target margin is m + lambda * theta_Q(i), with theta_Q the
 * individual quantization error against the frozen full-precision `teacher` (a checkpoint).
 * Defaults: theta_Q detached, class centres per batch (options: running centres with `decay`, or the
 * classifier weights: the teacher's head row against the student's).
 */
export interface RcmLossConfig {
  kind: 'rcm';
  s: number;
  m: number;
  lambda: number;
  detach: boolean;
  centres: 'batch' | 'running' | 'classifier';
  decay: number;
  teacher: string;
}

export type LossConfig =
  | { kind: 'arcface'; s: number; m: number }
  | { kind: 'cosface'; s: number; m: number }
  | { kind: 'combined'; s: number; m1: number; m2: number; m3: number }
  | RcmLossConfig;

export const RCM_DEFAULTS = { lambda: 1, detach: true, centres: 'batch', decay: 0.9 } as const;
/** data.perIdentity an RCM run with per-batch centres gets unless its config sets one. */
export const RCM_PER_IDENTITY = 4;

export type OptimizerConfig =
  | { kind: 'sgd'; lr: number; momentum: number; weightDecay: number; nesterov: boolean }
  | { kind: 'adamw'; lr: number; weightDecay: number; betas: [number, number] };

export interface ScheduleConfig {
  kind: 'constant' | 'cosine' | 'step' | 'multistep';
  warmupSteps: number;
  /** step: decay every this many steps counted after the warm-up; multistep: at these absolute steps
   *  (warm-up included, as the casia recipe states its milestones). */
  every?: number;
  milestones?: number[];
  gamma?: number;
  minLr?: number;
}

export interface DataConfig {
  /** The identities (classes) trained on. */
  train: DatasetSpec;
  /** Unseen identities for verification; pairs are drawn from it (or given by a .bin file). */
  heldOut: DatasetSpec;
  /** Verification pairs drawn from `heldOut` (half same, half different). */
  pairs: number;
  augment: { flip: boolean; pad: number };
  /** Loader worker threads (0: prepare batches inline). */
  workers: number;
  /** Identity-balanced batches of batchSize/K identities x K images (0: plain shuffled batches).
   *  RCM's per-batch class centres need K >= 2. */
  perIdentity: number;
}

export interface TrainConfig {
  /** A preset this config was derived from (informational). */
  preset?: string;
  seed: number;
  steps: number;
  batchSize: number;
  model: ModelConfig;
  loss: LossConfig;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Clip the global gradient norm to this (0: no clipping). */
  clipGradNorm: number;
  data: DataConfig;
  /** Log (and read the loss back) every N steps. */
  logEvery: number;
  /** Write a checkpoint every N steps (and always at the end). */
  checkpointEvery: number;
  /** Quantization-aware training (src/quant/policy.ts); absent: full precision. */
  quant?: QuantConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---- presets -------------------------------------------------------------------------------------

const synthetic = (options: Record<string, unknown>, split: 'train' | 'heldout'): DatasetSpec => ({ kind: 'synthetic', options: { ...options, split } });

function syntheticData(options: Record<string, unknown>, pairs: number, workers: number): DataConfig {
  return { train: synthetic(options, 'train'), heldOut: synthetic(options, 'heldout'), pairs, augment: { flip: true, pad: 2 }, workers, perIdentity: 0 };
}

/** The small face model every CPU preset trains: iresnet18 at width 1/4 on 32x32 inputs. */
const SMALL_FACE_RUN: Omit<TrainConfig, 'preset' | 'steps' | 'data' | 'logEvery' | 'checkpointEvery' | 'schedule'> = {
  seed: 1,
  batchSize: 32,
  model: { arch: 'iresnet18', width: 0.25, inputSize: 32, numFeatures: 64, dropout: 0 },
  loss: { kind: 'arcface', s: 16, m: 0.3 },
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: false },
  clipGradNorm: 5,
};

export const PRESETS: Record<string, TrainConfig> = {
  /** A minute or two on the CPU adapter: for tests and smoke runs. */
  tiny: {
    ...SMALL_FACE_RUN,
    preset: 'tiny',
    steps: 240,
    schedule: { kind: 'cosine', warmupSteps: 20 },
    data: syntheticData({ seed: 7, identities: 140, heldOutIdentities: 40, imagesPerIdentity: 12, difficulty: 0.4, size: 32 }, 1200, 1),
    logEvery: 20,
    checkpointEvery: 120,
  },
  /** A few minutes on the CPU adapter: the full-precision model of `npm run demo`. Difficulty 0.9
   *  leaves the FP model short of perfect (TAR@FAR=1e-2 about 0.6), so quantization has room to hurt;
   *  6,000 pairs of 100 unseen identities resolve TAR down to FAR = 1e-3. */
  demo: {
    ...SMALL_FACE_RUN,
    preset: 'demo',
    steps: 800,
    schedule: { kind: 'cosine', warmupSteps: 30 },
    data: syntheticData({ seed: 7, identities: 400, heldOutIdentities: 100, imagesPerIdentity: 16, difficulty: 0.9, size: 32 }, 6000, 1),
    logEvery: 25,
    checkpointEvery: 200,
  },
  /** Open-set check on real images: Debian's dataset-fashion-mnist, train on classes 0-5 (train
   *  split), verify pairs drawn from the unseen classes 6-9 (t10k split). 28x28 grey, resized to 32. */
  fashion: {
    ...SMALL_FACE_RUN,
    preset: 'fashion',
    steps: 400,
    batchSize: 64,
    schedule: { kind: 'cosine', warmupSteps: 20 },
    data: {
      train: { kind: 'idx', images: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz', labels: '/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz', classes: [0, 1, 2, 3, 4, 5] },
      heldOut: { kind: 'idx', images: '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz', labels: '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz', classes: [6, 7, 8, 9] },
      pairs: 3000,
      augment: { flip: true, pad: 2 },
      workers: 1,
      perIdentity: 0,
    },
    logEvery: 25,
    checkpointEvery: 200,
  },
  /** The demo at the real model's scale, for a real GPU: full-width iresnet18 on 112x112 synthetic
   *  faces, ArcFace s=64 m=0.5 (hours on the CPU adapter: a training step of batch 128 there takes
   *  about two minutes). */
  faces112: {
    ...SMALL_FACE_RUN,
    preset: 'faces112',
    steps: 6000,
    batchSize: 128,
    model: { arch: 'iresnet18', width: 1, inputSize: 112, numFeatures: 512, dropout: 0 },
    loss: { kind: 'arcface', s: 64, m: 0.5 },
    schedule: { kind: 'cosine', warmupSteps: 200 },
    data: syntheticData({ seed: 7, identities: 2000, heldOutIdentities: 300, imagesPerIdentity: 24, difficulty: 0.9, size: 112 }, 6000, 4),
    logEvery: 50,
    checkpointEvery: 1000,
  },
  /** The real recipe for a real GPU: iresnet18 at 112x112 on a user's insightface .rec data. */
  casia: {
    preset: 'casia',
    seed: 1,
    steps: 60000,
    batchSize: 128,
    model: { arch: 'iresnet18', width: 1, inputSize: 112, numFeatures: 512, dropout: 0 },
    loss: { kind: 'arcface', s: 64, m: 0.5 },
    optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: false },
    schedule: { kind: 'multistep', warmupSteps: 0, milestones: [20000, 28000, 32000], gamma: 0.1 },
    clipGradNorm: 5,
    data: {
      train: { kind: 'insightface-rec', dir: 'data/faces_webface_112x112' },
      heldOut: { kind: 'verification-bin', path: 'data/faces_webface_112x112/lfw.bin' },
      pairs: 6000,
      augment: { flip: true, pad: 0 },
      workers: 4,
      perIdentity: 0,
    },
    logEvery: 50,
    checkpointEvery: 2000,
  },
};

// ---- validation ----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function merge<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out as T;
}

class Checker {
  readonly problems: string[] = [];
  number(path: string, v: unknown, { min = -Infinity, max = Infinity, integer = false, exclusiveMin = false } = {}): void {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.problems.push(`${path}: expected a number, got ${JSON.stringify(v)}`);
    else if (integer && !Number.isInteger(v)) this.problems.push(`${path}: expected an integer, got ${v}`);
    else if (v < min || (exclusiveMin && v === min)) this.problems.push(`${path}: must be ${exclusiveMin ? '>' : '>='} ${min}, got ${v}`);
    else if (v > max) this.problems.push(`${path}: must be <= ${max}, got ${v}`);
  }
  oneOf(path: string, v: unknown, options: readonly string[]): boolean {
    if (typeof v !== 'string' || !options.includes(v)) {
      this.problems.push(`${path}: expected one of ${options.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(v)}`);
      return false;
    }
    return true;
  }
  object(path: string, v: unknown): v is Json {
    if (!isObject(v)) this.problems.push(`${path}: expected an object, got ${JSON.stringify(v)}`);
    return isObject(v);
  }
  boolean(path: string, v: unknown): void {
    if (typeof v !== 'boolean') this.problems.push(`${path}: expected true or false, got ${JSON.stringify(v)}`);
  }
  unknownKeys(path: string, v: Json, known: readonly string[]): void {
    for (const k of Object.keys(v)) if (!known.includes(k)) this.problems.push(`${path ? `${path}.` : ''}${k}: unknown field (known: ${known.join(', ')})`);
  }
}

const DATASET_KINDS = ['synthetic', 'folder', 'insightface-rec', 'idx', 'cache', 'verification-bin'] as const;

/** Throws a ConfigError listing every field at fault; returns the config typed. */
export function validateConfig(raw: unknown): TrainConfig {
  const c = new Checker();
  if (!c.object('config', raw)) throw new ConfigError(c.problems.join('\n'));
  c.unknownKeys('', raw, ['preset', 'seed', 'steps', 'batchSize', 'model', 'loss', 'optimizer', 'schedule', 'clipGradNorm', 'data', 'logEvery', 'checkpointEvery', 'quant']);
  c.number('seed', raw.seed, { min: 0, integer: true });
  c.number('steps', raw.steps, { min: 1, integer: true });
  c.number('batchSize', raw.batchSize, { min: 2, integer: true });
  c.number('clipGradNorm', raw.clipGradNorm, { min: 0 });
  c.number('logEvery', raw.logEvery, { min: 1, integer: true });
  c.number('checkpointEvery', raw.checkpointEvery, { min: 1, integer: true });
  if (c.object('model', raw.model)) {
    const m = raw.model;
    c.unknownKeys('model', m, ['arch', 'width', 'inputSize', 'numFeatures', 'dropout']);
    c.oneOf('model.arch', m.arch, ['iresnet18', 'resnet18']);
    c.number('model.width', m.width, { min: 0, exclusiveMin: true, max: 4 });
    c.number('model.inputSize', m.inputSize, { min: 16, integer: true });
    if (typeof m.inputSize === 'number' && m.inputSize % 16 !== 0) c.problems.push(`model.inputSize: must be divisible by 16, got ${m.inputSize}`);
    c.number('model.numFeatures', m.numFeatures, { min: 2, integer: true });
    c.number('model.dropout', m.dropout, { min: 0, max: 0.99 });
  }
  if (c.object('loss', raw.loss)) {
    const l = raw.loss;
    if (c.oneOf('loss.kind', l.kind, ['arcface', 'cosface', 'combined', 'rcm'])) {
      c.number('loss.s', l.s, { min: 0, exclusiveMin: true });
      if (l.kind === 'rcm') {
        c.unknownKeys('loss', l, ['kind', 's', 'm', 'lambda', 'detach', 'centres', 'decay', 'teacher']);
        c.number('loss.m', l.m, { min: 0, max: Math.PI });
        c.number('loss.lambda', l.lambda, { min: 0 });
        c.boolean('loss.detach', l.detach);
        c.oneOf('loss.centres', l.centres, ['batch', 'running', 'classifier']);
        c.number('loss.decay', l.decay, { min: 0, max: 0.999 });
        if (typeof l.teacher !== 'string' || l.teacher === '') c.problems.push(`loss.teacher: RCM needs the full-precision teacher checkpoint (lowbit train --init FP_CHECKPOINT --loss rcm), got ${JSON.stringify(l.teacher)}`);
        if (raw.quant === undefined) c.problems.push('quant: RCM trains a quantized student; give a bit-width policy (--quant W4A4)');
      } else if (l.kind === 'combined') {
        c.unknownKeys('loss', l, ['kind', 's', 'm1', 'm2', 'm3']);
        c.number('loss.m1', l.m1, { min: 0, exclusiveMin: true });
        c.number('loss.m2', l.m2, { min: 0, max: Math.PI });
        c.number('loss.m3', l.m3, { min: 0 });
      } else {
        c.unknownKeys('loss', l, ['kind', 's', 'm']);
        c.number('loss.m', l.m, { min: 0, max: l.kind === 'arcface' ? Math.PI : 2 });
      }
    }
  }
  if (c.object('optimizer', raw.optimizer)) {
    const o = raw.optimizer;
    if (c.oneOf('optimizer.kind', o.kind, ['sgd', 'adamw'])) {
      c.number('optimizer.lr', o.lr, { min: 0, exclusiveMin: true });
      c.number('optimizer.weightDecay', o.weightDecay, { min: 0 });
      if (o.kind === 'sgd') {
        c.unknownKeys('optimizer', o, ['kind', 'lr', 'momentum', 'weightDecay', 'nesterov']);
        c.number('optimizer.momentum', o.momentum, { min: 0, max: 1 });
        c.boolean('optimizer.nesterov', o.nesterov);
      } else {
        c.unknownKeys('optimizer', o, ['kind', 'lr', 'weightDecay', 'betas']);
        if (!Array.isArray(o.betas) || o.betas.length !== 2) c.problems.push(`optimizer.betas: expected [beta1, beta2], got ${JSON.stringify(o.betas)}`);
        else o.betas.forEach((b, i) => c.number(`optimizer.betas[${i}]`, b, { min: 0, max: 1 }));
      }
    }
  }
  if (c.object('schedule', raw.schedule)) {
    const s = raw.schedule;
    c.unknownKeys('schedule', s, ['kind', 'warmupSteps', 'every', 'milestones', 'gamma', 'minLr']);
    if (c.oneOf('schedule.kind', s.kind, ['constant', 'cosine', 'step', 'multistep'])) {
      c.number('schedule.warmupSteps', s.warmupSteps, { min: 0, integer: true });
      if (s.kind === 'step') c.number('schedule.every', s.every, { min: 1, integer: true });
      if (s.kind === 'step' || s.kind === 'multistep') c.number('schedule.gamma', s.gamma, { min: 0, exclusiveMin: true });
      if (s.kind === 'multistep' && (!Array.isArray(s.milestones) || s.milestones.some((m) => !Number.isInteger(m) || m < 0))) {
        c.problems.push(`schedule.milestones: expected a list of step numbers, got ${JSON.stringify(s.milestones)}`);
      }
      if (s.minLr !== undefined) c.number('schedule.minLr', s.minLr, { min: 0 });
    }
  }
  if (c.object('data', raw.data)) {
    const d = raw.data;
    c.unknownKeys('data', d, ['train', 'heldOut', 'pairs', 'augment', 'workers', 'perIdentity']);
    c.number('data.perIdentity', d.perIdentity, { min: 0, integer: true });
    if (typeof d.perIdentity === 'number' && d.perIdentity > 0 && typeof raw.batchSize === 'number' && raw.batchSize % d.perIdentity !== 0) {
      c.problems.push(`data.perIdentity: must divide batchSize (${raw.batchSize}), got ${d.perIdentity}`);
    }
    for (const key of ['train', 'heldOut'] as const) {
      if (c.object(`data.${key}`, d[key])) {
        const spec = d[key];
        c.oneOf(`data.${key}.kind`, spec.kind, DATASET_KINDS);
        // A misspelled generator option would silently fall back to its default.
        if (spec.kind === 'synthetic' && c.object(`data.${key}.options`, spec.options)) {
          c.unknownKeys(`data.${key}.options`, spec.options, Object.keys(SYNTHETIC_DEFAULTS));
          const o = spec.options;
          for (const field of ['identities', 'heldOutIdentities', 'imagesPerIdentity', 'size'] as const) {
            if (o[field] !== undefined) c.number(`data.${key}.options.${field}`, o[field], { min: 1, integer: true });
          }
          if (o.difficulty !== undefined) c.number(`data.${key}.options.difficulty`, o.difficulty, { min: 0, max: 1 });
        }
      }
    }
    c.number('data.pairs', d.pairs, { min: 20, integer: true });
    c.number('data.workers', d.workers, { min: 0, max: 64, integer: true });
    if (c.object('data.augment', d.augment)) {
      c.boolean('data.augment.flip', d.augment.flip);
      c.number('data.augment.pad', d.augment.pad, { min: 0, integer: true });
    }
  }
  if (raw.quant !== undefined) c.problems.push(...quantProblems(raw.quant));
  if (c.problems.length > 0) throw new ConfigError(`invalid training config:\n  ${c.problems.join('\n  ')}`);
  return raw as unknown as TrainConfig;
}

/** The preset named by `over.preset` (default tiny) with `over` merged on top, validated. */
export function resolveConfig(over: unknown = {}): TrainConfig {
  const name = isObject(over) && typeof over.preset === 'string' ? over.preset : 'tiny';
  const base = PRESETS[name];
  if (!base) throw new ConfigError(`preset: unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  const merged = withQuantDefaults(merge(structuredClone(base), over)) as unknown as Json;
  // A loss switched to RCM over a preset's ArcFace keeps its s and m and takes RCM's defaults.
  if (isObject(merged.loss) && merged.loss.kind === 'rcm') {
    const loss: Json = { ...RCM_DEFAULTS, ...merged.loss };
    merged.loss = loss;
    // Per-batch centres need several images of a class in the batch: unless the config chose the
    // sampling, RCM trains on identity-balanced batches of RCM_PER_IDENTITY images per identity.
    const chosen = isObject(over) && isObject(over.data) && 'perIdentity' in over.data;
    if (loss.centres === 'batch' && !chosen && isObject(merged.data) && typeof merged.batchSize === 'number' && merged.batchSize % RCM_PER_IDENTITY === 0) {
      merged.data = { ...merged.data, perIdentity: RCM_PER_IDENTITY };
    }
  }
  return validateConfig(merged);
}
