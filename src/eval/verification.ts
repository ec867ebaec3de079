// Pair verification in the LFW protocol, with the semantics of insightface's
// recognition/arcface_torch/eval/verification.py (calculate_roc / calculate_accuracy / evaluate):
// - embeddings are L2-normalized; the pair score is the squared Euclidean distance of the normalized
//   embeddings, d = |a - b|^2 = 2 - 2 cos (smaller = more alike); a pair is predicted "same" when d < t;
// - 10 folds in order (KFold without shuffle); per fold, the threshold with the best accuracy on the other
//   nine folds (the first, i.e. smallest, of tied thresholds, as np.argmax picks) is applied to the fold;
// - candidate thresholds are insightface's grid np.arange(0, 4, 0.01), or, with thresholdSearch 'exact',
//   every distinct cut of the training distances (midpoints), which resolves scores that sit closer
//   together than 0.01 (a deviation from insightface, opt-in);
// - accuracy std is the population std (np.std) of the fold accuracies.
// Deviations, by design: the ROC and TAR@FAR are computed over all pairs at once (roc.ts), not averaged
// over folds at grid thresholds as calculate_roc's tpr/fpr are; insightface's calculate_val (VAL@FAR=1e-3,
// via scipy interp1d of the training FAR) is replaced by the exact TAR@FAR of roc.ts, and its PCA option
// is not provided.
import { checkEmbeddings, distanceToCosine, l2Normalize, norm, squaredDistance, type Embedding } from './embeddings.ts';
import { kFoldSplits } from './kfold.ts';
import { rocCurve, tarAtFar, type RocCurve, type TarAtFar } from './roc.ts';

export interface VerificationPair {
  a: Embedding;
  b: Embedding;
  isSame: boolean;
}

export type ThresholdSearch = 'insightface-grid' | 'exact';

export interface VerificationOptions {
  /** Cross-validation folds; 10 in the LFW protocol. */
  folds?: number;
  /** 'insightface-grid' (default): thresholds 0, 0.01, ..., 3.99; 'exact': every cut of the training data. */
  thresholdSearch?: ThresholdSearch;
  /** FARs to report TAR at; default 1e-1, 1e-2, 1e-3, 1e-4. */
  fars?: readonly number[];
}

export interface CrossValidatedAccuracy {
  mean: number;
  /** Population std across folds (np.std), as insightface reports "acc +- std". */
  std: number;
  perFold: number[];
  foldSizes: number[];
  /** Per fold, the distance threshold fitted on the other folds (accept when d < threshold). */
  bestThresholds: number[];
  /** The same thresholds as cosine similarities (accept when cos > threshold). */
  bestCosineThresholds: number[];
}

export interface VerificationReport {
  pairs: number;
  genuinePairs: number;
  impostorPairs: number;
  /** Embeddings of norm 0; they stay zero after normalization (sklearn's rule) and score d = 1 or 0. */
  zeroNormEmbeddings: number;
  accuracy: CrossValidatedAccuracy;
  tarAtFar: TarAtFar[];
  roc: RocCurve;
  /** Per-pair squared distances of the normalized embeddings, in input order. */
  distances: Float64Array;
  isSame: boolean[];
}

export const DEFAULT_FARS: readonly number[] = [1e-1, 1e-2, 1e-3, 1e-4];

/** insightface's np.arange(0, 4, 0.01): numpy fills it as start + i * step, so i * 0.01 matches bit for bit. */
export const INSIGHTFACE_THRESHOLDS: Float64Array = Float64Array.from({ length: 400 }, (_, i) => i * 0.01);

/** Pairs from a list where images 2i and 2i+1 form pair i (the layout of insightface's .bin sets). */
export function pairsFromInterleaved(embeddings: readonly Embedding[], isSame: readonly boolean[]): VerificationPair[] {
  if (embeddings.length !== 2 * isSame.length) {
    throw new Error(`pairsFromInterleaved: ${embeddings.length} embeddings for ${isSame.length} pairs (need ${2 * isSame.length})`);
  }
  return isSame.map((same, i) => ({ a: embeddings[2 * i]!, b: embeddings[2 * i + 1]!, isSame: same }));
}

/** Squared distances of the L2-normalized embeddings of each pair, after checking dimensions. */
export function pairDistances(pairs: readonly VerificationPair[]): { distances: Float64Array; zeroNormEmbeddings: number } {
  const dim = checkEmbeddings(pairs.map((p) => p.a), 'pairs[].a');
  checkEmbeddings(pairs.map((p) => p.b), 'pairs[].b', dim);
  let zeroNormEmbeddings = 0;
  const distances = Float64Array.from(pairs, ({ a, b }) => {
    zeroNormEmbeddings += (norm(a) === 0 ? 1 : 0) + (norm(b) === 0 ? 1 : 0);
    return squaredDistance(l2Normalize(a), l2Normalize(b));
  });
  return { distances, zeroNormEmbeddings };
}

/** Candidate cuts of sorted distances: below all, every midpoint between distinct values, above all. */
function exactCandidates(sortedDistances: Float64Array): Float64Array {
  const cuts = [sortedDistances[0]!];
  for (let i = 1; i < sortedDistances.length; i++) {
    const below = sortedDistances[i - 1]!;
    const above = sortedDistances[i]!;
    if (above === below) continue;
    const middle = below + (above - below) / 2;
    cuts.push(middle > below ? middle : above); // adjacent doubles: 'd < above' is the same cut
  }
  cuts.push(Infinity);
  return Float64Array.from(cuts);
}

/** The first threshold (ascending) with the most correct predictions on the given pairs. */
function bestThreshold(distances: Float64Array, isSame: readonly boolean[], indices: Int32Array, search: ThresholdSearch): number {
  const order = Array.from(indices).sort((i, j) => distances[i]! - distances[j]!);
  const sorted = Float64Array.from(order, (i) => distances[i]!);
  const candidates = search === 'exact' ? exactCandidates(sorted) : INSIGHTFACE_THRESHOLDS;
  const impostors = order.reduce((count, i) => count + (isSame[i] ? 0 : 1), 0);
  let acceptedGenuine = 0;
  let acceptedImpostor = 0;
  let next = 0;
  let best = candidates[0]!;
  let bestCorrect = -1;
  for (const threshold of candidates) {
    for (; next < order.length && sorted[next]! < threshold; next++) {
      if (isSame[order[next]!]) acceptedGenuine++;
      else acceptedImpostor++;
    }
    const correct = acceptedGenuine + impostors - acceptedImpostor;
    if (correct > bestCorrect) {
      bestCorrect = correct;
      best = threshold;
    }
  }
  return best;
}

function accuracyAt(threshold: number, distances: Float64Array, isSame: readonly boolean[], indices: Int32Array): number {
  let correct = 0;
  for (const i of indices) if (distances[i]! < threshold === isSame[i]) correct++;
  return correct / indices.length;
}

/** K-fold accuracy with the threshold of each fold fitted on the other folds (calculate_roc's accuracy). */
export function crossValidatedAccuracy(
  distances: Float64Array,
  isSame: readonly boolean[],
  folds = 10,
  thresholdSearch: ThresholdSearch = 'insightface-grid',
): CrossValidatedAccuracy {
  if (distances.length !== isSame.length) {
    throw new Error(`crossValidatedAccuracy: ${distances.length} distances but ${isSame.length} is-same flags`);
  }
  if (distances.length < folds) {
    throw new Error(`crossValidatedAccuracy: ${distances.length} pairs are fewer than the ${folds} folds asked for`);
  }
  const perFold: number[] = [];
  const bestThresholds: number[] = [];
  const foldSizes: number[] = [];
  for (const { train, test } of kFoldSplits(distances.length, folds)) {
    const threshold = bestThreshold(distances, isSame, train, thresholdSearch);
    bestThresholds.push(threshold);
    perFold.push(accuracyAt(threshold, distances, isSame, test));
    foldSizes.push(test.length);
  }
  const mean = perFold.reduce((s, a) => s + a, 0) / folds;
  const std = Math.sqrt(perFold.reduce((s, a) => s + (a - mean) ** 2, 0) / folds);
  return { mean, std, perFold, foldSizes, bestThresholds, bestCosineThresholds: bestThresholds.map(distanceToCosine) };
}

/** The whole protocol: k-fold accuracy, TAR@FAR, ROC and AUC for a list of pairs. */
export function evaluateVerification(pairs: readonly VerificationPair[], options: VerificationOptions = {}): VerificationReport {
  const folds = options.folds ?? 10;
  if (pairs.length < folds) {
    throw new Error(`evaluateVerification: ${pairs.length} pairs cannot be split into ${folds} folds (need at least ${folds})`);
  }
  const { distances, zeroNormEmbeddings } = pairDistances(pairs);
  const isSame = pairs.map((p) => p.isSame);
  const roc = rocCurve(distances, isSame);
  return {
    pairs: pairs.length,
    genuinePairs: roc.genuinePairs,
    impostorPairs: roc.impostorPairs,
    zeroNormEmbeddings,
    accuracy: crossValidatedAccuracy(distances, isSame, folds, options.thresholdSearch),
    tarAtFar: tarAtFar(distances, isSame, options.fars ?? DEFAULT_FARS),
    roc,
    distances,
    isSame,
  };
}
