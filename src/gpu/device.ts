// The one WebGPU device of the process: Dawn instance, adapter, device, and the engine parts that hang
// off it (pipeline cache, buffer pool, command recorder). `await initGpu()` once, then `gpu()` anywhere.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { BufferPool } from './pool.ts';
import { PipelineCache } from './pipelines.ts';
import { Recorder } from './recorder.ts';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  features: string[];
  limits: Record<string, number>;
}

export interface GpuOptions {
  /** Extra Dawn toggles, e.g. 'enable-dawn-features=dump_shaders'. */
  dawnFlags?: string[];
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];
// Dawn caps these two at 16 whatever the adapter says, and warns on stderr when asked for more.
const LIMITS_NOT_REQUESTED = new Set(['maxDynamicUniformBuffersPerPipelineLayout', 'maxDynamicStorageBuffersPerPipelineLayout']);

// NOTE: the Dawn instance must stay referenced for the life of the process. If V8 collects it, Dawn
// aborts later with futex/mutex errors far from the cause. Module scope + globalThis pins it.
let dawn: GPU | undefined;
let current: Gpu | undefined;
let pending: Promise<Gpu> | undefined;

export class GpuError extends Error {
  override name = 'GpuError';
}

export class Gpu {
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  readonly recorder: Recorder;
  readonly features: ReadonlySet<string>;
  /** Set when Dawn reports an error; thrown by the next flush or readback. */
  private asyncError: GpuError | undefined;
  lostReason: string | undefined;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
  ) {
    this.features = new Set(device.features as unknown as Iterable<string>);
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device, (msg) => this.reportError(msg));
    this.recorder = new Recorder(this);
    device.addEventListener('uncapturederror', (ev) => {
      const error = (ev as GPUUncapturedErrorEvent).error;
      this.reportError(`${error.constructor.name}: ${error.message} (last kernel recorded: ${this.recorder.lastKernel ?? 'none'})`);
    });
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** A CPU implementation (lavapipe, SwiftShader): few cores, so kernels launch few, looping workgroups. */
  get isCpuAdapter(): boolean {
    return this.adapter.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(this.adapter.description);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get maxBindingBytes(): number {
    return this.device.limits.maxStorageBufferBindingSize;
  }

  reportError(message: string): void {
    this.asyncError ??= new GpuError(message);
  }

  /** Throws the first error Dawn reported since the last check, or the loss of the device. */
  throwIfFailed(): void {
    if (this.lostReason !== undefined) throw new GpuError(`WebGPU device lost (${this.lostReason}); last kernel recorded: ${this.recorder.lastKernel ?? 'none'}`);
    const error = this.asyncError;
    if (error) {
      this.asyncError = undefined;
      throw error;
    }
  }
}

function dawnInstance(flags: string[]): GPU {
  if (!dawn) {
    Object.assign(globalThis, globals);
    process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'lowbit-xdg-'));
    dawn = create(flags);
    (globalThis as { __lowbitDawn?: GPU }).__lowbitDawn = dawn;
  }
  return dawn;
}

async function createGpu(options: GpuOptions): Promise<Gpu> {
  // Timestamps are quantized by default (a fingerprinting guard); the profiler needs them exact.
  const instance = dawnInstance(['disable-dawn-features=timestamp_quantization', ...(options.dawnFlags ?? [])]);
  const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new GpuError('no WebGPU adapter found. On Debian bookworm run `node scripts/setup.mjs` as root (it installs Mesa lavapipe from bookworm-backports), or see README.md.');
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, number>)[key];
    if (typeof value === 'number' && !LIMITS_NOT_REQUESTED.has(key)) requiredLimits[key] = value;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'lowbit' });
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, number>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return new Gpu(device, {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    device: info.device,
    features: [...(adapter.features as unknown as Iterable<string>)].sort(),
    limits,
  });
}

/** Creates the process's device once; later calls return the same one. */
export function initGpu(options: GpuOptions = {}): Promise<Gpu> {
  pending ??= createGpu(options).then((g) => (current = g));
  return pending;
}

/** The initialized device; throws when `initGpu()` has not finished. */
export function gpu(): Gpu {
  if (!current) throw new GpuError('the GPU is not initialized: call `await initGpu()` (or `await lowbit.init()`) first');
  return current;
}
