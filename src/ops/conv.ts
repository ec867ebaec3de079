// Differentiable 2-D convolution, NCHW, groups 1, dilation 1:
//   y [N,O,Ho,Wo] = conv(x [N,C,H,W], w [O,C,kh,kw]) + bias [O]
//   dx = the transposed convolution of dy with w     (kernels/conv2d.ts: implicit GEMM, parity classes)
//   dw = sum over (n, oy, ox) of dy x x-patches      (split-K implicit GEMM)
//   dbias = sum of dy over (N, Ho, Wo)
import { planConv2d, runConv2d, runConv2dBackwardInput, runConv2dBackwardWeight, type Conv2dOptions } from '../../kernels/conv2d.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { record } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat } from './elementwise.ts';

export type { Conv2dOptions };

export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  checkFloat('conv2d', x, w, ...(bias ? [bias] : []));
  const plan = planConv2d(x.shape, w.shape, bias?.shape ?? null, opts);
  const y = runConv2d(x, w, bias, plan);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv2d', inputs, (dy) => [
    x.requiresGrad ? runConv2dBackwardInput(dy, w, plan) : null,
    w.requiresGrad ? runConv2dBackwardWeight(dy, x, plan) : null,
    bias?.requiresGrad ? runReduce('sum', dy, [0, 2, 3], false, 1, 'conv2d.dbias') : null,
  ]);
}
