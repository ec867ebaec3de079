// Differentiable batched matmul. With op(X) = X or X^T:  C = op(A) op(B)
//   d op(A) = dC op(B)^T      d op(B) = op(A)^T dC
// and each transpose is folded into the kernel's flags, never materialized.
import { runMatmul, type MatmulOptions } from '../../kernels/matmul.ts';
import { record } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat } from './elementwise.ts';
import { sumToOwned } from './reduce.ts';

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkFloat('matmul', a, b);
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const c = runMatmul(a, b, opts);
  return record(c, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // not transA: dA = dC op(B)^T;   transA: dA = (dC op(B)^T)^T = op(B) dC^T
      const raw = transA ? runMatmul(b, g, { transA: transB, transB: true }) : runMatmul(g, b, { transB: !transB });
      ga = sumToOwned(raw, a.shape);
    }
    if (b.requiresGrad) {
      // not transB: dB = op(A)^T dC;   transB: dB = (op(A)^T dC)^T = dC^T op(A)
      const raw = transB ? runMatmul(g, a, { transA: true, transB: transA }) : runMatmul(a, g, { transA: !transA });
      gb = sumToOwned(raw, b.shape);
    }
    return [ga, gb];
  });
}
