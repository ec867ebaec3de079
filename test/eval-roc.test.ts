// ROC curve, AUC and TAR@FAR on hand-computed and constructed distance distributions.
import { describe, expect, it } from 'vitest';
import { evaluateVerification, impostorPairsNeeded, rocCurve, tarAtFar } from '../src/eval/index.ts';

describe('rocCurve', () => {
  // genuine 0.1 0.3 0.5, impostor 0.2 0.5 0.7 0.9 (0.5 tied across the classes)
  const distances = [0.1, 0.2, 0.3, 0.5, 0.5, 0.7, 0.9];
  const isSame = [true, false, true, true, false, false, false];

  it('has one point per distinct distance, ties entering together', () => {
    const roc = rocCurve(distances, isSame);
    expect(Array.from(roc.far)).toEqual([0, 0, 0.25, 0.25, 0.5, 0.75, 1]);
    expect(Array.from(roc.tar)).toEqual([0, 1 / 3, 1 / 3, 2 / 3, 1, 1, 1]);
    expect(Array.from(roc.acceptDistanceAtMost)).toEqual([-Infinity, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9]);
    expect(roc.genuinePairs).toBe(3);
    expect(roc.impostorPairs).toBe(4);
  });

  it('has AUC = P(genuine < impostor) + P(tie) / 2 (19/24 here, counted by hand)', () => {
    expect(rocCurve(distances, isSame).auc).toBeCloseTo(19 / 24, 15);
  });

  it('agrees with the brute-force Mann-Whitney count on random scores with ties', () => {
    let state = 3;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const d = Array.from({ length: 300 }, () => Math.round(next() * 50) / 50); // many ties
    const same = d.map((x) => next() < 0.3 + 0.4 * (1 - x)); // genuine pairs lean to small distances
    let wins = 0;
    let total = 0;
    d.forEach((g, i) => {
      if (!same[i]) return;
      d.forEach((m, j) => {
        if (same[j]) return;
        total++;
        wins += g < m ? 1 : g === m ? 0.5 : 0;
      });
    });
    const roc = rocCurve(d, same);
    expect(roc.auc).toBeCloseTo(wins / total, 12);
    expect(roc.auc).toBeGreaterThan(0.6);
    for (let i = 1; i < roc.far.length; i++) {
      expect(roc.far[i]!).toBeGreaterThanOrEqual(roc.far[i - 1]!);
      expect(roc.tar[i]!).toBeGreaterThanOrEqual(roc.tar[i - 1]!);
    }
    expect([roc.far.at(-1), roc.tar.at(-1)]).toEqual([1, 1]);
  });

  it('names what is missing', () => {
    expect(() => rocCurve([1, 2], [true])).toThrow(/2 distances but 1 is-same flags/);
    expect(() => rocCurve([1, 2], [false, false])).toThrow(/0 genuine and 2 impostor/);
  });
});

describe('tarAtFar', () => {
  // 1000 impostors at 1000, 1001, ..., 1999; 100 genuine pairs at 950, 951, ..., 1049.
  const impostors = Array.from({ length: 1000 }, (_, i) => 1000 + i);
  const genuine = Array.from({ length: 100 }, (_, j) => 950 + j);
  const distances = [...genuine, ...impostors];
  const isSame = distances.map((_, i) => i < 100);

  it('accepts at most floor(FAR * impostors) impostor pairs and reports TAR there', () => {
    const [far1, far2, far3, far4, all] = tarAtFar(distances, isSame, [1e-1, 1e-2, 1e-3, 1e-4, 1]);
    expect(far1).toEqual({ far: 0.1, tar: 1, threshold: 1100, achievedFar: 0.1, impostorPairsNeeded: 10 });
    expect(far2).toEqual({ far: 0.01, tar: 0.6, threshold: 1010, achievedFar: 0.01, impostorPairsNeeded: 100 });
    expect(far3).toEqual({ far: 0.001, tar: 0.51, threshold: 1001, achievedFar: 0.001, impostorPairsNeeded: 1000 });
    // 1000 impostor pairs cannot resolve 1e-4: the answer would be TAR at FAR 0.
    expect(far4).toEqual({ far: 1e-4, tar: null, threshold: null, achievedFar: null, impostorPairsNeeded: 10000 });
    expect(all).toEqual({ far: 1, tar: 1, threshold: Infinity, achievedFar: 1, impostorPairsNeeded: 1 });
  });

  it('calls a FAR unresolvable one impostor pair short of 1 / FAR', () => {
    expect(impostorPairsNeeded(1e-3)).toBe(1000);
    expect(impostorPairsNeeded(1e-4)).toBe(10000);
    expect(tarAtFar(distances.slice(0, 1099), isSame.slice(0, 1099), [1e-3])[0]!.tar).toBeNull();
  });

  it('stays at or below the FAR when impostor distances tie at the threshold', () => {
    const d = [0.5, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 1.5, 2.5];
    const same = d.map((_, i) => i === 0 || i >= 11);
    const [result] = tarAtFar(d, same, [0.2]); // 2 of 10 allowed, but 3 impostors sit at 2
    expect(result!.threshold).toBe(2);
    expect(result!.achievedFar).toBe(0.1);
    expect(result!.tar).toBeCloseTo(2 / 3, 15); // 0.5 and 1.5 accepted, 2.5 not
  });

  it('rejects FARs outside (0, 1]', () => {
    expect(() => tarAtFar(distances, isSame, [0])).toThrow(/FAR must be in \(0, 1\], got 0/);
    expect(() => tarAtFar(distances, isSame, [1.5])).toThrow(/got 1.5/);
  });

  it('is reported for 1e-1 .. 1e-4 by evaluateVerification', () => {
    const pairs = Array.from({ length: 200 }, (_, i) => ({ a: Float32Array.of(1, 0), b: Float32Array.of(Math.cos(i / 100), Math.sin(i / 100)), isSame: i % 4 === 0 }));
    const report = evaluateVerification(pairs);
    expect(report.tarAtFar.map((t) => t.far)).toEqual([1e-1, 1e-2, 1e-3, 1e-4]);
    expect(report.impostorPairs).toBe(150);
    expect(report.tarAtFar.map((t) => t.tar === null)).toEqual([false, false, true, true]);
  });
});
