// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_), on the GPU without a readback:
// each gradient's sum of squares into its own slot, one dispatch that adds the slots in order (no
// atomics, so the result does not depend on scheduling), then the scaling (kernels/grad_norm.ts;
// several gradients per dispatch).
import { runClipCoef, runScale, runSumSquares, type ClipLaunch } from '../../kernels/grad_norm.ts';
import { noGrad } from '../autograd.ts';
import { keep, Tensor } from '../tensor.ts';

/** Scales every gradient by min(1, maxNorm / (norm + 1e-6)); returns the norm before clipping ([1]). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, how: ClipLaunch = {}): Tensor {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  return noGrad(() => {
    const withGrad = params.filter((p) => p.grad);
    const grads = withGrad.map((p) => p.grad!);
    const partial = Tensor.empty([Math.max(1, grads.length)], 'clip_grad_norm'); // [P]
    runSumSquares(grads, partial, how);
    const { norm, coef } = runClipCoef(partial, grads.length, maxNorm);
    const clipped = runScale(grads, coef, how);
    withGrad.forEach((p, i) => {
      p.grad!.dispose();
      p.grad = keep(clipped[i]!);
    });
    for (const t of [partial, coef]) t.dispose();
    return norm;
  });
}
