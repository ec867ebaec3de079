// PReLU (torch.nn.functional.prelu): y = max(0, x) + a * min(0, x), with a learnable slope per channel
// (axis 1, slope [C]) or one shared slope ([1]).
import { runPrelu, runPreluBackward } from '../../kernels/prelu.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat } from './elementwise.ts';

/** What computes y (the plain kernel, or a fused one that also writes an epilogue output). */
export type PreluKernel = (x: Tensor, slope: Tensor) => Tensor;

export function prelu(x: Tensor, slope: Tensor, kernel: PreluKernel = runPrelu): Tensor {
  checkFloat('prelu', x, slope);
  const channels = x.shape.length >= 2 ? x.shape[1]! : 1;
  if (slope.shape.length !== 1 || (slope.size !== 1 && slope.size !== channels)) {
    const want = x.shape.length >= 2 ? `[${channels}] (one per channel, axis 1) or [1]` : '[1] (the input has no channel axis)';
    throw new ShapeError(`prelu: slope must have shape ${want} for input ${fmt(x.shape)}, got ${fmt(slope.shape)}`);
  }
  const y = kernel(x, slope);
  return record(y, 'prelu', [x, slope], (g) => {
    const { dx, dslopePerChannel } = runPreluBackward(x, slope, g);
    if (!slope.requiresGrad) {
      dslopePerChannel.dispose();
      return [dx, null];
    }
    if (slope.size === dslopePerChannel.size) return [dx, dslopePerChannel];
    // A shared slope collects the gradient of every channel.
    const dslope = runReduce('sum', dslopePerChannel, undefined, true, 1, 'prelu_backward_sum');   // [1]
    dslopePerChannel.dispose();
    return [dx, dslope];
  });
}
