// The synthetic face generator: deterministic, identities farther apart than photos of one identity,
// the difficulty knob widens the within-identity spread, and the train/held-out split rule.
import { describe, expect, it } from 'vitest';
import { sampleIdentity } from '../src/data/face-params.ts';
import { SyntheticFaces, syntheticFace } from '../src/data/synthetic.ts';

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

/** Mean pixel distance within identities and between them, over ids x images faces at 32x32. */
function spread(difficulty: number, ids = 8, images = 4): { within: number; between: number } {
  const faces = Array.from({ length: ids }, (_, i) => Array.from({ length: images }, (_, j) => syntheticFace(11, i, j, difficulty, 32).data));
  let within = 0, withinCount = 0, between = 0, betweenCount = 0;
  for (let i = 0; i < ids; i++) {
    for (let j = 0; j < images; j++) {
      for (let k = i; k < ids; k++) {
        for (let l = k === i ? j + 1 : 0; l < images; l++) {
          const d = meanAbsDiff(faces[i]![j]!, faces[k]![l]!);
          if (i === k) (within += d), withinCount++;
          else (between += d), betweenCount++;
        }
      }
    }
  }
  return { within: within / withinCount, between: between / betweenCount };
}

describe('synthetic faces', () => {
  it('renders the same pixels for the same (seed, identity, image), in any order', () => {
    const a = syntheticFace(3, 5, 2, 0.5, 32);
    syntheticFace(3, 9, 0, 0.5, 32); // unrelated work in between must not disturb anything
    const b = syntheticFace(3, 5, 2, 0.5, 32);
    expect(a.width).toBe(32);
    expect(a.height).toBe(32);
    expect(a.data.length).toBe(32 * 32 * 3);
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    expect(meanAbsDiff(a.data, syntheticFace(4, 5, 2, 0.5, 32).data)).toBeGreaterThan(5); // another seed, another person
    expect(meanAbsDiff(a.data, syntheticFace(3, 5, 3, 0.5, 32).data)).toBeGreaterThan(1); // another photo
  });

  it('uses the whole intensity range and is not a flat image', () => {
    const { data } = syntheticFace(0, 1, 0, 0.5, 64);
    let min = 255, max = 0;
    for (const v of data) (min = Math.min(min, v)), (max = Math.max(max, v));
    expect(max - min).toBeGreaterThan(120);
  });

  it('puts identities farther apart than photos of one identity, and difficulty widens the within spread', () => {
    const easy = spread(0);
    const medium = spread(0.5);
    const hard = spread(1);
    expect(medium.between).toBeGreaterThan(1.3 * medium.within);
    expect(hard.between).toBeGreaterThan(hard.within);
    expect(easy.within).toBeLessThan(medium.within);
    expect(medium.within).toBeLessThan(hard.within);
  });

  it('keeps identity traits independent of the image index and of difficulty', () => {
    expect(sampleIdentity(1, 42)).toEqual(sampleIdentity(1, 42));
    expect(sampleIdentity(1, 42)).not.toEqual(sampleIdentity(1, 43));
  });

  it('splits identities: the last heldOutIdentities numbers are unseen in training', () => {
    const options = { seed: 2, identities: 10, heldOutIdentities: 3, imagesPerIdentity: 4, size: 24 };
    const train = new SyntheticFaces({ ...options, split: 'train' });
    const heldOut = new SyntheticFaces({ ...options, split: 'heldout' });
    expect(train.numClasses).toBe(7);
    expect(train.length).toBe(28);
    expect(heldOut.numClasses).toBe(3);
    expect(heldOut.length).toBe(12);
    expect([train.label(0), train.label(3), train.label(4), train.label(27)]).toEqual([0, 0, 1, 6]);
    expect(heldOut.identityOf(0)).toBe(7);
    // Held-out label 1, image 2 is identity 8, image 2.
    expect(Buffer.from(heldOut.image(1 * 4 + 2).data).equals(Buffer.from(syntheticFace(2, 8, 2, 0.5, 24).data))).toBe(true);
    expect(() => train.image(28)).toThrow(/image index 28 out of range 0\.\.27/);
    expect(() => new SyntheticFaces({ identities: 5, heldOutIdentities: 5 })).toThrow(/heldOutIdentities/);
    expect(() => new SyntheticFaces({ difficulty: 1.5 })).toThrow(/difficulty must be in 0\.\.1, got 1\.5/);
  });

  it('renders any size with the same layout (a small render matches a shrunk large one)', () => {
    const small = syntheticFace(5, 0, 0, 0, 16).data;
    const large = syntheticFace(5, 0, 0, 0, 64).data;
    // Average 4x4 blocks of the large render; the difference is noise and edge detail only.
    const shrunk = new Uint8Array(small.length);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) s += large[((4 * y + dy) * 64 + 4 * x + dx) * 3 + c]!;
      shrunk[(y * 16 + x) * 3 + c] = Math.round(s / 16);
    }
    expect(meanAbsDiff(small, shrunk)).toBeLessThan(8);
    expect(meanAbsDiff(small, syntheticFace(5, 1, 0, 0, 16).data)).toBeGreaterThan(15);
  });
});
