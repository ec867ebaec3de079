// Tensor: a shape, a dtype and GPU storage; plus the lifetime scopes (tidy/keep) that let a training
// loop hold constant memory. Ops live in src/ops/, the tape in src/autograd.ts.
import { gpu } from './gpu/device.ts';
import type { BufferBinding } from './gpu/recorder.ts';
import type { GradNode } from './autograd.ts';
import { checkShape, fmt, ShapeError, sizeOf, type Shape } from './shape.ts';

export type DType = 'f32' | 'i32';

export class DisposedError extends Error {
  override name = 'DisposedError';
}

export class LimitError extends Error {
  override name = 'LimitError';
}

// GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST, spelled out: the Dawn globals exist only after initGpu().
const STORAGE_USAGE = 0x0080 | 0x0004 | 0x0008;

/** GPU memory shared by a tensor and its reshaped views; returned to the pool when the last one goes. */
class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {}
}

let nextId = 1;
const scopes: Set<Tensor>[] = [];

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  requiresGrad = false;
  /** Gradient accumulated by backward() (leaves only). */
  grad: Tensor | null = null;
  /** How this tensor was made, when it needs a gradient. */
  node: GradNode | null = null;
  /** Optional name (parameters), shown in errors. */
  name: string | undefined;
  private storage: Storage | null;

  /** Internal: use the creation functions (zeros, fromArray, ...) or ops. */
  constructor(shape: Shape, readonly dtype: DType, storage: Storage) {
    this.shape = [...shape];
    this.size = sizeOf(shape);
    this.storage = storage;
    scopes[scopes.length - 1]?.add(this);
  }

  /** Allocates an uninitialized tensor; `op` names the caller in errors. */
  static empty(shape: Shape, op: string, dtype: DType = 'f32'): Tensor {
    checkShape(op, shape);
    const bytes = sizeOf(shape) * 4;
    const g = gpu();
    if (bytes > g.maxBindingBytes) {
      throw new LimitError(
        `${op}: a tensor of shape ${fmt(shape)} needs ${mib(bytes)} MiB, over the device's storage-binding limit of ${mib(g.maxBindingBytes)} MiB (maxStorageBufferBindingSize)`,
      );
    }
    const buffer = g.pool.acquire(Math.max(bytes, 4), STORAGE_USAGE, `${op} ${fmt(shape)}`);
    return new Tensor(shape, dtype, new Storage(buffer, bytes));
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  private live(): Storage {
    if (!this.storage) throw new DisposedError(`tensor #${this.id}${this.name ? ` '${this.name}'` : ''} of shape ${fmt(this.shape)} was used after dispose()`);
    return this.storage;
  }

  get buffer(): GPUBuffer {
    return this.live().buffer;
  }

  get bytes(): number {
    return this.size * 4;
  }

  /** The tensor as a storage-buffer binding (never 0 bytes: WebGPU forbids empty bindings). */
  binding(): BufferBinding {
    return { buffer: this.live().buffer, size: Math.max(this.size * 4, 4) };
  }

  /** A tensor of another shape over the same storage (no copy). */
  view(shape: Shape, op = 'reshape'): Tensor {
    checkShape(op, shape);
    if (sizeOf(shape) !== this.size) throw new ShapeError(`${op}: cannot view ${fmt(this.shape)} (${this.size} elements) as ${fmt(shape)} (${sizeOf(shape)} elements)`);
    const storage = this.live();
    storage.refs++;
    return new Tensor(shape, this.dtype, storage);
  }

  dispose(): void {
    const storage = this.storage;
    if (!storage) return;
    this.storage = null;
    this.node = null;
    if (--storage.refs === 0) gpu().pool.release(storage.buffer);
    this.grad?.dispose();
    this.grad = null;
    for (const scope of scopes) scope.delete(this);
  }

  /** Copies the data to the CPU (flushes the recorder and waits for the GPU). */
  async toArray(): Promise<Float32Array | Int32Array> {
    const data = await gpu().recorder.read(this.live().buffer, 0, this.size * 4);
    return this.dtype === 'i32' ? new Int32Array(data) : new Float32Array(data);
  }

  async toFloat32(): Promise<Float32Array> {
    if (this.dtype !== 'f32') throw new TypeError(`toFloat32: tensor ${fmt(this.shape)} is ${this.dtype}`);
    return (await this.toArray()) as Float32Array;
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item: expected a tensor of one element, got ${fmt(this.shape)}`);
    return (await this.toArray())[0]!;
  }

  toString(): string {
    return `Tensor(#${this.id}${this.name ? ` ${this.name}` : ''} ${fmt(this.shape)} ${this.dtype}${this.requiresGrad ? ' requiresGrad' : ''}${this.disposed ? ' disposed' : ''})`;
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(bytes % 2 ** 20 === 0 ? 0 : 1);
}

// ---- lifetime scopes ----------------------------------------------------------------------------

type Nested = Tensor | null | undefined | number | string | boolean | readonly Nested[] | { readonly [k: string]: Nested };

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it, except those it returns (which move to the
 * enclosing scope) and those passed to keep(). Synchronous only: an async fn would leak its awaits.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new TypeError('tidy: the function must be synchronous (it returned a Promise)');
  const survivors = new Set<Tensor>();
  collectTensors(result as Nested, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (scope.has(t)) parent.add(t);
  return result;
}

/** Exempts a tensor from the enclosing tidy scopes (parameters, optimizer state, gradients). */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

export function dispose(value: unknown): void {
  const all = new Set<Tensor>();
  collectTensors(value, all);
  for (const t of all) t.dispose();
}
