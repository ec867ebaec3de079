// 2-D max pooling (shaders/pool.wgsl): dispatch, cost, CPU reference.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import type { Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

/** Window geometry, each as [along H, along W]. */
export interface Pool2d {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

/** floor((size + 2 pad - kernel) / stride) + 1 along H and W (PyTorch, ceil_mode false, dilation 1). */
export function poolOutputSize(H: number, W: number, g: Pool2d): [number, number] {
  return [Math.floor((H + 2 * g.padding[0] - g.kernel[0]) / g.stride[0]) + 1, Math.floor((W + 2 * g.padding[1] - g.kernel[1]) / g.stride[1]) + 1];
}

function params(xShape: Shape, g: Pool2d): Uniforms {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [Ho, Wo] = poolOutputSize(H, W, g);
  return new Uniforms().u32(H, W, Ho, Wo, ...g.kernel, ...g.stride, ...g.padding, N * C);
}

/** y [N, C, Ho, Wo] and argmax [N, C, Ho, Wo] (i32, h * W + w within the input plane) of x [N, C, H, W]. */
export function runMaxPool2d(x: Tensor, g: Pool2d): { y: Tensor; argmax: Tensor } {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Ho, Wo] = poolOutputSize(H, W, g);
  const y = Tensor.empty([N, C, Ho, Wo], 'max_pool2d');
  const argmax = Tensor.empty([N, C, Ho, Wo], 'max_pool2d', 'i32');
  launch({
    name: 'max_pool2d', shader: 'pool', entry: 'maxpool_forward',
    uniforms: params(x.shape, g), inputs: [x], outputs: [y, argmax], workgroups: grid1d(N * C),
    flops: y.size * g.kernel[0] * g.kernel[1], bytes: 4 * (x.size + 2 * y.size),
  });
  return { y, argmax };
}

/** dx [N, C, H, W]: each output's gradient routed to its argmax (summed where windows share one). */
export function runMaxPool2dBackward(gy: Tensor, argmax: Tensor, xShape: Shape, g: Pool2d): Tensor {
  const [N, C] = xShape as [number, number];
  const dx = Tensor.empty(xShape, 'max_pool2d_backward');
  launch({
    name: 'max_pool2d_backward', shader: 'pool', entry: 'maxpool_backward',
    uniforms: params(xShape, g), inputs: [gy, argmax], outputs: [dx], workgroups: grid1d(N * C),
    flops: dx.size, bytes: 4 * (dx.size + 2 * gy.size),
  });
  return dx;
}

// ---- CPU reference -------------------------------------------------------------------------------

export function maxPool2dRef(x: ArrayLike<number>, shape: Shape, g: Pool2d): { y: Float64Array; argmax: Int32Array } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const [Ho, Wo] = poolOutputSize(H, W, g);
  const y = new Float64Array(N * C * Ho * Wo);
  const argmax = new Int32Array(y.length);
  for (let plane = 0; plane < N * C; plane++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let best = -Infinity;
        let bestAt = -1;
        for (let i = 0; i < g.kernel[0]; i++) {
          for (let j = 0; j < g.kernel[1]; j++) {
            const h = oh * g.stride[0] - g.padding[0] + i;
            const w = ow * g.stride[1] - g.padding[1] + j;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x[plane * H * W + h * W + w]!;
            if (v > best || bestAt < 0) [best, bestAt] = [v, h * W + w];
          }
        }
        const o = (plane * Ho + oh) * Wo + ow;
        y[o] = best;
        argmax[o] = bestAt;
      }
    }
  }
  return { y, argmax };
}
