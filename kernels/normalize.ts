// L2 normalization along an axis (shaders/normalize.wgsl).
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import type { Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';
import { rowsAround } from './softmax.ts';

export function runL2Normalize(x: Tensor, axis: number, eps: number): { y: Tensor; norms: Tensor } {
  const r = rowsAround(x.shape, axis, 'l2_normalize');
  const y = Tensor.empty(x.shape, 'l2_normalize');
  const norms = Tensor.empty([r.rows], 'l2_normalize');
  launch({
    name: 'l2_normalize', shader: 'normalize', entry: 'l2_normalize_forward',
    uniforms: new Uniforms().u32(r.rows, r.L, r.inner).f32(eps),
    inputs: [x], outputs: [y, norms], workgroups: grid1d(r.rows),
    flops: 3 * x.size, bytes: 8 * x.size,
  });
  return { y, norms };
}

export function runL2NormalizeBackward(y: Tensor, norms: Tensor, g: Tensor, axis: number, eps: number): Tensor {
  const r = rowsAround(y.shape, axis, 'l2_normalize_backward');
  const dx = Tensor.empty(y.shape, 'l2_normalize_backward');
  launch({
    name: 'l2_normalize_backward', shader: 'normalize', entry: 'l2_normalize_backward',
    uniforms: new Uniforms().u32(r.rows, r.L, r.inner).f32(eps),
    inputs: [y, norms, g], outputs: [dx], workgroups: grid1d(r.rows),
    flops: 5 * y.size, bytes: 12 * y.size,
  });
  return dx;
}

/** Angles [rows] between the rows of a and b ([rows, L], any norms): 2 atan2(|â - b̂|, |â + b̂|). */
export function runRowAngles(a: Tensor, b: Tensor, eps = 1e-12): Tensor {
  const [rows, L] = a.shape as [number, number];
  const angles = Tensor.empty([rows], 'row_angles');
  launch({
    name: 'row_angles', shader: 'normalize', entry: 'row_angles',
    uniforms: new Uniforms().u32(rows, L, 1).f32(eps),
    inputs: [a, b], outputs: [angles], workgroups: grid1d(rows),
    flops: 12 * a.size, bytes: 8 * a.size + 4 * rows,
  });
  return angles;
}

export function l2NormalizeRef(x: ArrayLike<number>, shape: Shape, axis: number, eps: number): Float64Array {
  const { outer, L, inner } = rowsAround(shape, axis, 'l2_normalize');
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (l: number): number => o * L * inner + l * inner + i;
      let s = 0;
      for (let l = 0; l < L; l++) s += x[at(l)]! ** 2;
      const d = Math.max(Math.sqrt(s), eps);
      for (let l = 0; l < L; l++) y[at(l)] = x[at(l)]! / d;
    }
  }
  return y;
}
