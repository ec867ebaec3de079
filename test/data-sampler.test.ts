// Identity-balanced (P x K) batches: what RCM's per-batch class centres need.
import { describe, expect, it } from 'vitest';
import { BatchLoader } from '../src/data/loader.ts';
import { SyntheticFaces } from '../src/data/synthetic.ts';

describe('identity-balanced batches', () => {
  const faces = new SyntheticFaces({ seed: 3, identities: 10, heldOutIdentities: 0, imagesPerIdentity: 5, size: 16 });

  it('each batch holds batchSize / K identities with K images each; an epoch visits every identity once', () => {
    const loader = new BatchLoader(faces, { batchSize: 8, size: 16, seed: 1, perIdentity: 4 });
    expect(loader.batchesPerEpoch).toBe(5); // 10 identities x 4 images / 8
    const seen = new Set<number>();
    for (let b = 0; b < loader.batchesPerEpoch; b++) {
      const labels = Array.from(loader.batchIndices(0, b), (i) => faces.label(i));
      expect(labels.slice(0, 4).every((y) => y === labels[0])).toBe(true);
      expect(labels.slice(4).every((y) => y === labels[4])).toBe(true);
      expect(new Set(loader.batchIndices(0, b)).size).toBe(8); // distinct images
      seen.add(labels[0]!).add(labels[4]!);
    }
    expect(seen.size).toBe(10);
  });

  it('is a pure function of (seed, epoch) and changes across epochs', () => {
    const a = new BatchLoader(faces, { batchSize: 8, size: 16, seed: 1, perIdentity: 4 });
    const b = new BatchLoader(faces, { batchSize: 8, size: 16, seed: 1, perIdentity: 4 });
    expect(Array.from(a.order(2))).toEqual(Array.from(b.order(2)));
    expect(Array.from(a.order(2))).not.toEqual(Array.from(a.order(3)));
  });

  it('rejects a K that does not divide the batch', () => {
    expect(() => new BatchLoader(faces, { batchSize: 8, perIdentity: 3 })).toThrow('data loader: perIdentity (3) must be an integer dividing batchSize (8)');
  });
});
