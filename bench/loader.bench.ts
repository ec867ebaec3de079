// Data layer throughput in images/s: the synthetic face generator at 112x112, and the batch loader
// (synthetic faces, flip + pad augmentation, batch 16) inline and with 2 worker threads.
// Run: npx tsx bench/loader.bench.ts [--json]  (or `lowbit bench loader [--json]`)
import { pathToFileURL } from 'node:url';
import { BatchLoader, type Batch } from '../src/data/loader.ts';
import { SyntheticFaces, syntheticFace } from '../src/data/synthetic.ts';
import { formatResult, measure, type BenchCase, type BenchOptions } from './lib.ts';

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
function loaderCase(workers: number): ImageCase {
  const dataset = new SyntheticFaces({ identities: 200, heldOutIdentities: 20, imagesPerIdentity: 20, size: SIZE });
  const loader = new BatchLoader(dataset, { batchSize: BATCH, size: SIZE, workers, augment: { flip: true, pad: 4 } });
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
    id: `loader_${workers === 0 ? 'inline' : `workers${workers}`}_${SIZE}_b${BATCH}`,
    images: 4 * BATCH,
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

export async function main(opts: BenchOptions = {}): Promise<void> {
  for (const c of [generatorCase(), loaderCase(0), loaderCase(2)]) {
    const r = await measure(c, { timeMs: 2000, ...opts });
    r.images_per_s = c.images / (r.median_ms / 1000);
    console.log(opts.json ? JSON.stringify(r) : `${formatResult(r)}  ${(r.images_per_s as number).toFixed(1)} images/s`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
