// Data layer throughput in images/s: the synthetic face generator at 112x112, the batch loader
// (synthetic faces, flip + pad augmentation) inline and with worker threads, and the loader against
// the train step it feeds, at the two train-bench shapes (tiny preset 32x32 batch 32; iresnet18
// 112x112 batch 8): the loader must deliver faster than the step consumes (headroom > 1).
// Run: npx tsx bench/loader.bench.ts [--json]  (or `lowbit bench loader [--json]`)
import { pathToFileURL } from 'node:url';
import { BatchLoader, type Batch } from '../src/data/loader.ts';
import { SyntheticFaces, syntheticFace } from '../src/data/synthetic.ts';
import { openDataset } from '../src/data/open.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { PRESETS } from '../src/train/config.ts';
import { formatResult, measure, type BenchCase, type BenchOptions } from './lib.ts';
import { TRAIN_CASES, trainCase } from './train.bench.ts';

const SIZE = 112;
const BATCH = 16;

interface ImageCase extends BenchCase {
  /** Images produced by one run. */
  images: number;
}

function generatorCase(): ImageCase {
  let next = 0;
  const images = 8;
  return {
    id: `synthetic_generate_${SIZE}`,
    images,
    run: () => undefined,
    runAsync: async () => {
      for (let i = 0; i < images; i++, next++) syntheticFace(0, next % 500, next, 0.5, SIZE);
    },
  };
}

/**
 * One run = the next 4 batches of an endless stream of epochs: with prefetch a single batch is either
 * ready (0 ms) or not, so one-batch samples would be bimodal. Setup waits for the first batch, so
 * worker start-up is not timed.
 */
function loaderCase(workers: number, size = SIZE, batch = BATCH, dataset: ImageDataset = new SyntheticFaces({ identities: 200, heldOutIdentities: 20, imagesPerIdentity: 20, size })): ImageCase {
  const loader = new BatchLoader(dataset, { batchSize: batch, size, workers, augment: { flip: true, pad: 4 } });
  let epoch = 0;
  let stream: AsyncGenerator<Batch> = loader.epoch(epoch);
  const nextBatch = async (): Promise<Batch> => {
    for (;;) {
      const step = await stream.next();
      if (!step.done) return step.value;
      stream = loader.epoch(++epoch);
    }
  };
  return {
    id: `loader_${workers === 0 ? 'inline' : `workers${workers}`}_${size}_b${batch}`,
    images: 4 * batch,
    run: () => undefined,
    runAsync: async () => {
      for (let i = 0; i < 4; i++) await nextBatch();
    },
    setup: async () => void (await nextBatch()),
    teardown: async () => {
      await stream.return(undefined);
      await loader.close();
    },
  };
}

async function imagesPerSecond(c: ImageCase, opts: BenchOptions): Promise<number> {
  const r = await measure(c, { timeMs: 2000, ...opts });
  r.img_per_s = c.images / (r.median_ms / 1000);
  console.log(opts.json ? JSON.stringify(r) : `${formatResult(r)}  ${(r.img_per_s as number).toFixed(1)} img/s`);
  return r.img_per_s as number;
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  for (const c of [generatorCase(), loaderCase(0), loaderCase(2)]) await imagesPerSecond(c, opts);
  // The loader as each train-bench step is fed (the preset's data and worker count) against that step.
  const tiny = PRESETS.tiny!;
  const feeds: [string, ImageCase, string][] = [
    ['tiny_b32', loaderCase(tiny.data.workers, 32, 32, openDataset(tiny.data.train)), 'train_iresnet18_tiny_b32'],
    ['112_b8', loaderCase(2, 112, 8), 'train_iresnet18_112_b8'],
  ];
  for (const [shape, loader, trainId] of feeds) {
    const loaderRate = await imagesPerSecond(loader, opts);
    const step = await measure(trainCase(trainId, TRAIN_CASES.find(([id]) => id === trainId)![1]), { ...opts, timeMs: 1, iterations: 3 });
    const trainRate = Number(shape.split('_b')[1]) / (step.median_ms / 1000);
    const r = { case: `loader_vs_train_${shape}`, loader_img_per_s: loaderRate, train_img_per_s: trainRate, headroom: loaderRate / trainRate };
    console.log(opts.json ? JSON.stringify(r) : `${r.case}: loader ${loaderRate.toFixed(1)} img/s, train step ${trainRate.toFixed(1)} img/s: headroom ${r.headroom.toFixed(1)}x`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
