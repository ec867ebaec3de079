// Verification of a model on unseen identities: pairs (drawn from a held-out dataset, or given by an
// insightface .bin file), flip-augmented embeddings, the LFW protocol, and the ROC curve as a PNG.
import { join } from 'node:path';
import { openDataset } from '../data/open.ts';
import type { DatasetSpec, ImageDataset } from '../data/dataset.ts';
import { samplePairs } from '../data/pairs.ts';
import { readVerificationBin } from '../data/verification-bin.ts';
import { combineFlipEmbeddings } from '../eval/embeddings.ts';
import { identify, type LabelledEmbedding } from '../eval/identification.ts';
import { rocChart, savePng } from '../eval/plot.ts';
import { evaluateVerification, type VerificationPair, type VerificationReport } from '../eval/verification.ts';
import type { Layer } from '../nn/layers.ts';
import { embedImages } from './embed.ts';

export interface VerificationSummary {
  /** Mean 10-fold accuracy, 0..1. */
  accuracy: number;
  accuracy_std: number;
  /** TAR at each FAR ("0.1", "0.01", ...); null where too few impostor pairs resolve it. */
  tar_at_far: Record<string, number | null>;
  auc: number;
  pairs: number;
  genuine_pairs: number;
  impostor_pairs: number;
  corrupt_images: number;
  /** What chance accuracy is on these pairs. */
  chance: number;
}

export interface PairSource {
  dataset: ImageDataset;
  first: Uint32Array;
  second: Uint32Array;
  isSame: boolean[];
}

/** Pairs from a held-out dataset (balanced, seeded) or, for a .bin file, the file's own pairs. */
export function pairSource(spec: DatasetSpec, pairs: number, seed: number): PairSource {
  const dataset = openDataset(spec);
  if (spec.kind === 'verification-bin') {
    const count = readVerificationBin(spec.path).isSame.length;
    const first = Uint32Array.from({ length: count }, (_, i) => 2 * i);
    const second = Uint32Array.from({ length: count }, (_, i) => 2 * i + 1);
    return { dataset, first, second, isSame: readVerificationBin(spec.path).isSame };
  }
  const labels = Int32Array.from({ length: dataset.length }, (_, i) => dataset.label(i));
  const p = samplePairs(labels, pairs, seed);
  return { dataset, first: p.first, second: p.second, isSame: p.isSame };
}

export function summarize(report: VerificationReport, corrupt: number): VerificationSummary {
  const tar: Record<string, number | null> = {};
  for (const t of report.tarAtFar) tar[String(t.far)] = t.tar;
  return {
    accuracy: report.accuracy.mean,
    accuracy_std: report.accuracy.std,
    tar_at_far: tar,
    auc: report.roc.auc,
    pairs: report.pairs,
    genuine_pairs: report.genuinePairs,
    impostor_pairs: report.impostorPairs,
    corrupt_images: corrupt,
    chance: Math.max(report.genuinePairs, report.impostorPairs) / report.pairs,
  };
}

export interface VerifyOptions {
  inputSize: number;
  /** Write roc.png here (with `label` in the legend). */
  outDir?: string;
  label?: string;
  onProgress?: (done: number, total: number) => void;
}

/** The dataset indices a pair source needs embeddings for, sorted. */
export function pairImages(source: PairSource): number[] {
  return [...new Set([...source.first, ...source.second])].sort((a, b) => a - b);
}

/** The LFW protocol on flip-combined embeddings, given per dataset index. */
export function verifyEmbeddings(source: PairSource, combined: ReadonlyMap<number, Float64Array>, corrupt = 0): { summary: VerificationSummary; report: VerificationReport } {
  const pairs: VerificationPair[] = source.isSame.map((same, i) => ({ a: combined.get(source.first[i]!)!, b: combined.get(source.second[i]!)!, isSame: same }));
  const report = evaluateVerification(pairs);
  return { summary: summarize(report, corrupt), report };
}

export async function verify(model: Layer, source: PairSource, opts: VerifyOptions): Promise<{ summary: VerificationSummary; report: VerificationReport }> {
  const unique = pairImages(source);
  const emb = await embedImages(model, source.dataset, unique, { size: opts.inputSize, flip: true, onProgress: opts.onProgress });
  const combined = combineFlipEmbeddings(emb.plain, emb.flipped);
  const result = verifyEmbeddings(source, new Map(unique.map((index, i) => [index, combined[i]!])), emb.corrupt.length);
  if (opts.outDir) {
    savePng(rocChart([{ name: opts.label ?? 'model', roc: result.report.roc }], { title: `ROC on unseen identities (${result.report.pairs} pairs)` }), join(opts.outDir, 'roc.png'));
  }
  return result;
}

export interface HeldOutIdentification {
  probes: number;
  identities: number;
  /** Rank-1, 5 and 10 accuracy. */
  rank_accuracy: { rank: number; accuracy: number }[];
}

/** Rank-k identification on a labelled dataset (the held-out identities): the first image of each
 *  identity is its gallery entry, every other image a probe; flip-combined embeddings; corrupt images
 *  are left out. At most `maxImages` images (the first ones) are used. */
export async function identifyHeldOut(model: Layer, dataset: ImageDataset, opts: { inputSize: number; maxImages?: number }): Promise<HeldOutIdentification> {
  const indices = Array.from({ length: Math.min(dataset.length, opts.maxImages ?? 2000) }, (_, i) => i);
  const emb = await embedImages(model, dataset, indices, { size: opts.inputSize, flip: true });
  const combined = combineFlipEmbeddings(emb.plain, emb.flipped);
  const corrupt = new Set(emb.corrupt);
  const gallery: LabelledEmbedding[] = [];
  const probes: LabelledEmbedding[] = [];
  const inGallery = new Set<number>();
  indices.forEach((index, i) => {
    if (corrupt.has(index)) return;
    const identity = dataset.label(index);
    (inGallery.has(identity) ? probes : gallery).push({ embedding: combined[i]!, identity });
    inGallery.add(identity);
  });
  if (probes.length === 0) throw new Error(`identification: '${dataset.name}' has no identity with two or more images among its first ${indices.length}`);
  const result = identify(gallery, probes, { ranks: [1, 5, 10] });
  return { probes: result.probes, identities: result.identities, rank_accuracy: result.rankAccuracy };
}
