// A structural copy of a module tree (any architecture): same classes, same fields, each tensor either
// copied on the GPU or shared. PTQ quantizes a copy so the full-precision model stays usable beside it.
import { gpu } from '../gpu/device.ts';
import { Module } from '../nn/module.ts';
import { keep, Tensor } from '../tensor.ts';

function copyTensor(t: Tensor): Tensor {
  const c = keep(Tensor.empty(t.shape, 'clone', t.dtype));
  if (t.bytes > 0) gpu().recorder.copy(t.buffer, 0, c.buffer, 0, t.bytes);
  c.requiresGrad = t.requiresGrad;
  c.name = t.name;
  return c;
}

/**
 * Copies `m`: modules are re-created field by field (their prototypes kept, constructors not run),
 * Maps and arrays rebuilt, plain values taken as they are. A tensor reachable twice is copied once.
 * Gradients are not copied.
 */
export function cloneModule<M extends Module>(m: M, { shareTensors = false } = {}): M {
  const memo = new Map<unknown, unknown>();
  const clone = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (memo.has(v)) return memo.get(v);
    if (v instanceof Tensor) {
      const c = shareTensors ? v : copyTensor(v);
      memo.set(v, c);
      return c;
    }
    if (v instanceof Map) {
      const c = new Map();
      memo.set(v, c);
      for (const [k, x] of v) c.set(k, clone(x));
      return c;
    }
    if (Array.isArray(v)) {
      const c: unknown[] = [];
      memo.set(v, c);
      for (const x of v) c.push(clone(x));
      return c;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (!(v instanceof Module) && proto !== Object.prototype) {
      throw new Error(`cloneModule: cannot copy a field of type ${proto?.constructor.name ?? 'null'}`);
    }
    const c = Object.create(proto) as Record<string, unknown>;
    memo.set(v, c);
    for (const [k, x] of Object.entries(v)) c[k] = clone(x);
    return c;
  };
  return clone(m) as M;
}
