// Per-dispatch GPU timing. With `timestamp-query`, every dispatch gets its own compute pass whose
// begin/end timestamps are resolved at submit and read back asynchronously (never blocking the step).
// Without it, the fallback submits each dispatch alone and times it on the CPU as the gap between
// consecutive queue completions ("per-submit CPU timing"; coarser, and said so in every report).
import type { Gpu } from './device.ts';
import type { DispatchInfo, DispatchObserver } from './recorder.ts';

export interface KernelRecord extends DispatchInfo {
  /** GPU start, ns, relative to the first record of the session. */
  startNs: number;
  durationNs: number;
  /** Index of the submit the dispatch was part of. */
  submit: number;
}

export type TimingSource = 'timestamp-query' | 'cpu-per-submit';

export interface ProfilerOptions {
  /** Use the per-submit CPU timing fallback even when timestamp queries exist (to test it). */
  cpuTiming?: boolean;
}

const QUERY_CAPACITY = 4096; // timestamps per submit: 2 per dispatch

interface PendingSubmit {
  infos: DispatchInfo[];
  readback: GPUBuffer | null;
  submit: number;
}

export class Profiler implements DispatchObserver {
  readonly source: TimingSource;
  readonly records: KernelRecord[] = [];
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolveBuffer: GPUBuffer | null = null;
  private current: DispatchInfo[] = [];
  private pendingReadback: GPUBuffer | null = null;
  private readonly inFlight: Promise<void>[] = [];
  private originNs: number | null = null;
  private lastCompletionMs = 0;
  private submitIndex = 0;

  constructor(private readonly gpu: Gpu, { cpuTiming = false }: ProfilerOptions = {}) {
    this.source = gpu.features.has('timestamp-query') && !cpuTiming ? 'timestamp-query' : 'cpu-per-submit';
    if (this.source === 'timestamp-query') {
      this.querySet = gpu.device.createQuerySet({ type: 'timestamp', count: QUERY_CAPACITY, label: 'profiler' });
      this.resolveBuffer = gpu.device.createBuffer({ size: QUERY_CAPACITY * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'profiler-resolve' });
    }
  }

  /** True when the current submit cannot take another dispatch (the recorder flushes first). */
  get full(): boolean {
    return this.source === 'timestamp-query' ? this.current.length * 2 >= QUERY_CAPACITY : this.current.length >= 1;
  }

  timestampWrites(info: DispatchInfo): GPUComputePassTimestampWrites | undefined {
    const index = this.current.length;
    this.current.push(info);
    if (!this.querySet) return undefined;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
  }

  beforeFinish(encoder: GPUCommandEncoder): void {
    if (!this.querySet || !this.resolveBuffer || this.current.length === 0) return;
    const count = this.current.length * 2;
    encoder.resolveQuerySet(this.querySet, 0, count, this.resolveBuffer, 0);
    const readback = this.gpu.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'profiler-readback' });
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, readback, 0, count * 8);
    this.pendingReadback = readback;
  }

  afterSubmit(): void {
    const pending: PendingSubmit = { infos: this.current, readback: this.pendingReadback, submit: this.submitIndex++ };
    this.current = [];
    this.pendingReadback = null;
    if (pending.infos.length === 0) return;
    this.inFlight.push(pending.readback ? this.collectTimestamps(pending) : this.collectCpuTiming(pending));
  }

  private async collectTimestamps(p: PendingSubmit): Promise<void> {
    const readback = p.readback!;
    await readback.mapAsync(GPUMapMode.READ);
    const stamps = new BigInt64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    readback.destroy();
    this.originNs ??= Number(stamps[0]!);
    p.infos.forEach((info, i) => {
      const begin = Number(stamps[2 * i]!);
      const end = Number(stamps[2 * i + 1]!);
      this.records.push({ ...info, startNs: begin - this.originNs!, durationNs: Math.max(0, end - begin), submit: p.submit });
    });
  }

  private async collectCpuTiming(p: PendingSubmit): Promise<void> {
    const submittedMs = performance.now();
    await this.gpu.device.queue.onSubmittedWorkDone();
    const doneMs = performance.now();
    // The queue runs in order: this submit started when the previous one finished (or when submitted).
    const startMs = Math.max(submittedMs, this.lastCompletionMs);
    this.lastCompletionMs = doneMs;
    this.originNs ??= startMs * 1e6;
    this.records.push({ ...p.infos[0]!, startNs: startMs * 1e6 - this.originNs, durationNs: (doneMs - startMs) * 1e6, submit: p.submit });
  }

  /** Waits until every submitted dispatch has its timing. */
  async collect(): Promise<KernelRecord[]> {
    this.gpu.recorder.flush();
    while (this.inFlight.length > 0) await this.inFlight.shift();
    return this.records;
  }

  clear(): void {
    this.records.length = 0;
    this.originNs = null;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuffer?.destroy();
  }
}

/** Installs a profiler on the recorder (flushing what was recorded before, so it is not timed). */
export function startProfiling(gpu: Gpu, options: ProfilerOptions = {}): Profiler {
  gpu.recorder.flush();
  const profiler = new Profiler(gpu, options);
  gpu.recorder.observer = profiler;
  return profiler;
}

export async function stopProfiling(gpu: Gpu, profiler: Profiler): Promise<KernelRecord[]> {
  const records = await profiler.collect();
  gpu.recorder.observer = null;
  profiler.destroy();
  return records;
}
