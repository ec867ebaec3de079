// Differentiable 2-D convolution, NCHW, groups 1, dilation 1:
//   y [N,O,Ho,Wo] = conv(x [N,C,H,W], w [O,C,kh,kw]) + bias [O]
//   dx = the transposed convolution of dy with w     (kernels/conv2d.ts: implicit GEMM, parity classes)
//   dw = sum over (n, oy, ox) of dy x x-patches      (split-K implicit GEMM)
//   dbias = sum of dy over (N, Ho, Wo)
import { planConv2d, runConv2d, runConv2dBackwardInput, runConv2dBackwardWeight, type Conv2dOptions, type ConvEpilogue } from '../../kernels/conv2d.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { isGradEnabled, record } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat } from './elementwise.ts';

export type { Conv2dOptions, ConvEpilogue };

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

/** Inference only: conv2d, then PReLU (slope [O]) or plus a residual [N,O,Ho,Wo], applied by the conv
 *  kernel as it stores each output: one dispatch and one pass over y instead of two, bit for bit the
 *  result of conv2d followed by prelu or add. It records no gradient, so no input may need one. */
export function conv2dThen(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, epilogue: ConvEpilogue): Tensor {
  const operand = epilogue.kind === 'prelu' ? epilogue.slope : epilogue.residual;
  checkFloat(`conv2d+${epilogue.kind}`, x, w, operand, ...(bias ? [bias] : []));
  if (isGradEnabled() && [x, w, bias, operand].some((t) => t?.requiresGrad)) {
    throw new Error(`conv2d+${epilogue.kind} is inference-only (it records no gradient), but an input requires a gradient: run it under noGrad, or use conv2d then ${epilogue.kind}`);
  }
  return runConv2d(x, w, bias, planConv2d(x.shape, w.shape, bias?.shape ?? null, opts), undefined, epilogue);
}
