// The training loop: data -> backbone -> cosine classifier -> margin loss -> optimizer, one command
// encoder per step, the loss read back only every `logEvery` steps (accumulated on the GPU between
// readbacks, so a NaN in any step is caught). Checkpoints are atomic and written only after a readback
// proved the loss finite; `resume` continues exactly where a checkpoint left off.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backward } from '../backward.ts';
import { BatchLoader } from '../data/loader.ts';
import { openDataset } from '../data/open.ts';
import { gpu, initGpu } from '../gpu/device.ts';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint } from '../io/checkpoint.ts';
import { writeFileAtomic } from '../io/safetensors.ts';
import type { Layer } from '../nn/layers.ts';
import { copyInto } from '../nn/module.ts';
import { fromArray, zeros } from '../ops/creation.ts';
import { add } from '../ops/elementwise.ts';
import { sum } from '../ops/reduce.ts';
import { Adam } from '../optim/adam.ts';
import { clipGradNorm } from '../optim/clip.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import { learningRate, type Schedule } from '../optim/schedule.ts';
import { SGD } from '../optim/sgd.ts';
import { dispose, keep, tidy, type Tensor } from '../tensor.ts';
import type { TrainConfig } from './config.ts';
import { pairSource, verify, type VerificationSummary } from './evaluate.ts';
import { buildHead, buildModel, setDropoutStep } from './model.ts';
import { marginObjective, type Objective } from './objective.ts';
import { loadTeacher, rcmObjective } from './rcm-objective.ts';
import { Progress } from './progress.ts';
import { loadInitCheckpoint } from '../quant/init.ts';
import { sameShape } from '../shape.ts';

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

export interface TrainOptions {
  outDir: string;
  /** Continue from outDir's checkpoint. */
  resume?: boolean;
  /** Start from these weights (a checkpoint folder or file), e.g. a full-precision model for QAT. */
  init?: string;
  /** Stop after this step as if interrupted (tests of resume). */
  stopAfter?: number;
  /** Evaluate verification on the held-out identities at the end (default true). */
  evaluate?: boolean;
  quiet?: boolean;
  /** Replaces the default margin-softmax objective (QAT/RCM plug in here). */
  objective?: Objective;
  /** Builds the model instead of the config's architecture (quantized variants). */
  buildModel?: (config: TrainConfig) => Layer;
}

export interface LogRecord {
  step: number;
  epoch: number;
  loss: number;
  acc: number;
  lr: number;
  img_per_s: number;
  elapsed_s: number;
  [metric: string]: number;
}

export interface TrainSummary {
  outDir: string;
  steps: number;
  finalLoss: number;
  imagesPerSecond: number;
  corruptImages: number;
  verification?: VerificationSummary;
}

function makeOptimizer(params: Tensor[], c: TrainConfig): Optimizer {
  const o = c.optimizer;
  if (o.kind === 'sgd') return new SGD(params, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.nesterov });
  return new Adam(params, { lr: o.lr, weightDecay: o.weightDecay, betas: o.betas }, true);
}

function schedule(c: TrainConfig): Schedule {
  const s = c.schedule;
  switch (s.kind) {
    case 'constant': return { kind: 'constant' };
    case 'cosine': return { kind: 'cosine', totalSteps: c.steps, minLr: s.minLr };
    case 'step': return { kind: 'step', every: s.every!, gamma: s.gamma! };
    case 'multistep': return { kind: 'multistep', milestones: s.milestones!, gamma: s.gamma! };
  }
}

/** The text of a run's config.json: a resume (and an experiment deciding whether a run is the same)
 *  compares it byte for byte. */
export function configFileText(config: TrainConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Keeps the log's records up to `step` (a resumed run rewrites what came after its checkpoint) and
 *  returns the last loss kept. */
function truncateLog(path: string, step: number): number {
  if (!existsSync(path)) return NaN;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => line && (JSON.parse(line) as LogRecord).step <= step);
  writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
  return kept.length > 0 ? (JSON.parse(kept.at(-1)!) as LogRecord).loss : NaN;
}

export async function train(config: TrainConfig, opts: TrainOptions): Promise<TrainSummary> {
  const g = await initGpu();
  if (config.checkpointEvery % config.logEvery !== 0) {
    throw new Error(`checkpointEvery (${config.checkpointEvery}) must be a multiple of logEvery (${config.logEvery}): a checkpoint is written only after a readback proved the loss finite`);
  }
  mkdirSync(opts.outDir, { recursive: true });
  const configPath = join(opts.outDir, 'config.json');
  const logPath = join(opts.outDir, 'log.jsonl');
  const checkpointFile = join(opts.outDir, CHECKPOINT_FILE);
  if (opts.resume) {
    if (!existsSync(checkpointFile)) throw new Error(`--resume: no ${CHECKPOINT_FILE} in '${opts.outDir}'`);
    const saved = readFileSync(configPath, 'utf8');
    if (saved !== configFileText(config)) throw new Error(`--resume: the config differs from the one '${opts.outDir}' was trained with (${configPath})`);
  } else {
    writeFileAtomic(configPath, configFileText(config));
    writeFileAtomic(logPath, '');
  }

  const trainSet = openDataset(config.data.train);
  const loader = new BatchLoader(trainSet, {
    batchSize: config.batchSize, size: config.model.inputSize, seed: config.seed,
    augment: config.data.augment, workers: config.data.workers, perIdentity: config.data.perIdentity || undefined,
  });
  if (loader.batchesPerEpoch === 0) throw new Error(`the training set '${trainSet.name}' has ${trainSet.length} images, fewer than one batch of ${config.batchSize}`);
  const model = opts.buildModel?.(config) ?? buildModel(config.model, config.seed, config.quant);
  const head = buildHead(trainSet.numClasses, config.model.numFeatures, config.seed + 1);
  const optimizer = makeOptimizer([...model.parameters(), head], config);
  const objective = opts.objective ?? (config.loss.kind === 'rcm'
    ? rcmObjective(await loadTeacher(config.model, config.seed, config.loss.teacher), config.loss)
    : marginObjective(config.loss));

  let startStep = 0;
  let resumedLoss = NaN;
  if (opts.resume) {
    const loaded = loadCheckpoint(checkpointFile, model, optimizer);
    copyInto(head, loaded.extra.get('weight')!);
    await objective.restore?.(loaded.extra, head);
    dispose([...loaded.extra.values()]);
    startStep = Number(loaded.metadata.step);
    resumedLoss = truncateLog(logPath, startStep);
  } else if (opts.init) {
    // A full-precision checkpoint also initializes a quantized model: its quantizers start on the first batch.
    const loaded = loadInitCheckpoint(opts.init, model);
    // Fine-tuning (QAT, RCM) on the same identities keeps the trained classifier.
    const trainedHead = loaded.extra.get('weight');
    if (trainedHead && sameShape(trainedHead.shape, head.shape)) copyInto(head, trainedHead);
    dispose([...loaded.extra.values()]);
  }
  objective.prepare?.(model);
  setDropoutStep(model, startStep);
  model.train();

  const perEpoch = loader.batchesPerEpoch;
  const lastStep = Math.min(config.steps, opts.stopAfter ?? config.steps);
  const progress = new Progress(config.steps, opts.resume ? 'resume' : 'train', opts.quiet);
  progress.resumeAt(startStep);
  const sched = { baseLr: config.optimizer.lr, warmupSteps: config.schedule.warmupSteps, schedule: schedule(config) };

  // Sums since the last readback, on the GPU.
  let lossSum = keep(zeros([1]));
  let correctSum = keep(zeros([1]));
  let metricSums = new Map<string, Tensor>();
  let images = 0;
  let intervalStart = performance.now();
  const runStart = performance.now();
  let finalLoss = resumedLoss;
  let lastGoodCheckpoint = opts.resume ? startStep : -1;
  let totalImages = 0;

  try {
    let step = startStep;
    for (let epoch = Math.floor(startStep / perEpoch); step < lastStep; epoch++) {
      for await (const batch of loader.epoch(epoch, { startBatch: epoch === Math.floor(startStep / perEpoch) ? startStep % perEpoch : 0 })) {
        const lr = learningRate(step, sched);
        const n = batch.size;
        tidy(() => {
          const x = fromArray(batch.images.subarray(0, n * 3 * config.model.inputSize ** 2), [n, 3, config.model.inputSize, config.model.inputSize]);
          const labelsCpu = batch.labels.subarray(0, n);
          const labels = fromArray(labelsCpu, [n], 'i32');
          const out = objective.loss(model, head, x, labels, labelsCpu);
          backward(out.loss);
          if (config.clipGradNorm > 0) clipGradNorm(optimizer.params, config.clipGradNorm);
          optimizer.step(lr);
          optimizer.zeroGrad();
          const nextLoss = keep(add(lossSum, out.loss.view([1])));
          const nextCorrect = keep(add(correctSum, sum(out.correct, undefined, true).view([1])));
          lossSum.dispose();
          correctSum.dispose();
          lossSum = nextLoss;
          correctSum = nextCorrect;
          const nextMetrics = new Map<string, Tensor>();
          for (const [name, value] of Object.entries(out.metrics ?? {})) {
            const prev = metricSums.get(name);
            nextMetrics.set(name, keep(prev ? add(prev, value.view([1])) : value.view([1])));
            prev?.dispose();
          }
          metricSums = nextMetrics;
        });
        g.recorder.flush();
        step++;
        images += n;
        totalImages += n;

        if (step % config.logEvery === 0 || step === lastStep) {
          const stepsInInterval = ((step - 1) % config.logEvery) + 1;
          const loss = (await lossSum.item()) / stepsInInterval;
          const acc = (await correctSum.item()) / images;
          const seconds = (performance.now() - intervalStart) / 1000;
          const record: LogRecord = { step, epoch, loss, acc, lr, img_per_s: images / seconds, elapsed_s: (performance.now() - runStart) / 1000 };
          for (const [name, t] of metricSums) record[name] = (await t.item()) / stepsInInterval;
          if (!Number.isFinite(loss)) {
            const where = lastGoodCheckpoint >= 0 ? `the last good checkpoint (step ${lastGoodCheckpoint}) is kept in ${checkpointFile}` : 'no checkpoint was written yet';
            throw new TrainingDivergedError(`the loss became ${loss} between steps ${step - stepsInInterval + 1} and ${step}; training stopped and ${where}. Lower the learning rate or enable clipGradNorm, then --resume.`);
          }
          writeFileSync(logPath, `${JSON.stringify(record)}\n`, { flag: 'a' });
          finalLoss = loss;
          progress.update(step, { loss, acc, imgPerS: record.img_per_s, lr, extra: objective.describe?.(record) });
          for (const t of [lossSum, correctSum, ...metricSums.values()]) t.dispose();
          lossSum = keep(zeros([1]));
          correctSum = keep(zeros([1]));
          metricSums = new Map();
          images = 0;
          intervalStart = performance.now();
          if (step % config.checkpointEvery === 0 || step === config.steps) {
            await saveCheckpoint(checkpointFile, { model, extra: new Map([['weight', head], ...(objective.state?.() ?? [])]), optimizer, metadata: { step: String(step), epoch: String(epoch) } });
            lastGoodCheckpoint = step;
          }
        }
        if (step >= lastStep) break;
      }
    }
  } finally {
    await loader.close();
    dispose([lossSum, correctSum, ...metricSums.values()]);
  }
  const trainSeconds = (performance.now() - runStart) / 1000;
  const summary: TrainSummary = {
    outDir: opts.outDir,
    steps: lastStep,
    finalLoss,
    imagesPerSecond: totalImages > 0 ? totalImages / trainSeconds : 0,
    corruptImages: loader.stats().corruptImages,
  };
  if (lastStep === startStep) progress.done(`nothing to train: the checkpoint is at step ${startStep} of ${config.steps}`);
  else progress.done(`trained ${lastStep - startStep} steps in ${trainSeconds.toFixed(1)} s (${summary.imagesPerSecond.toFixed(1)} img/s); final loss ${finalLoss.toFixed(4)}; checkpoint ${checkpointFile}`);
  if (summary.corruptImages > 0) progress.done(`skipped ${summary.corruptImages} corrupt images: ${loader.stats().corruptExamples.join('; ')}`);

  if (opts.evaluate !== false && lastStep === config.steps) {
    const source = pairSource(config.data.heldOut, config.data.pairs, config.seed);
    const { summary: v } = await verify(model, source, { inputSize: config.model.inputSize, outDir: opts.outDir, label: config.preset ?? 'model' });
    summary.verification = v;
    writeFileAtomic(join(opts.outDir, 'eval.json'), `${JSON.stringify(v, null, 2)}\n`);
    progress.done(`verification on unseen identities: accuracy ${v.accuracy.toFixed(4)} ± ${v.accuracy_std.toFixed(4)} (chance ${v.chance.toFixed(2)}), TAR@FAR=1e-2 ${v.tar_at_far['0.01'] ?? 'n/a'}`);
  }
  writeFileAtomic(join(opts.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  optimizer.dispose();
  objective.dispose?.();
  model.dispose();
  head.dispose();
  gpu().pool.trim();
  return summary;
}
