// Module: named parameters, buffers (running statistics) and child modules, with PyTorch's dotted
// naming ("layer1.0.bn1.weight"), so a state dict maps one to one onto a PyTorch checkpoint.
import { gpu } from '../gpu/device.ts';
import { fromArray } from '../ops/creation.ts';
import { fmt, sameShape } from '../shape.ts';
import { keep, type Tensor } from '../tensor.ts';

export class StateDictError extends Error {
  override name = 'StateDictError';
}

export interface StateEntry {
  data: Float32Array | Int32Array;
  shape: readonly number[];
}

export abstract class Module {
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  /** Integer state kept on the CPU (BatchNorm's num_batches_tracked), saved as a 0-d entry. */
  protected readonly counters = new Map<string, number>();

  protected parameter(name: string, t: Tensor, trainable = true): Tensor {
    t.requiresGrad = trainable;
    t.name = name;
    this.ownParameters.set(name, keep(t));
    return t;
  }

  protected buffer(name: string, t: Tensor): Tensor {
    t.name = name;
    this.ownBuffers.set(name, keep(t));
    return t;
  }

  protected module<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter with its dotted path, in registration order (the order PyTorch uses). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.ownParameters) out.push([prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.ownBuffers) out.push([prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  namedCounters(prefix = ''): [string, number][] {
    const out: [string, number][] = [];
    for (const [n, v] of this.counters) out.push([prefix + n, v]);
    for (const [n, m] of this.children) out.push(...m.namedCounters(`${prefix}${n}.`));
    return out;
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, m] of this.children) out.push(...m.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Trainable parameters (requiresGrad), for the optimizer. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t).filter((t) => t.requiresGrad);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name, as tensors (no copy). */
  stateTensors(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Reads every parameter, buffer and counter back to the CPU. */
  async stateDict(): Promise<Map<string, StateEntry>> {
    const out = new Map<string, StateEntry>();
    for (const [name, t] of this.stateTensors()) out.set(name, { data: await t.toArray(), shape: t.shape });
    for (const [name, v] of this.namedCounters()) out.set(name, { data: Int32Array.of(v), shape: [] });
    return out;
  }

  /**
   * Replaces every parameter's and buffer's data. Strict: a missing or unexpected key, or a shape that
   * differs, is an error naming the key and both shapes; nothing is changed unless all entries match.
   */
  loadStateDict(entries: ReadonlyMap<string, StateEntry>): void {
    const own = this.stateTensors();
    const counters = new Map(this.namedCounters());
    const problems: string[] = [];
    const expect = (name: string, shape: readonly number[]): void => {
      const e = entries.get(name);
      if (!e) problems.push(`missing key '${name}' (expected shape ${fmt(shape)})`);
      else if (!sameShape(e.shape, shape)) problems.push(`key '${name}': expected shape ${fmt(shape)}, found ${fmt(e.shape)}`);
    };
    for (const [name, t] of own) expect(name, t.shape);
    for (const name of counters.keys()) expect(name, []);
    for (const name of entries.keys()) if (!own.has(name) && !counters.has(name)) problems.push(`unexpected key '${name}'`);
    if (problems.length > 0) throw new StateDictError(`loadStateDict (${this.constructor.name}): ${problems.join('; ')}`);
    for (const [name, t] of own) {
      const e = entries.get(name)!;
      const fresh = fromArray(t.dtype === 'i32' ? Int32Array.from(e.data) : Float32Array.from(e.data), t.shape, t.dtype);
      copyInto(t, fresh);
      fresh.dispose();
    }
    for (const [, m] of this.namedModules()) {
      for (const name of m.counters.keys()) m.counters.set(name, 0);
    }
    for (const [path, m] of this.namedModules()) {
      for (const name of m.counters.keys()) m.counters.set(name, entries.get(path ? `${path}.${name}` : name)!.data[0]!);
    }
  }

  dispose(): void {
    for (const [, t] of this.stateTensors()) t.dispose();
  }
}

/** Overwrites dst's storage with src's values (same shape), in recording order. */
export function copyInto(dst: Tensor, src: Tensor): void {
  if (!sameShape(dst.shape, src.shape)) throw new StateDictError(`copyInto: ${fmt(src.shape)} into ${fmt(dst.shape)}`);
  if (src.bytes > 0) gpu().recorder.copy(src.buffer, 0, dst.buffer, 0, src.bytes);
}
