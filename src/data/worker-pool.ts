// Worker threads that prepare batches. The worker code is TypeScript, so each thread starts from
// worker-bootstrap.mjs, which registers tsx in that thread and imports worker.ts: this works under
// `npx tsx` and under vitest alike (neither's loader reaches a worker's entry on Node 20). A worker
// holds the process open only while it has requests pending.
import { Worker } from 'node:worker_threads';
import type { DatasetSpec } from './dataset.ts';
import { deserializeError, type SerializedError } from './errors.ts';
import type { BatchRequest, PreparedBatch } from './prepare.ts';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const WORKER_ENTRY = new URL('./worker.ts', import.meta.url).href;

interface Pending {
  resolve: (batch: PreparedBatch) => void;
  reject: (e: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 0;
  private closed = false;

  constructor(spec: DatasetSpec, count: number) {
    for (let i = 0; i < count; i++) this.workers.push(this.start(spec));
  }

  /** Prepares a batch on the worker with the fewest requests pending. */
  run(request: BatchRequest): Promise<PreparedBatch> {
    if (this.closed) return Promise.reject(new Error('data loader: worker pool is closed'));
    const target = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<PreparedBatch>((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.ref();
      target.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private start(spec: DatasetSpec): PoolWorker {
    // execArgv [] : the bootstrap registers tsx; inheriting the parent's tsx flags would register it twice.
    const worker = new Worker(BOOTSTRAP, { workerData: { spec, entry: WORKER_ENTRY }, execArgv: [] });
    const entry: PoolWorker = { worker, pending: new Map() };
    const settle = (id: number): Pending | undefined => {
      const p = entry.pending.get(id);
      entry.pending.delete(id);
      if (entry.pending.size === 0) worker.unref();
      return p;
    };
    worker.on('message', (msg: { id: number; batch?: PreparedBatch; error?: SerializedError }) => {
      const p = settle(msg.id);
      if (msg.error) p?.reject(deserializeError(msg.error));
      else p?.resolve(msg.batch!);
    });
    const failAll = (e: Error): void => {
      for (const id of [...entry.pending.keys()]) settle(id)?.reject(e);
    };
    worker.on('error', (e) => failAll(e));
    worker.on('exit', (code) => failAll(new Error(this.closed ? 'data loader: worker pool closed with a batch still pending' : `data loader worker exited with code ${code}`)));
    worker.unref();
    return entry;
  }
}
