// Gradient clipping by global norm (shaders/grad_norm.wgsl): dispatch and the float64 CPU reference.
// Replaced a composition of elementwise ops (pow, sum, add per gradient, a broadcast mul per gradient):
// 4P + 6 dispatches for P gradients. bench/optim.bench.ts, the tiny preset's 94 gradients, interleaved,
// 3 runs (median range [fastest sample]): the composition 39.5-65.6 ms [39.1], these kernels one
// gradient per dispatch (189 dispatches) 11.2-17.0 [9.3], several per dispatch (27) 5.1-7.6 [4.6].
import { gpu } from '../src/gpu/device.ts';
import { launch, Uniforms } from '../src/gpu/kernel.ts';
import { Tensor } from '../src/tensor.ts';

const WG = 64; // as in the shader
/** Looping workgroups of grad_scale on the CPU adapter (as sgd_step, kernels/sgd.ts). */
const MAX_WORKGROUPS_CPU = 16;
/** Gradients per grad_sum_squares_multi and grad_scale_multi dispatch (the shader's SQ_SLOTS, SCALE_SLOTS). */
const SQ_SLOTS = 15;
const SCALE_SLOTS = 7;

const params = (n: number, slot = 0, maxNorm = 0, multiN: readonly number[] = []): Uniforms =>
  new Uniforms().u32(n, slot).f32(maxNorm).u32(0).u32x4(multiN, 4);
const scaleWorkgroups = (vec4s: number): number => Math.min(Math.ceil(vec4s / WG), gpu().isCpuAdapter ? MAX_WORKGROUPS_CPU : 4096);

/** How the kernels are launched; the default is production (bench/optim.bench.ts compares). */
export interface ClipLaunch {
  /** Several gradients per dispatch where their sizes are multiples of 4 (default true). */
  multi?: boolean;
}

/** `grads` in processing order: whole groups of `slots` vec4-sized ones (for a _multi kernel), then the rest. */
function grouped(grads: readonly Tensor[], slots: number, how: ClipLaunch): { groups: Tensor[][]; rest: Tensor[] } {
  const vec4 = (how.multi ?? true) ? grads.filter((g) => g.size % 4 === 0) : [];
  const whole = vec4.length - (vec4.length % slots);
  const groups: Tensor[][] = [];
  for (let i = 0; i < whole; i += slots) groups.push(vec4.slice(i, i + slots));
  const inGroups = new Set(vec4.slice(0, whole));
  return { groups, rest: grads.filter((g) => !inGroups.has(g)) };
}

/** The sum of squares of each gradient into its own slot of partial ([P], P = grads.length). The slots
 *  follow the processing order, which depends only on the list: the total is summed in a fixed order. */
export function runSumSquares(grads: readonly Tensor[], partial: Tensor, how: ClipLaunch = {}): void {
  const { groups, rest } = grouped(grads, SQ_SLOTS, how);
  let slot = 0;
  for (const group of groups) {
    launch({
      name: 'grad_sum_squares', shader: 'grad_norm', entry: 'grad_sum_squares_multi',
      uniforms: params(0, slot, 0, group.map((g) => g.size / 4)), inputs: group, outputs: [partial],
      workgroups: [1, SQ_SLOTS, 1], flops: 2 * group.reduce((n, g) => n + g.size, 0), bytes: 4 * group.reduce((n, g) => n + g.size, 0),
      shapes: `${group.length} gradients`,
    });
    slot += SQ_SLOTS;
  }
  for (const g of rest) {
    const vec4 = g.size % 4 === 0;
    launch({
      name: 'grad_sum_squares', shader: 'grad_norm', entry: vec4 ? 'grad_sum_squares_vec4' : 'grad_sum_squares',
      uniforms: params(vec4 ? g.size / 4 : g.size, slot++), inputs: [g], outputs: [partial],
      workgroups: [1, 1, 1], flops: 2 * g.size, bytes: 4 * g.size,
    });
  }
}

/** norm [1] = sqrt(partial[0] + ... + partial[count-1]), in order; coef [1] = min(1, maxNorm / (norm + 1e-6)). */
export function runClipCoef(partial: Tensor, count: number, maxNorm: number): { norm: Tensor; coef: Tensor } {
  const norm = Tensor.empty([1], 'clip_grad_norm');
  const coef = Tensor.empty([1], 'clip_grad_norm');
  launch({
    name: 'grad_clip_coef', shader: 'grad_norm', entry: 'grad_clip_coef',
    uniforms: params(count, 0, maxNorm), inputs: [partial], outputs: [norm, coef],
    workgroups: [1, 1, 1], flops: 2 * count, bytes: 4 * (count + 2),
  });
  return { norm, coef };
}

/** Each g * coef[0], new tensors of the gradients' shapes (in the order of `grads`). */
export function runScale(grads: readonly Tensor[], coef: Tensor, how: ClipLaunch = {}): Tensor[] {
  const out = new Map(grads.map((g) => [g, Tensor.empty(g.shape, 'clip_grad_norm')]));
  const { groups, rest } = grouped(grads, SCALE_SLOTS, how);
  for (const group of groups) {
    const vec4s = group.map((g) => g.size / 4);
    launch({
      name: 'grad_scale', shader: 'grad_norm', entry: 'grad_scale_multi',
      uniforms: params(0, 0, 0, vec4s), inputs: [...group, coef], outputs: group.map((g) => out.get(g)!),
      workgroups: [scaleWorkgroups(Math.max(...vec4s)), SCALE_SLOTS, 1],
      flops: group.reduce((n, g) => n + g.size, 0), bytes: 8 * group.reduce((n, g) => n + g.size, 0),
      shapes: `${group.length} gradients`,
    });
  }
  for (const g of rest) {
    const vec4 = g.size % 4 === 0;
    const items = vec4 ? g.size / 4 : g.size;
    launch({
      name: 'grad_scale', shader: 'grad_norm', entry: vec4 ? 'grad_scale_vec4' : 'grad_scale',
      uniforms: params(items), inputs: [g, coef], outputs: [out.get(g)!],
      workgroups: [scaleWorkgroups(items), 1, 1], flops: g.size, bytes: 8 * g.size,
    });
  }
  return grads.map((g) => out.get(g)!);
}

/** torch.nn.utils.clip_grad_norm_ in float64: the global norm and the scaled gradients. */
export function clipGradNormRef(grads: readonly ArrayLike<number>[], maxNorm: number): { norm: number; scaled: Float64Array[] } {
  let total = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) total += g[i]! * g[i]!;
  const norm = Math.sqrt(total);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  return { norm, scaled: grads.map((g) => Float64Array.from(g, (v) => v * coef)) };
}
