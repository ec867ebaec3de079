// helper_test_op in the spirit of teenygrad: one call checks an op's forward against its float64 CPU
// reference and every input's gradient against central finite differences of that reference.
import { expect } from 'vitest';
import { backward } from '../src/backward.ts';
import { fromArray } from '../src/ops/creation.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';
import { sameShape, sizeOf, type Shape } from '../src/shape.ts';
import { tidy, type Tensor } from '../src/tensor.ts';
import { data, expectClose, numericGrad, weightedSum, type Tolerance } from './helpers.ts';

export interface InputSpec {
  shape: Shape;
  /** Defaults to seeded normal data. */
  values?: ArrayLike<number>;
  /** Check this input's gradient (default true). */
  grad?: boolean;
}

export interface OpCheck {
  label: string;
  inputs: InputSpec[];
  gpu: (inputs: Tensor[]) => Tensor;
  /** Float64 reference of the flattened output. */
  ref: (inputs: Float64Array[]) => ArrayLike<number>;
  /** Expected output shape (checked when given). */
  shape?: Shape;
  fwd?: Tolerance;
  grad?: Tolerance;
  h?: number;
  seed?: number;
}

export async function checkOp(c: OpCheck): Promise<void> {
  const seed = c.seed ?? 7;
  const values = c.inputs.map((s, i) => Float32Array.from(s.values ?? data(sizeOf(s.shape), seed + 31 * i)));
  const tensors = values.map((v, i) => fromArray(v, c.inputs[i]!.shape));
  tensors.forEach((t, i) => (t.requiresGrad = c.inputs[i]!.grad !== false));
  const wantGrad = c.inputs.some((s) => s.grad !== false);
  // The reference sees exactly the float32 values the GPU saw, widened to float64.
  const xs = values.map((v) => Float64Array.from(v));
  const want = c.ref(xs);
  const weights = data(want.length, seed + 1000);
  try {
    const { y, loss } = tidy(() => {
      const out = c.gpu(tensors);
      if (!wantGrad) return { y: out, loss: null };
      const l = sum(mul(out, fromArray(weights, out.shape)));
      backward(l);
      return { y: out, loss: l };
    });
    if (c.shape) expect(sameShape(y.shape, c.shape), `${c.label}: output shape [${y.shape}] vs [${c.shape}]`).toBe(true);
    expectClose(await y.toArray(), want, c.fwd ?? { atol: 1e-5, rtol: 1e-4 }, `${c.label} forward`);
    y.dispose();
    loss?.dispose();
    for (let i = 0; i < tensors.length; i++) {
      if (c.inputs[i]!.grad === false) continue;
      const fd = numericGrad((inputs) => weightedSum(c.ref(inputs), weights), xs, i, c.h ?? 1e-4);
      const g = tensors[i]!.grad;
      expect(g, `${c.label}: input ${i} got no gradient`).not.toBeNull();
      expectClose(await g!.toArray(), fd, c.grad ?? { atol: 1e-3, rtol: 1e-3 }, `${c.label} grad of input ${i}`);
    }
  } finally {
    for (const t of tensors) t.dispose();
  }
}
