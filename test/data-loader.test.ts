// Augmentation, normalization and the batch loader: deterministic order and augmentation from
// (seed, epoch, batch), exact resume, worker threads giving the same batches as inline preparation,
// bounded prefetch, and corrupt images skipped and counted.
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drawTransform, normalizePixel, writeSample } from '../src/data/augment.ts';
import { CacheDataset, writeCache } from '../src/data/cache.ts';
import { DataFormatError } from '../src/data/errors.ts';
import { ImageFolderDataset } from '../src/data/folder.ts';
import { encodePng, rgbImage } from '../src/data/image.ts';
import { BatchLoader, type Batch } from '../src/data/loader.ts';
import { samplePairs } from '../src/data/pairs.ts';
import { SyntheticFaces, syntheticFace } from '../src/data/synthetic.ts';

const dir = mkdtempSync(join(tmpdir(), 'lowbit-data-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 4 train identities x 5 images = 20 images of 16x16.
const faces = new SyntheticFaces({ seed: 9, identities: 5, heldOutIdentities: 1, imagesPerIdentity: 5, size: 16 });

async function collect(loader: BatchLoader, epoch: number, startBatch = 0): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of loader.epoch(epoch, { startBatch })) out.push(batch);
  return out;
}

const same = (a: Batch, b: Batch): boolean =>
  a.index === b.index && Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer)) && a.labels.join() === b.labels.join() && a.indices.join() === b.indices.join();

describe('augmentation and normalization', () => {
  // A 4x3 image whose red channel is 10*x + y, green 100, blue 255.
  const img = rgbImage(4, 3);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) img.data.set([10 * x + y, 100, 255], (y * 4 + x) * 3);
  const red = (out: Float32Array, x: number, y: number): number => out[y * 4 + x]!;

  it('normalizes as (x - 127.5) / 128 into planar [3, H, W]', () => {
    const out = new Float32Array(3 * 12);
    writeSample(img, { flip: false, dx: 0, dy: 0 }, out, 0);
    expect(red(out, 2, 1)).toBe(normalizePixel(21));
    expect(out[12 + 5]).toBe((100 - 127.5) / 128);
    expect(out[24 + 11]).toBe(127.5 / 128);
  });

  it('flips left-right and shifts with zero fill', () => {
    const out = new Float32Array(3 * 12);
    writeSample(img, { flip: true, dx: 0, dy: 0 }, out, 0);
    expect([0, 1, 2, 3].map((x) => red(out, x, 2))).toEqual([32, 22, 12, 2].map(normalizePixel));
    writeSample(img, { flip: false, dx: 1, dy: -1 }, out, 0);
    expect(red(out, 0, 1)).toBe(normalizePixel(10)); // source (1, 0)
    expect(red(out, 3, 1)).toBe(normalizePixel(0)); // source x = 4 is outside: black
    expect(red(out, 1, 0)).toBe(normalizePixel(0)); // source y = -1 is outside
    expect(out[24 + 3]).toBe(normalizePixel(0)); // every channel of an outside pixel
  });

  it('draws each sample\'s transform from (seed, epoch, index) alone', () => {
    const options = { flip: true, pad: 3 };
    expect(drawTransform(options, 1, 2, 3)).toEqual(drawTransform(options, 1, 2, 3));
    const draws = Array.from({ length: 400 }, (_, i) => drawTransform(options, 1, 2, i));
    const flips = draws.filter((t) => t.flip).length;
    expect(flips).toBeGreaterThan(160);
    expect(flips).toBeLessThan(240);
    expect(new Set(draws.map((t) => t.dx))).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    expect(drawTransform({ flip: false, pad: 0 }, 1, 2, 3)).toEqual({ flip: false, dx: 0, dy: 0 });
  });
});

describe('batch loader (inline)', () => {
  it('yields [B, 3, H, W] batches whose labels match the dataset, each image once per epoch', async () => {
    const loader = new BatchLoader(faces, { batchSize: 6, size: 12, dropLast: false, augment: false, seed: 1 });
    expect(loader.batchesPerEpoch).toBe(4);
    const batches = await collect(loader, 0);
    expect(batches.map((b) => b.size)).toEqual([6, 6, 6, 2]);
    expect(batches[0]!.images.length).toBe(6 * 3 * 12 * 12);
    const seen = batches.flatMap((b) => [...b.indices]);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seen).not.toEqual(Array.from({ length: 20 }, (_, i) => i)); // shuffled
    for (const b of batches) b.indices.forEach((index, row) => expect(b.labels[row]).toBe(faces.label(index)));
    // Without augmentation a row is exactly the resized, normalized image.
    const first = batches[0]!;
    const expected = new Float32Array(3 * 144);
    const { resizeRgb } = await import('../src/data/image.ts');
    writeSample(resizeRgb(faces.image(first.indices[0]!), 12, 12), { flip: false, dx: 0, dy: 0 }, expected, 0);
    expect([...first.images.subarray(0, 3 * 144)]).toEqual([...expected]);
    expect(new BatchLoader(faces, { batchSize: 6 }).batchesPerEpoch).toBe(3); // dropLast by default
  });

  it('is deterministic in (seed, epoch, batch) and resumes exactly from any batch', async () => {
    const options = { batchSize: 4, size: 16, seed: 5, augment: { flip: true, pad: 2 } };
    const a = await collect(new BatchLoader(faces, options), 3);
    const b = await collect(new BatchLoader(faces, options), 3);
    expect(a.every((batch, i) => same(batch, b[i]!))).toBe(true);
    const resumed = await collect(new BatchLoader(faces, options), 3, 2);
    expect(resumed.map((batch) => batch.index)).toEqual([2, 3, 4]);
    expect(resumed.every((batch, i) => same(batch, a[i + 2]!))).toBe(true);
    expect(same(await new BatchLoader(faces, options).batch(3, 4), a[4]!)).toBe(true);
    const otherEpoch = await collect(new BatchLoader(faces, options), 4);
    expect(otherEpoch[0]!.indices.join()).not.toBe(a[0]!.indices.join());
    const otherSeed = await collect(new BatchLoader(faces, { ...options, seed: 6 }), 3);
    expect(otherSeed[0]!.indices.join()).not.toBe(a[0]!.indices.join());
    const inOrder = await collect(new BatchLoader(faces, { ...options, shuffle: false }), 3);
    expect([...inOrder[1]!.indices]).toEqual([4, 5, 6, 7]);
    await expect(collect(new BatchLoader(faces, options), 3, 6)).rejects.toThrow(/startBatch 6 out of range 0\.\.5/);
  });
});

describe('batch loader (worker threads)', () => {
  it('delivers the same batches as inline preparation, prefetching a bounded number ahead', async () => {
    const options = { batchSize: 3, size: 16, seed: 2, augment: { flip: true, pad: 1 } };
    const inline = await collect(new BatchLoader(faces, options), 1);
    const loader = new BatchLoader(faces, { ...options, workers: 2, prefetch: 3 });
    try {
      const threaded: Batch[] = [];
      for await (const batch of loader.epoch(1)) {
        if (batch.index === 0) expect(loader.prefetched).toBe(3); // batches 1..3 requested while 0 is used
        threaded.push(batch);
      }
      expect(threaded.length).toBe(inline.length);
      expect(threaded.every((batch, i) => same(batch, inline[i]!))).toBe(true);
      // Resume mid-epoch on the same workers, and stop early without leaving anything hanging.
      for await (const batch of loader.epoch(1, { startBatch: 4 })) {
        expect(same(batch, inline[4]!)).toBe(true);
        break;
      }
      expect(loader.prefetched).toBe(0);
    } finally {
      await loader.close();
    }
  });

  it('skips a corrupt image, counts it once, and names it for the run summary', async () => {
    const root = join(dir, 'people');
    for (let person = 0; person < 2; person++) {
      mkdirSync(join(root, `p${person}`), { recursive: true });
      for (let k = 0; k < 3; k++) writeFileSync(join(root, `p${person}`, `${k}.png`), encodePng(syntheticFace(3, person, k, 0.5, 20)));
    }
    writeFileSync(join(root, 'p1', '1.png'), Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0)); // PNG signature, then nothing
    const folder = new ImageFolderDataset(root);
    for (const workers of [0, 2]) {
      const loader = new BatchLoader(folder, { batchSize: 6, size: 16, workers });
      try {
        for (let epoch = 0; epoch < 2; epoch++) {
          const [batch] = await collect(loader, epoch);
          expect(batch!.size).toBe(5);
          expect(batch!.skipped).toBe(1);
          expect(batch!.images.length).toBe(5 * 3 * 16 * 16);
          expect([...batch!.indices]).not.toContain(4);
        }
        expect(loader.stats().corruptImages).toBe(1);
        expect(loader.stats().corruptExamples[0]).toContain(join(root, 'p1', '1.png'));
      } finally {
        await loader.close();
      }
    }
  });

  it('passes a worker\'s format error through with its file and offset', async () => {
    const path = join(dir, 'shrinking.lbc');
    writeCache(path, faces, 16);
    const cache = new CacheDataset(path); // valid when the main thread opens it...
    truncateSync(path, 100); // ...cut before a worker opens its own handle
    const loader = new BatchLoader(cache, { batchSize: 4, size: 16, workers: 1 });
    try {
      const error = await loader.batch(0, 0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as DataFormatError).file).toBe(path);
      expect((error as DataFormatError).offset).toBe(100);
    } finally {
      await loader.close();
      cache.close();
    }
  });
});

describe('verification pairs', () => {
  it('alternates same and different pairs, reproducibly', () => {
    const labels = Array.from({ length: faces.length }, (_, i) => faces.label(i));
    const pairs = samplePairs(labels, 50, 4);
    expect(samplePairs(labels, 50, 4)).toEqual(pairs);
    for (let k = 0; k < 50; k++) {
      expect(pairs.first[k]).not.toBe(pairs.second[k]);
      expect(labels[pairs.first[k]!] === labels[pairs.second[k]!]).toBe(pairs.isSame[k]);
    }
    expect(pairs.isSame.filter(Boolean).length).toBe(25);
  });
});
