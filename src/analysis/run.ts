// lowbit analyze: a full-precision checkpoint, post-training quantized at several bit widths (and any
// QAT / RCM checkpoints given), compared with the FP model on the same held-out images: the paper's
// three observations (class error grows as bits drop; inter-class angles stay; intra-class scatter
// grows) plus verification accuracy, as a Markdown table, JSON and plots.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatasetSpec } from '../data/dataset.ts';
import { BatchLoader } from '../data/loader.ts';
import { openDataset } from '../data/open.ts';
import { combineFlipEmbeddings } from '../eval/embeddings.ts';
import { rocChart, savePng, type RocSeries } from '../eval/plot.ts';
import { checkpointPath, loadCheckpoint } from '../io/checkpoint.ts';
import { writeFileAtomic } from '../io/safetensors.ts';
import type { Layer } from '../nn/layers.ts';
import { fromArray } from '../ops/creation.ts';
import { ptqQuantize } from '../quant/ptq.ts';
import { dispose, keep, type Tensor } from '../tensor.ts';
import { validateConfig, type TrainConfig } from '../train/config.ts';
import { embedImages } from '../train/embed.ts';
import { pairImages, pairSource, verifyEmbeddings, type PairSource } from '../train/evaluate.ts';
import { buildModel } from '../train/model.ts';
import { analyzeQuantization, markdownTable, writeAnalysisPlots, type QuantErrorDistributions, type QuantErrorRow } from './quant-error.ts';

export interface AnalyzeOptions {
  /** Full-precision checkpoint (folder or file; config.json beside it). */
  checkpoint: string;
  /** PTQ bit widths (weights and activations), default 8, 6, 4, 3, 2. */
  bits?: number[];
  /** Other quantized checkpoints to compare, e.g. { 'QAT-4': dir, 'RCM-4': dir }. */
  compare?: Record<string, string>;
  /** Images analyzed; default the held-out identities of the training config. */
  data?: DatasetSpec;
  /** At most this many images (default 2000). */
  maxImages?: number;
  /** Training batches used to calibrate PTQ activation ranges (default 8). */
  calibrationBatches?: number;
  outDir?: string;
  onProgress?: (message: string) => void;
}

export interface AnalysisResult {
  rows: QuantErrorRow[];
  table: string;
  outDir: string;
  plots: string[];
}

export function readRunConfig(checkpoint: string): TrainConfig {
  const file = join(dirname(checkpointPath(checkpoint)), 'config.json');
  if (!existsSync(file)) throw new Error(`no config.json beside ${checkpointPath(checkpoint)}: it says which model and data the checkpoint belongs to`);
  return validateConfig(JSON.parse(readFileSync(file, 'utf8')));
}

/** A model built from its run's config and loaded from its checkpoint. */
export function loadRunModel(checkpoint: string): { model: Layer; config: TrainConfig } {
  const config = readRunConfig(checkpoint);
  const model = buildModel(config.model, config.seed, config.quant);
  dispose([...loadCheckpoint(checkpoint, model).extra.values()]);
  return { model: model.eval(), config };
}

/** Un-augmented training batches for calibration, uploaded ([B, 3, H, W] each). */
async function calibrationBatches(config: TrainConfig, count: number): Promise<Tensor[]> {
  const loader = new BatchLoader(openDataset(config.data.train), { batchSize: config.batchSize, size: config.model.inputSize, seed: config.seed + 17, augment: false });
  const out: Tensor[] = [];
  for (let b = 0; b < Math.min(count, loader.batchesPerEpoch); b++) {
    const batch = await loader.batch(0, b);
    out.push(keep(fromArray(batch.images.subarray(0, batch.size * 3 * config.model.inputSize ** 2), [batch.size, 3, config.model.inputSize, config.model.inputSize])));
  }
  await loader.close();
  return out;
}

interface ModelEmbeddings {
  /** Plain embeddings of the analyzed images, in order. */
  plain: Float32Array[];
  /** Flip-combined embeddings by dataset index, for verification. */
  combined: Map<number, Float64Array>;
}

async function embedAll(model: Layer, source: PairSource, images: number[], size: number): Promise<ModelEmbeddings> {
  const emb = await embedImages(model, source.dataset, images, { size, flip: true });
  const combined = combineFlipEmbeddings(emb.plain, emb.flipped);
  return { plain: emb.plain, combined: new Map(images.map((index, i) => [index, combined[i]!])) };
}

export async function analyze(opts: AnalyzeOptions): Promise<AnalysisResult> {
  const say = opts.onProgress ?? (() => undefined);
  const { model: fp, config } = loadRunModel(opts.checkpoint);
  if (config.quant) throw new Error(`analyze: ${opts.checkpoint} is a quantized run (${config.quant.policy}); give the full-precision checkpoint and the quantized ones with --compare`);
  const outDir = opts.outDir ?? join(dirname(checkpointPath(opts.checkpoint)), 'analysis');
  mkdirSync(outDir, { recursive: true });
  const source = pairSource(opts.data ?? config.data.heldOut, config.data.pairs, config.seed);
  const labels = Int32Array.from({ length: source.dataset.length }, (_, i) => source.dataset.label(i));
  // Every image of the analyzed set up to the cap, plus those the verification pairs need.
  const capped = Array.from({ length: Math.min(source.dataset.length, opts.maxImages ?? 2000) }, (_, i) => i);
  const images = [...new Set([...capped, ...pairImages(source)])].sort((a, b) => a - b);
  const imageLabels = images.map((i) => labels[i]!);
  const size = config.model.inputSize;

  say(`embedding ${images.length} images with the full-precision model`);
  const fpEmb = await embedAll(fp, source, images, size);
  const rows: QuantErrorRow[] = [];
  const dists: QuantErrorDistributions[] = [];
  const rocs: RocSeries[] = [];
  const add = (label: string, emb: ModelEmbeddings, bits?: number): void => {
    const { row, dist } = analyzeQuantization(label, fpEmb.plain, emb.plain, imageLabels, bits);
    const { summary, report } = verifyEmbeddings(source, emb.combined);
    row.verification = { accuracy: summary.accuracy, accuracy_std: summary.accuracy_std, tar_at_far_1e2: summary.tar_at_far['0.01'] ?? null };
    rows.push(row);
    dists.push(dist);
    rocs.push({ name: label, roc: report.roc });
  };
  add('FP', fpEmb);

  const calibration = await calibrationBatches(config, opts.calibrationBatches ?? 8);
  for (const bits of opts.bits ?? [8, 6, 4, 3, 2]) {
    say(`PTQ W${bits}A${bits}: calibrating on ${calibration.length} batches, then embedding`);
    const q = await ptqQuantize(fp, `W${bits}A${bits}`, calibration);
    add(`PTQ-${bits}`, await embedAll(q, source, images, size), bits);
    q.dispose();
  }
  dispose(calibration);
  for (const [label, checkpoint] of Object.entries(opts.compare ?? {})) {
    say(`${label}: embedding with ${checkpoint}`);
    const { model } = loadRunModel(checkpoint);
    add(label, await embedAll(model, source, images, size));
    model.dispose();
  }
  fp.dispose();

  const table = markdownTable(rows);
  const plots = writeAnalysisPlots(outDir, rows, dists);
  const rocPath = join(outDir, 'roc.png');
  savePng(rocChart(rocs, { title: `ROC on unseen identities (${source.isSame.length} pairs)` }), rocPath);
  plots.push(rocPath);
  writeFileAtomic(join(outDir, 'analysis.md'), `# Quantization-error analysis of ${opts.checkpoint}\n\n${images.length} images of ${new Set(imageLabels).size} identities; verification on ${source.isSame.length} pairs.\n\n${table}\n`);
  writeFileAtomic(join(outDir, 'analysis.json'), `${JSON.stringify({ checkpoint: opts.checkpoint, images: images.length, identities: new Set(imageLabels).size, pairs: source.isSame.length, rows }, null, 2)}\n`);
  return { rows, table, outDir, plots };
}
