// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_), on the GPU without a readback.
import { runBinary, runFill, runUnary } from '../../kernels/elementwise.ts';
import { runReduce } from '../../kernels/reduce.ts';
import { noGrad } from '../autograd.ts';
import { keep, type Tensor } from '../tensor.ts';

/** Scales every gradient by min(1, maxNorm / (norm + 1e-6)); returns the norm before clipping ([1]). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  return noGrad(() => {
    const withGrad = params.filter((p) => p.grad);
    let total = runFill([1], 0, 'clip_grad_norm');
    for (const p of withGrad) {
      const squares = runUnary('pow', p.grad!, p.grad!.shape, 2);
      const partial = runReduce('sum', squares, undefined, true, 1, 'clip_grad_norm').view([1]);
      const next = runBinary('add', total, partial);
      for (const t of [squares, partial, total]) t.dispose();
      total = next;
    }
    const norm = runUnary('sqrt', total, [1]);
    total.dispose();
    // coef = min(1, maxNorm / (norm + 1e-6))
    const denominator = runUnary('affine', norm, [1], 1, 1e-6);
    const ratio = runUnary('pow', denominator, [1], -1);
    const coef = runUnary('clamp', ratio, [1], -3.4e38, 1 / maxNorm);
    const scale = runUnary('affine', coef, [1], maxNorm, 0);
    for (const p of withGrad) {
      const clipped = runBinary('mul', p.grad!, scale);
      p.grad!.dispose();
      p.grad = keep(clipped);
    }
    for (const t of [denominator, ratio, coef, scale]) t.dispose();
    return norm;
  });
}
