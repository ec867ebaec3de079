// Command recorder: every dispatch of a step goes into one command encoder (one compute pass while no
// copy intervenes); nothing is submitted until flush(), a readback, or the auto-flush bound below.
// Uniforms of all dispatches share a CPU-side arena that is uploaded with one writeBuffer per chunk
// right before the submit (submit-per-kernel is the anti-pattern: ~67 µs each on lavapipe).
import type { Gpu } from './device.ts';

export interface DispatchInfo {
  /** Kernel name as the profiler and error messages show it, e.g. 'matmul' or 'unary.exp'. */
  name: string;
  /** Human-readable shapes of the call, e.g. '[64,128]x[128,32]'. */
  shapes: string;
  workgroups: readonly [number, number, number];
  flops: number;
  bytes: number;
}

export interface BufferBinding {
  buffer: GPUBuffer;
  /** Bytes bound; the pool hands out rounded-up buffers, so this is the tensor's own size. */
  size: number;
}

/** Hooks the profiler installs (src/gpu/profiler.ts); absent, recording costs nothing extra. */
export interface DispatchObserver {
  /** True when the current submit can take no more dispatches. */
  readonly full: boolean;
  timestampWrites(info: DispatchInfo): GPUComputePassTimestampWrites | undefined;
  beforeFinish(encoder: GPUCommandEncoder): void;
  afterSubmit(): void;
}

const UNIFORM_CHUNK_BYTES = 64 * 1024;
/** Auto-flush bounds: released buffers are recycled only after a submit, so a very long step would
 *  otherwise hold every intermediate it ever made. */
const MAX_DISPATCHES_PER_SUBMIT = 4096;
const MAX_PENDING_BYTES = 512 * 1024 * 1024;

interface UniformChunk {
  buffer: GPUBuffer;
  cpu: Uint8Array;
  used: number;
}

export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private chunks: UniformChunk[] = [];
  private readonly uniformAlign: number;
  observer: DispatchObserver | null = null;
  lastKernel: string | undefined;
  dispatchesSinceSubmit = 0;
  submits = 0;

  constructor(private readonly gpu: Gpu) {
    this.uniformAlign = Math.max(16, gpu.device.limits.minUniformBufferOffsetAlignment);
  }

  private ensureEncoder(): GPUCommandEncoder {
    this.encoder ??= this.gpu.device.createCommandEncoder({ label: 'lowbit-step' });
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private uniformSlot(data: ArrayBuffer): GPUBufferBinding {
    const bytes = data.byteLength;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + bytes > UNIFORM_CHUNK_BYTES) {
      const buffer = this.gpu.pool.acquire(UNIFORM_CHUNK_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'uniforms');
      chunk = { buffer, cpu: new Uint8Array(UNIFORM_CHUNK_BYTES), used: 0 };
      this.chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.cpu.set(new Uint8Array(data), offset);
    chunk.used = offset + Math.ceil(bytes / this.uniformAlign) * this.uniformAlign;
    return { buffer: chunk.buffer, offset, size: bytes };
  }

  /** Records one dispatch. Binding 0 is the uniform block when given, storage buffers follow in order. */
  dispatch(pipeline: GPUComputePipeline, buffers: readonly BufferBinding[], uniform: ArrayBuffer | null, info: DispatchInfo): void {
    if (this.dispatchesSinceSubmit >= MAX_DISPATCHES_PER_SUBMIT || this.gpu.pool.pendingBytes >= MAX_PENDING_BYTES || this.observer?.full) this.flush();
    this.lastKernel = `${info.name} ${info.shapes}`;
    const entries: GPUBindGroupEntry[] = [];
    let binding = 0;
    if (uniform) entries.push({ binding: binding++, resource: this.uniformSlot(uniform) });
    for (const b of buffers) entries.push({ binding: binding++, resource: { buffer: b.buffer, size: b.size } });
    const bindGroup = this.gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: info.name });
    const timestampWrites = this.observer?.timestampWrites(info);
    if (timestampWrites) {
      this.endPass();
      const pass = this.ensureEncoder().beginComputePass({ label: info.name, timestampWrites });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(info.workgroups[0], info.workgroups[1], info.workgroups[2]);
      pass.end();
    } else {
      this.pass ??= this.ensureEncoder().beginComputePass({ label: 'lowbit' });
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(info.workgroups[0], info.workgroups[1], info.workgroups[2]);
    }
    this.dispatchesSinceSubmit++;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  clear(buffer: GPUBuffer, bytes: number): void {
    this.endPass();
    this.ensureEncoder().clearBuffer(buffer, 0, Math.ceil(bytes / 4) * 4);
  }

  /** Submits everything recorded so far. Cheap when nothing is recorded. */
  flush(): void {
    if (!this.encoder) {
      this.gpu.pool.afterSubmit();
      return;
    }
    this.endPass();
    const queue = this.gpu.device.queue;
    for (const chunk of this.chunks) queue.writeBuffer(chunk.buffer, 0, chunk.cpu, 0, chunk.used);
    this.observer?.beforeFinish(this.encoder);
    queue.submit([this.encoder.finish()]);
    this.encoder = null;
    for (const chunk of this.chunks) this.gpu.pool.release(chunk.buffer);
    this.chunks = [];
    this.gpu.pool.afterSubmit();
    this.observer?.afterSubmit();
    this.dispatchesSinceSubmit = 0;
    this.submits++;
  }

  /** Copies `bytes` of `src` back to the CPU: flushes, then waits for the GPU. */
  async read(src: GPUBuffer, srcOffset: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.gpu.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
    this.copy(src, srcOffset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
      this.gpu.throwIfFailed();
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      if (staging.mapState === 'mapped') staging.unmap();
      staging.destroy();
    }
  }

  /** Resolves when the GPU has finished everything submitted so far (flushes first). */
  async sync(): Promise<void> {
    this.flush();
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.gpu.throwIfFailed();
  }
}
