// Our verification protocol against numbers computed the way insightface's verification.py computes them
// (test/fixtures/eval_insightface_fixture.py, a numpy re-statement of calculate_roc / calculate_accuracy).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { combineFlipEmbeddings, evaluateVerification, pairsFromInterleaved, type Embedding } from '../src/eval/index.ts';

interface FixtureCase {
  name: string;
  flip: boolean;
  embeddings: number[][];
  flipped: number[][] | null;
  issame: boolean[];
  expected: { distances: number[]; fold_accuracies: number[]; best_thresholds: number[]; mean: number; std: number };
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/eval_insightface.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

describe('verification matches insightface', () => {
  it('the fixture holds the cases the generator writes', () => {
    expect(fixture.cases.map((c) => c.flip)).toEqual([true, false]);
    expect(fixture.cases[0]!.issame.length).toBe(103);
  });

  for (const testCase of fixture.cases) {
    it(testCase.name, () => {
      // Float64Array: the fixture's decimals parse to the same float64 values numpy used.
      const images: Embedding[] = testCase.embeddings.map((row) => Float64Array.from(row));
      const rows = testCase.flipped ? combineFlipEmbeddings(images, testCase.flipped.map((row) => Float64Array.from(row))) : images;
      const report = evaluateVerification(pairsFromInterleaved(rows, testCase.issame));
      const { expected } = testCase;
      expect(report.distances.length).toBe(expected.distances.length);
      report.distances.forEach((d, i) => expect(Math.abs(d - expected.distances[i]!)).toBeLessThan(1e-12));
      expect(report.accuracy.bestThresholds).toEqual(expected.best_thresholds);
      expect(report.accuracy.perFold).toEqual(expected.fold_accuracies);
      expect(report.accuracy.mean).toBeCloseTo(expected.mean, 14);
      expect(report.accuracy.std).toBeCloseTo(expected.std, 14);
    });
  }
});
