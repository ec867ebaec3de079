// Fused in-place SGD update (shaders/sgd.wgsl) and its CPU reference.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import type { Tensor } from '../src/tensor.ts';

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Updates `weight` (and `momentumBuffer`) in place from `grad`. */
export function runSgdStep(weight: Tensor, grad: Tensor, momentumBuffer: Tensor, h: SgdHyper, first: boolean): void {
  const n = weight.size;
  launch({
    name: 'sgd_step', shader: 'sgd', entry: 'sgd_step',
    uniforms: new Uniforms().u32(n, first ? 1 : 0).f32(h.lr, h.momentum, h.dampening, h.weightDecay).u32(h.nesterov ? 1 : 0),
    inputs: [grad], outputs: [weight, momentumBuffer],
    workgroups: grid1d(Math.ceil(n / 256)),
    flops: 6 * n, bytes: 20 * n,
    shapes: `[${weight.shape}]`,
  });
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
