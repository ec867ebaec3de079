// Dropout with a counter-based hash RNG (shaders/dropout.wgsl): dispatch, cost, and a CPU reference
// that reproduces the GPU's mask bit for bit.
import { launch, Uniforms } from '../src/gpu/kernel.ts';
import { Tensor } from '../src/tensor.ts';

const WG = 64;
/** Workgroups that stride over the tensor (more only adds per-workgroup overhead on lavapipe). */
const MAX_WORKGROUPS = 256;

/** Elements whose 32 random bits fall below this are dropped: P(drop) = threshold / 2^32 ~ p. */
export function dropThreshold(p: number): number {
  return Math.min(Math.round(p * 2 ** 32), 2 ** 32 - 1);
}

/** y = x * mask / (1 - p) with mask[i] = hash(seed, i) >= threshold; 0 <= p < 1, seed a u32. */
export function runDropout(x: Tensor, p: number, seed: number, name = 'dropout'): Tensor {
  const y = Tensor.empty(x.shape, name);
  launch({
    name, shader: 'dropout', entry: 'dropout',
    uniforms: new Uniforms().u32(x.size, seed, dropThreshold(p)).f32(1 / (1 - p)),
    inputs: [x], outputs: [y], workgroups: [Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil(x.size / WG))), 1, 1],
    flops: 12 * x.size, bytes: 8 * x.size,
  });
  return y;
}

// ---- CPU reference -------------------------------------------------------------------------------

export function pcgHash(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The keep mask (1 kept, 0 dropped) of n elements, as the GPU draws it. */
export function dropoutMaskRef(n: number, p: number, seed: number): Uint8Array {
  const key = pcgHash(seed);
  const threshold = dropThreshold(p);
  return Uint8Array.from({ length: n }, (_, i) => (pcgHash((pcgHash(i) ^ key) >>> 0) >= threshold ? 1 : 0));
}

export function dropoutRef(x: ArrayLike<number>, p: number, seed: number): Float64Array {
  const mask = dropoutMaskRef(x.length, p, seed);
  return Float64Array.from(x, (v, i) => (mask[i] ? v / (1 - p) : 0));
}
