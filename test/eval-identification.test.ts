// Closed-set identification: rank-k accuracy and CMC against a gallery, by cosine similarity.
import { describe, expect, it } from 'vitest';
import { identify, type LabelledEmbedding } from '../src/eval/index.ts';

const at = (identity: string | number, ...values: number[]): LabelledEmbedding => ({ identity, embedding: Float32Array.from(values) });

describe('identify', () => {
  const gallery = [at('a', 1, 0), at('b', 0, 1), at('c', -1, 0)];

  it('ranks each probe by cosine, counting ties against the true identity', () => {
    const probes = [
      at('a', 0.9, 0.1), // a best: rank 1
      at('b', 0.8, 0.6), // a 0.8 > b 0.6: rank 2
      at('c', 0, -1), // a 0 ties c 0: rank 2, not 1
    ];
    const result = identify(gallery, probes, { ranks: [1, 2, 5] });
    expect(Array.from(result.rankOfTrueIdentity)).toEqual([1, 2, 2]);
    expect(result.rankAccuracy).toEqual([
      { rank: 1, accuracy: 1 / 3 },
      { rank: 2, accuracy: 1 },
      { rank: 5, accuracy: 1 },
    ]);
    expect(Array.from(result.cmc)).toEqual([1 / 3, 1, 1]);
    expect([result.probes, result.identities]).toEqual([3, 3]);
  });

  it("scores an identity with several gallery embeddings by its best one ('max') or its centroid", () => {
    const twoViews = [at(7, 1, 0), at(7, 0, 1), at(8, 0.6, 0.8)];
    const probe = [at(7, 0.1, 0.995)]; // max: 0.995 vs 0.856 -> rank 1; centroid (0.707, 0.707): 0.774 -> rank 2
    expect(identify(twoViews, probe, { ranks: [1] }).rankAccuracy[0]!.accuracy).toBe(1);
    expect(identify(twoViews, probe, { ranks: [1], galleryScore: 'centroid' }).rankAccuracy[0]!.accuracy).toBe(0);
  });

  it('is rank-1 perfect on well-separated synthetic identities and scale invariant', () => {
    const dim = 32;
    const centre = (id: number) => Float32Array.from({ length: dim }, (_, j) => (j === id ? 10 : 0));
    const jitter = (v: Float32Array, k: number) => v.map((x, j) => x * (1 + k) + Math.sin(7 * j + 3 * k));
    const g = Array.from({ length: 20 }, (_, id) => ({ identity: id, embedding: jitter(centre(id), 0) }));
    const p = Array.from({ length: 60 }, (_, i) => ({ identity: i % 20, embedding: jitter(centre(i % 20), 1 + (i % 3)) }));
    const result = identify(g, p);
    expect(result.rankAccuracy).toEqual([
      { rank: 1, accuracy: 1 },
      { rank: 5, accuracy: 1 },
      { rank: 10, accuracy: 1 },
    ]);
  });

  it('names the value at fault', () => {
    expect(() => identify(gallery, [at('z', 1, 0)])).toThrow(/probes\[0\] has identity z, which has no gallery embedding/);
    expect(() => identify(gallery, [at('a', 1, 0, 0)])).toThrow(/probes\[0\] has 3 values, expected 2/);
    expect(() => identify(gallery, [at('a', 1, 0)], { ranks: [0] })).toThrow(/rank must be an integer >= 1, got 0/);
    expect(() => identify([], [at('a', 1, 0)])).toThrow(/gallery: no embeddings given/);
  });
});
