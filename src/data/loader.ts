// The batch loader a training loop consumes:
//   const loader = new BatchLoader(dataset, { batchSize: 64, workers: 2 });
//   for await (const batch of loader.epoch(e, { startBatch })) { ... batch.images [B, 3, H, W] ... }
// Order: epoch e visits the dataset in permutation(seed, e) (or in index order without shuffle),
// batch b being positions b*batchSize .. (b+1)*batchSize-1. Each sample's augmentation is drawn from
// (seed, e, dataset index). So (seed, epoch, batch index) fixes a batch exactly, whichever worker
// made it, which is what makes resuming mid-epoch exact. With workers > 0 up to `prefetch` batches are
// prepared ahead in worker threads while the consumer works on the current one.
import { NO_AUGMENT, type AugmentOptions } from './augment.ts';
import type { ImageDataset } from './dataset.ts';
import { prepareBatch, type BatchRequest, type PreparedBatch } from './prepare.ts';
import { hashSeed, permutation } from './seed.ts';
import { WorkerPool } from './worker-pool.ts';

export interface LoaderOptions {
  batchSize: number;
  /** Output size: one number for square images, or [height, width]; images are resized to it. Default 112. */
  size?: number | readonly [number, number];
  /** Seeds the epoch orders and the augmentation. Default 0. */
  seed?: number;
  /** Visit the dataset in a new random order each epoch. Default true. */
  shuffle?: boolean;
  /** Leave out a last batch smaller than batchSize. Default true. */
  dropLast?: boolean;
  /** Default { flip: true, pad: 0 } (insightface's training augmentation); false for none. */
  augment?: Partial<AugmentOptions> | false;
  /** Worker threads preparing batches; 0 prepares them inline, when asked for. Default 0. */
  workers?: number;
  /** With workers > 0, batches kept in flight beyond the one being consumed. Default 2 per worker. */
  prefetch?: number;
  /**
   * Identity-balanced batches: each batch holds batchSize / perIdentity identities with perIdentity
   * images each (P x K sampling), so per-batch class statistics (RCM's class centres) are defined.
   * An epoch visits every identity once, in a seeded order, with a seeded draw of its images.
   */
  perIdentity?: number;
}

export interface Batch {
  epoch: number;
  /** Batch number within the epoch. */
  index: number;
  /** [B, 3, H, W] normalized ((x - 127.5) / 128). */
  images: Float32Array;
  /** [B] int32 class labels. */
  labels: Int32Array;
  /** [B] dataset index of each row. */
  indices: Uint32Array;
  /** B: batchSize, less on a last partial batch or when corrupt images were left out. */
  size: number;
  /** Corrupt images left out of this batch. */
  skipped: number;
}

export interface LoaderStats {
  /** Distinct dataset images found corrupt so far (each left out wherever it fell). */
  corruptImages: number;
  /** The first few reasons, for the run summary. */
  corruptExamples: string[];
}

const ORDER_STREAM = 0x0de7;

export class BatchLoader {
  readonly batchSize: number;
  readonly height: number;
  readonly width: number;
  readonly seed: number;
  readonly batchesPerEpoch: number;
  private readonly shuffle: boolean;
  private readonly augment: AugmentOptions;
  private readonly workerCount: number;
  private readonly prefetch: number;
  private readonly perIdentity: number;
  private readonly byIdentity: number[][] = [];
  private pool: WorkerPool | undefined;
  private queued = 0;
  private cachedOrder: { epoch: number; order: Uint32Array } | undefined;
  private readonly corrupt = new Set<number>();
  private readonly corruptExamples: string[] = [];

  constructor(
    readonly dataset: ImageDataset,
    options: LoaderOptions,
  ) {
    const { batchSize, size = 112, seed = 0, shuffle = true, dropLast = true, augment = {}, workers = 0 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`data loader: batchSize must be an integer >= 1, got ${batchSize}`);
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`data loader: workers must be an integer >= 0, got ${workers}`);
    this.batchSize = batchSize;
    [this.height, this.width] = typeof size === 'number' ? [size, size] : size;
    this.seed = seed;
    this.shuffle = shuffle;
    this.augment = augment === false ? NO_AUGMENT : { flip: augment.flip ?? true, pad: augment.pad ?? 0 };
    this.workerCount = workers;
    this.prefetch = Math.max(1, options.prefetch ?? 2 * workers);
    this.perIdentity = options.perIdentity ?? 0;
    if (this.perIdentity > 0) {
      if (!Number.isInteger(this.perIdentity) || batchSize % this.perIdentity !== 0) {
        throw new RangeError(`data loader: perIdentity (${this.perIdentity}) must be an integer dividing batchSize (${batchSize})`);
      }
      for (let i = 0; i < dataset.length; i++) (this.byIdentity[dataset.label(i)] ??= []).push(i);
    }
    const visited = this.perIdentity > 0 ? this.byIdentity.filter(Boolean).length * this.perIdentity : dataset.length;
    this.batchesPerEpoch = dropLast ? Math.floor(visited / batchSize) : Math.ceil(visited / batchSize);
  }

  /** P x K order: identities shuffled, each followed by perIdentity of its images (drawn with a
   *  seeded shuffle; repeated when an identity has fewer). */
  private identityBalancedOrder(epoch: number): Uint32Array {
    const identities = this.byIdentity.map((_, id) => id).filter((id) => this.byIdentity[id]);
    const idOrder = permutation(identities.length, hashSeed(this.seed, ORDER_STREAM, epoch));
    const order = new Uint32Array(identities.length * this.perIdentity);
    idOrder.forEach((k, slot) => {
      const images = this.byIdentity[identities[k]!]!;
      const pick = permutation(images.length, hashSeed(this.seed, ORDER_STREAM + 1, epoch, identities[k]!));
      for (let j = 0; j < this.perIdentity; j++) order[slot * this.perIdentity + j] = images[pick[j % images.length]!]!;
    });
    return order;
  }

  /** The order in which epoch `epoch` visits the dataset's indices. */
  order(epoch: number): Uint32Array {
    if (this.cachedOrder?.epoch !== epoch) {
      const order = this.perIdentity > 0
        ? this.identityBalancedOrder(epoch)
        : this.shuffle ? permutation(this.dataset.length, hashSeed(this.seed, ORDER_STREAM, epoch)) : Uint32Array.from({ length: this.dataset.length }, (_, i) => i);
      this.cachedOrder = { epoch, order };
    }
    return this.cachedOrder.order;
  }

  /** Dataset indices of batch `index` of epoch `epoch`. */
  batchIndices(epoch: number, index: number): Uint32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.batchesPerEpoch) {
      throw new RangeError(`data loader: batch ${index} out of range 0..${this.batchesPerEpoch - 1} (${this.dataset.length} images, batch size ${this.batchSize})`);
    }
    const order = this.order(epoch);
    return order.slice(index * this.batchSize, Math.min(order.length, (index + 1) * this.batchSize));
  }

  /** One batch, by epoch and number: the same every time it is asked for. */
  async batch(epoch: number, index: number): Promise<Batch> {
    const request: BatchRequest = { epoch, indices: this.batchIndices(epoch, index), seed: this.seed, augment: this.augment, height: this.height, width: this.width };
    const prepared = this.workerCount > 0 ? await this.workers().run(request) : prepareBatch(this.dataset, request);
    return this.finish(epoch, index, prepared);
  }

  /** The batches of epoch `epoch` from `startBatch` on, in order, prefetched when workers > 0. */
  async *epoch(epoch: number, { startBatch = 0 }: { startBatch?: number } = {}): AsyncGenerator<Batch> {
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.batchesPerEpoch) {
      throw new RangeError(`data loader: startBatch ${startBatch} out of range 0..${this.batchesPerEpoch}`);
    }
    const ahead: Promise<Batch>[] = []; // bounded prefetch queue, oldest first
    const depth = this.workerCount > 0 ? this.prefetch : 0; // inline work is done when asked for
    let next = startBatch;
    try {
      while (next < this.batchesPerEpoch || ahead.length > 0) {
        const current = ahead.shift() ?? this.batch(epoch, next++);
        // Keep `depth` batches in flight beyond the one the consumer is about to work on.
        while (next < this.batchesPerEpoch && ahead.length < depth) ahead.push(this.batch(epoch, next++));
        this.queued = ahead.length;
        yield await current;
      }
    } finally {
      this.queued = 0;
      // The consumer stopped early: batches still in flight are dropped, their errors too.
      for (const pending of ahead) pending.catch(() => undefined);
    }
  }

  /** Batches requested ahead by the running epoch() but not yet handed out (at most `prefetch`). */
  get prefetched(): number {
    return this.queued;
  }

  stats(): LoaderStats {
    return { corruptImages: this.corrupt.size, corruptExamples: [...this.corruptExamples] };
  }

  /** Stops the worker threads (the dataset itself stays open: it belongs to the caller). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private workers(): WorkerPool {
    this.pool ??= new WorkerPool(this.dataset.spec, this.workerCount);
    return this.pool;
  }

  private finish(epoch: number, index: number, prepared: PreparedBatch): Batch {
    for (const { index: bad, reason } of prepared.skipped) {
      if (!this.corrupt.has(bad) && this.corruptExamples.length < 10) this.corruptExamples.push(reason);
      this.corrupt.add(bad);
    }
    return { epoch, index, images: prepared.images, labels: prepared.labels, indices: prepared.kept, size: prepared.labels.length, skipped: prepared.skipped.length };
  }
}
