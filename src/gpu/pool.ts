// Buffer pool bucketed by (usage, rounded size). A released buffer may still be read by commands that
// are recorded but not yet submitted, and queue.writeBuffer on a reused buffer would land *before* them,
// so released buffers wait in `pending` until the recorder submits, and only then become reusable.

export interface PoolStats {
  /** Bytes of buffers handed out and not released (what tensors and uniforms hold now). */
  liveBytes: number;
  liveBuffers: number;
  /** Bytes sitting in free lists, ready for reuse. */
  pooledBytes: number;
  /** Bytes released but waiting for the submit of the commands that used them. */
  pendingBytes: number;
  /** createBuffer calls since start: flat across training steps means the pool recycles. */
  allocations: number;
  reuses: number;
  /** The largest single request so far, bytes (what must fit one storage binding). */
  largestRequest: number;
}

const MIN_BUCKET = 256;

/** Rounds up to 4 steps per power of two: at most 25% waste, few distinct buckets. */
export function bucketSize(bytes: number): number {
  if (bytes <= MIN_BUCKET) return MIN_BUCKET;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = Math.max(MIN_BUCKET, pow / 4);
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private readonly sizeOf = new WeakMap<GPUBuffer, number>();
  private stats: PoolStats = { liveBytes: 0, liveBuffers: 0, pooledBytes: 0, pendingBytes: 0, allocations: 0, reuses: 0, largestRequest: 0 };

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const size = bucketSize(bytes);
    if (bytes > this.stats.largestRequest) this.stats.largestRequest = bytes;
    const list = this.free.get(`${usage}:${size}`);
    let buffer = list?.pop();
    if (buffer) {
      this.stats.pooledBytes -= size;
      this.stats.reuses++;
    } else {
      buffer = this.device.createBuffer({ size, usage, label });
      this.sizeOf.set(buffer, size);
      this.stats.allocations++;
    }
    this.stats.liveBytes += size;
    this.stats.liveBuffers++;
    return buffer;
  }

  /** Returns a buffer; it becomes reusable after the next submit. */
  release(buffer: GPUBuffer): void {
    const size = this.sizeOf.get(buffer) ?? buffer.size;
    this.stats.liveBytes -= size;
    this.stats.liveBuffers--;
    this.stats.pendingBytes += size;
    this.pending.push(buffer);
  }

  /** Called by the recorder right after queue.submit(). */
  afterSubmit(): void {
    for (const buffer of this.pending) {
      const size = this.sizeOf.get(buffer) ?? buffer.size;
      const key = `${buffer.usage}:${size}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(buffer);
      this.stats.pooledBytes += size;
    }
    this.stats.pendingBytes = 0;
    this.pending = [];
  }

  get pendingBytes(): number {
    return this.stats.pendingBytes;
  }

  /** Destroys every pooled (free) buffer, e.g. between benchmarks of different sizes. */
  trim(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
    this.stats.pooledBytes = 0;
  }

  snapshot(): PoolStats {
    return { ...this.stats };
  }
}
