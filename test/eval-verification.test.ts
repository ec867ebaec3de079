// Verification protocol: k-fold splits, cross-validated accuracy, flip augmentation, input errors.
import { describe, expect, it } from 'vitest';
import {
  INSIGHTFACE_THRESHOLDS,
  combineFlipEmbeddings,
  crossValidatedAccuracy,
  evaluateVerification,
  kFoldSplits,
  pairDistances,
  pairsFromInterleaved,
  type VerificationPair,
} from '../src/eval/index.ts';

/** Deterministic standard normals (LCG + Box-Muller), so the tests do not depend on Math.random. */
function normals(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => ((state = (state * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A pair whose normalized embeddings are at angle `angle` (2D, so the distance is 2 - 2 cos(angle)). */
function pairAtAngle(angle: number, isSame: boolean): VerificationPair {
  return { a: Float32Array.of(3, 0), b: Float32Array.of(Math.cos(angle), Math.sin(angle)), isSame };
}

describe('kFoldSplits', () => {
  it('makes consecutive folds, the first n % k one larger, as sklearn KFold(shuffle=False)', () => {
    const splits = kFoldSplits(23, 10);
    expect(splits.map((s) => s.test.length)).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    expect(Array.from(splits[0]!.test)).toEqual([0, 1, 2]);
    expect(Array.from(splits[3]!.test)).toEqual([9, 10]);
    expect(Array.from(splits[3]!.train)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, ...Array.from({ length: 12 }, (_, i) => 11 + i)]);
  });
  it('names the counts that cannot be split', () => {
    expect(() => kFoldSplits(9, 10)).toThrow(/9 items cannot be split into 10 folds/);
    expect(() => kFoldSplits(20, 1)).toThrow(/foldCount must be an integer >= 2, got 1/);
  });
});

describe('crossValidatedAccuracy', () => {
  it('uses insightface threshold grid 0, 0.01, ..., 3.99', () => {
    expect(INSIGHTFACE_THRESHOLDS.length).toBe(400);
    expect(INSIGHTFACE_THRESHOLDS[0]).toBe(0);
    expect(INSIGHTFACE_THRESHOLDS[399]).toBeCloseTo(3.99, 12);
  });

  it('gives accuracy 1 on separable pairs, with every threshold between the two groups', () => {
    // Genuine pairs at 20 degrees (d = 0.1206), impostors at 80 degrees (d = 1.6527), interleaved.
    const pairs = Array.from({ length: 40 }, (_, i) => pairAtAngle(i % 2 === 0 ? (20 * Math.PI) / 180 : (80 * Math.PI) / 180, i % 2 === 0));
    const report = evaluateVerification(pairs);
    expect(report.accuracy.mean).toBe(1);
    expect(report.accuracy.std).toBe(0);
    expect(report.accuracy.perFold).toEqual(new Array(10).fill(1));
    // np.argmax picks the first of the tied best thresholds: the first grid value above 0.1206.
    for (const t of report.accuracy.bestThresholds) expect(t).toBeCloseTo(0.13, 12);
    for (const c of report.accuracy.bestCosineThresholds) expect(c).toBeCloseTo(1 - 0.13 / 2, 12);
    expect(report.roc.auc).toBe(1);
  });

  it('is near 0.5 with a clear spread across folds on random embeddings', () => {
    const normal = normals(7);
    const random = () => Float32Array.from({ length: 16 }, normal);
    const pairs = Array.from({ length: 2000 }, (_, i) => ({ a: random(), b: random(), isSame: i % 2 === 0 }));
    const { accuracy, roc } = evaluateVerification(pairs);
    expect(Math.abs(accuracy.mean - 0.5)).toBeLessThan(0.04);
    expect(accuracy.std).toBeGreaterThan(0.005);
    expect(accuracy.std).toBeLessThan(0.08);
    expect(Math.abs(roc.auc - 0.5)).toBeLessThan(0.04);
  });

  it('takes the first (smallest) threshold among tied best ones and applies it to the held-out fold', () => {
    // 10 pairs, one per fold: the genuine pair at d = 0.5 is held out in fold 0; the others all are
    // impostors at d = 1, so on the training folds every threshold <= 1 is perfect and the first, 0, wins.
    const distances = Float64Array.from({ length: 10 }, (_, i) => (i === 0 ? 0.5 : 1));
    const isSame = Array.from({ length: 10 }, (_, i) => i === 0);
    const result = crossValidatedAccuracy(distances, isSame);
    expect(result.bestThresholds[0]).toBe(0);
    expect(result.perFold[0]).toBe(0); // d = 0.5 is not < 0: the genuine pair is rejected
    expect(result.perFold.slice(1)).toEqual(new Array(9).fill(1));
    expect(result.mean).toBeCloseTo(0.9, 15);
    expect(result.std).toBeCloseTo(0.3, 15); // population std of one 0 and nine 1s
  });

  it("'exact' search resolves scores closer together than the 0.01 grid", () => {
    // Genuine at d = 0.001, impostors at d = 0.004: no grid threshold lies between them.
    const distances = Float64Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 0.001 : 0.004));
    const isSame = Array.from({ length: 100 }, (_, i) => i % 2 === 0);
    expect(crossValidatedAccuracy(distances, isSame, 10, 'insightface-grid').mean).toBe(0.5);
    const exact = crossValidatedAccuracy(distances, isSame, 10, 'exact');
    expect(exact.mean).toBe(1);
    expect(exact.bestThresholds[0]).toBeCloseTo(0.0025, 15);
  });

  it('names mismatched lengths and too few pairs', () => {
    expect(() => crossValidatedAccuracy(new Float64Array(12), new Array(11).fill(true))).toThrow(/12 distances but 11 is-same flags/);
    expect(() => crossValidatedAccuracy(new Float64Array(9), new Array(9).fill(true))).toThrow(/9 pairs are fewer than the 10 folds/);
  });
});

describe('flip augmentation', () => {
  it('sums image and mirror embeddings, then L2-normalizes', () => {
    const [combined] = combineFlipEmbeddings([Float32Array.of(1, 2, 2)], [Float32Array.of(2, 2, -2)]);
    // (1,2,2) + (2,2,-2) = (3,4,0), norm 5
    expect(Array.from(combined!)).toEqual([0.6, 0.8, 0]);
  });

  it('matches a manual computation inside the verification protocol', () => {
    const images = [Float32Array.of(1, 0, 0), Float32Array.of(0, 1, 0), Float32Array.of(0, 0, 2), Float32Array.of(1, 1, 0)];
    const mirrors = [Float32Array.of(0, 1, 0), Float32Array.of(1, 0, 0), Float32Array.of(2, 0, 0), Float32Array.of(0, 0, 0)];
    const pairs = pairsFromInterleaved(combineFlipEmbeddings(images, mirrors), [true, false]);
    const { distances } = pairDistances(pairs);
    // pair 0: (1,1,0)/sqrt2 and (1,1,0)/sqrt2 -> 0; pair 1: (2,0,2)/sqrt8 vs (1,1,0)/sqrt2 -> cos 1/2 -> d = 1
    expect(distances[0]).toBeCloseTo(0, 15);
    expect(distances[1]).toBeCloseTo(1, 15);
  });

  it('names the mismatched input', () => {
    expect(() => combineFlipEmbeddings([Float32Array.of(1, 2)], [])).toThrow(/1 embeddings but 0 flipped/);
    expect(() => combineFlipEmbeddings([Float32Array.of(1, 2)], [Float32Array.of(1, 2, 3)])).toThrow(/flipped\[0\] has 3 values, expected 2/);
  });
});

describe('evaluateVerification input checks', () => {
  const pair = (dimB: number): VerificationPair => ({ a: new Float32Array(4).fill(1), b: new Float32Array(dimB).fill(1), isSame: true });
  it('names the pair whose embedding dimension differs', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => pair(i === 7 ? 3 : 4));
    expect(() => evaluateVerification(pairs)).toThrow(/pairs\[\]\.b\[7\] has 3 values, expected 4/);
  });
  it('refuses fewer pairs than folds', () => {
    expect(() => evaluateVerification(Array.from({ length: 9 }, () => pair(4)))).toThrow(/9 pairs cannot be split into 10 folds/);
  });
  it('names non-finite values', () => {
    const pairs = Array.from({ length: 10 }, () => pair(4));
    pairs[2] = { ...pairs[2]!, a: Float32Array.of(1, NaN, 0, 0) };
    expect(() => evaluateVerification(pairs)).toThrow(/pairs\[\]\.a\[2\]\[1\] is NaN/);
  });
  it('needs genuine and impostor pairs for the ROC', () => {
    expect(() => evaluateVerification(Array.from({ length: 10 }, () => pair(4)))).toThrow(/10 genuine and 0 impostor/);
  });
  it('counts zero-norm embeddings instead of failing on them (sklearn keeps them zero)', () => {
    const pairs = Array.from({ length: 10 }, (_, i) => pairAtAngle(i % 2 ? 1.5 : 0.1, i % 2 === 0));
    pairs[3] = { ...pairs[3]!, b: new Float32Array(2) };
    const report = evaluateVerification(pairs);
    expect(report.zeroNormEmbeddings).toBe(1);
    expect(report.distances[3]).toBeCloseTo(1, 15); // |unit - 0|^2
  });
  it('pairsFromInterleaved names an odd embedding count', () => {
    expect(() => pairsFromInterleaved([Float32Array.of(1)], [true])).toThrow(/1 embeddings for 1 pairs \(need 2\)/);
  });
});
