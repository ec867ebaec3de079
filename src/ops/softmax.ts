// Softmax, log-softmax, cross-entropy and L2 normalization: row-wise ops with fused backward kernels.
import { runL2Normalize, runL2NormalizeBackward } from '../../kernels/normalize.ts';
import { runCrossEntropy, runCrossEntropyBackward, runSoftmax, runSoftmaxBackward } from '../../kernels/softmax.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { record } from '../autograd.ts';
import { fmt } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { checkFinite, checkFloat } from './elementwise.ts';
import { fromArray } from './creation.ts';

export function softmax(x: Tensor, axis = -1): Tensor {
  checkFloat('softmax', x);
  const y = runSoftmax(x, axis, false);
  return record(y, 'softmax', [x], (g) => [runSoftmaxBackward(y, g, axis, false)]);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkFloat('log_softmax', x);
  const y = runSoftmax(x, axis, true);
  return record(y, 'log_softmax', [x], (g) => [runSoftmaxBackward(y, g, axis, true)]);
}

/**
 * Mean cross-entropy of logits [N, C] against integer labels [N] (an i32 tensor, or an Int32Array that
 * is range-checked here). A label outside [0, C) in a tensor makes the loss NaN.
 */
export function crossEntropy(logits: Tensor, labels: Tensor | Int32Array | readonly number[]): Tensor {
  checkFloat('cross_entropy', logits);
  let labelTensor: Tensor;
  if (labels instanceof Tensor) {
    labelTensor = labels;
  } else {
    const C = logits.shape[1] ?? 0;
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= C) throw new RangeError(`cross_entropy: label ${v} at index ${i} is outside [0, ${C}) for logits ${fmt(logits.shape)}`);
    }
    labelTensor = fromArray(Int32Array.from(labels), [labels.length], 'i32');
  }
  const { loss: rowLoss, lse } = runCrossEntropy(logits, labelTensor);
  const N = logits.shape[0]!;
  const loss = runReduce('sum', rowLoss, undefined, false, 1 / N, 'cross_entropy_mean');
  rowLoss.dispose();
  return record(loss, 'cross_entropy', [logits], (g) => [runCrossEntropyBackward(logits, labelTensor, lse, g, 1 / N)]);
}

/** x / max(|x|, eps) along `axis` (torch.nn.functional.normalize). */
export function l2Normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  checkFloat('l2_normalize', x);
  checkFinite('l2_normalize', 'eps', eps);
  const { y, norms } = runL2Normalize(x, axis, eps);
  return record(y, 'l2_normalize', [x], (g) => [runL2NormalizeBackward(y, norms, g, axis, eps)]);
}
