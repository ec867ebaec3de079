// Fused in-place SGD update (shaders/sgd.wgsl): one parameter per dispatch, or SGD_SLOTS; CPU reference.
import { gpu } from '../src/gpu/device.ts';
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import type { Tensor } from '../src/tensor.ts';

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

const WG = 64; // as in the shader
/** Workgroups of the grid-stride loop. bench/optim.bench.ts, all 94 parameters of the tiny preset,
 *  interleaved, 4-5 runs with other jobs on the 2 cores at times (median range [fastest sample]):
 *    SGD_SLOTS per dispatch (production)               5.2-10.1 ms [4.8]
 *    one per dispatch, vec4, 16 looping workgroups       6.1-10.2    [5.7]  (4 or 64 workgroups: the same)
 *    one per dispatch, vec4, one workgroup per 64 vec4s  6.9-12.0    [6.6]
 *    one per dispatch, scalar, 16 looping workgroups     7.9-16.2    [7.3]
 *    one per dispatch, scalar, one workgroup per 64      13.5-22.0   [12.6] (as it was, but WG 256 then)
 *  The 14 MB the update moves take ~3 ms at the copy peak: the rest is dispatches. */
const MAX_WORKGROUPS_CPU = 16;

/** How the updates are launched; the defaults are the production choice (bench/optim.bench.ts compares). */
export interface SgdLaunch {
  /** Read vec4s when the size allows (default true). */
  vec4?: boolean;
  /** At most this many looping workgroups (default: MAX_WORKGROUPS_CPU on the CPU adapter). */
  maxWorkgroups?: number;
  /** runSgdSteps: SGD_SLOTS parameters per dispatch where their sizes allow (default true). */
  multi?: boolean;
}

/** Parameters per sgd_step_multi dispatch (3 buffers each: 15 of a stage's 16 storage bindings). */
export const SGD_SLOTS = 5;

/** One parameter's update: its own weight decay (decayIf) and first-step flag. */
export interface SgdParam {
  weight: Tensor;
  grad: Tensor;
  momentumBuffer: Tensor;
  weightDecay: number;
  first: boolean;
}

const workgroupCap = (how: SgdLaunch): number => how.maxWorkgroups ?? (gpu().isCpuAdapter ? MAX_WORKGROUPS_CPU : 4096);

/** Updates `weight` (and `momentumBuffer`) in place from `grad`. */
export function runSgdStep(weight: Tensor, grad: Tensor, momentumBuffer: Tensor, h: SgdHyper, first: boolean, how: SgdLaunch = {}): void {
  const n = weight.size;
  const vec4 = (how.vec4 ?? true) && n % 4 === 0;
  const items = vec4 ? n / 4 : n;
  launch({
    name: 'sgd_step', shader: 'sgd', entry: vec4 ? 'sgd_step_vec4' : 'sgd_step',
    uniforms: new Uniforms().u32(items, first ? 1 : 0).f32(h.lr, h.momentum, h.dampening, h.weightDecay).u32(h.nesterov ? 1 : 0),
    inputs: [grad], outputs: [weight, momentumBuffer],
    workgroups: grid1d(Math.min(Math.ceil(items / WG), workgroupCap(how))),
    flops: 6 * n, bytes: 20 * n,
    shapes: `[${weight.shape}]`,
  });
}

/** Updates SGD_SLOTS parameters whose sizes are multiples of 4 in one dispatch. */
export function runSgdStepMulti(ps: readonly SgdParam[], h: Omit<SgdHyper, 'weightDecay'>, how: SgdLaunch = {}): void {
  if (ps.length !== SGD_SLOTS || ps.some((x) => x.weight.size % 4 !== 0)) {
    throw new RangeError(`sgd_step_multi: needs ${SGD_SLOTS} parameters with sizes divisible by 4, got [${ps.map((x) => x.weight.size).join(', ')}]`);
  }
  const u = new Uniforms().f32(h.lr, h.momentum, h.dampening).u32(h.nesterov ? 1 : 0);
  for (const x of ps) u.u32(x.weight.size / 4, x.first ? 1 : 0).f32(x.weightDecay).u32(0);
  const items = Math.max(...ps.map((x) => x.weight.size / 4));
  const n = ps.reduce((sum, x) => sum + x.weight.size, 0);
  launch({
    name: 'sgd_step', shader: 'sgd', entry: 'sgd_step_multi', uniforms: u,
    inputs: ps.map((x) => x.grad), outputs: ps.flatMap((x) => [x.weight, x.momentumBuffer]),
    workgroups: [Math.min(Math.ceil(items / WG), workgroupCap(how)), SGD_SLOTS, 1],
    flops: 6 * n, bytes: 20 * n,
    shapes: ps.map((x) => `[${x.weight.shape}]`).join(' '),
  });
}

/** Every parameter's update: SGD_SLOTS at a time where sizes allow, the rest one by one. */
export function runSgdSteps(ps: readonly SgdParam[], h: Omit<SgdHyper, 'weightDecay'>, how: SgdLaunch = {}): void {
  const grouped = (how.multi ?? true) && (how.vec4 ?? true) ? ps.filter((x) => x.weight.size % 4 === 0) : [];
  const whole = grouped.length - (grouped.length % SGD_SLOTS);
  for (let i = 0; i < whole; i += SGD_SLOTS) runSgdStepMulti(grouped.slice(i, i + SGD_SLOTS), h, how);
  const done = new Set(grouped.slice(0, whole));
  for (const x of ps) if (!done.has(x)) runSgdStep(x.weight, x.grad, x.momentumBuffer, { ...h, weightDecay: x.weightDecay }, x.first, how);
}

export function sgdRef(w: Float64Array, g: ArrayLike<number>, buf: Float64Array, h: SgdHyper, first: boolean): void {
  for (let i = 0; i < w.length; i++) {
    let d = g[i]! + h.weightDecay * w[i]!;
    if (h.momentum !== 0) {
      const b = first ? d : h.momentum * buf[i]! + (1 - h.dampening) * d;
      buf[i] = b;
      d = h.nesterov ? d + h.momentum * b : b;
    }
    w[i] = w[i]! - h.lr * d;
  }
}
