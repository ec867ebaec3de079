// Fused in-place Adam / AdamW update (shaders/adam.wgsl) and its CPU reference.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import type { Tensor } from '../src/tensor.ts';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW's decoupled decay instead of Adam's L2 term. */
  decoupled: boolean;
}

/** One update at step t (1-based) of `weight`, `m`, `v` in place. */
export function runAdamStep(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamHyper, t: number): void {
  const n = weight.size;
  launch({
    name: 'adam_step', shader: 'adam', entry: 'adam_step',
    uniforms: new Uniforms().u32(n, h.decoupled ? 1 : 0).f32(h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, 1 - h.beta1 ** t, 1 - h.beta2 ** t),
    inputs: [grad], outputs: [weight, m, v],
    workgroups: grid1d(Math.ceil(n / 256)),
    flops: 14 * n, bytes: 28 * n,
    shapes: `[${weight.shape}]`,
  });
}

export function adamRef(w: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamHyper, t: number): void {
  for (let i = 0; i < w.length; i++) {
    let gi = g[i]!;
    if (h.decoupled) w[i] = w[i]! * (1 - h.lr * h.weightDecay);
    else gi += h.weightDecay * w[i]!;
    m[i] = h.beta1 * m[i]! + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i]! + (1 - h.beta2) * gi * gi;
    w[i] = w[i]! - (h.lr * (m[i]! / (1 - h.beta1 ** t))) / (Math.sqrt(v[i]! / (1 - h.beta2 ** t)) + h.eps);
  }
}
