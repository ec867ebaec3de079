// Angular-margin softmax cross-entropy (shaders/margin_softmax.wgsl): dispatch and CPU reference.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, ShapeError } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

export interface MarginParams {
  /** Logit scale. */
  s: number;
  /** Multiplicative angular margin (SphereFace-style; 1 = none). */
  m1: number;
  /** Additive cosine margin (CosFace; 0 = none). */
  m3: number;
}

const WG = 64;

export function checkMarginArgs(cosines: Tensor, labels: Tensor, margins: Tensor): [number, number] {
  if (cosines.shape.length !== 2) throw new ShapeError(`margin_softmax: cosines must be [N, C], got ${fmt(cosines.shape)}`);
  const [N, C] = cosines.shape as [number, number];
  if (labels.dtype !== 'i32' || labels.shape.length !== 1 || labels.shape[0] !== N) {
    throw new ShapeError(`margin_softmax: labels must be i32 [${N}], got ${labels.dtype} ${fmt(labels.shape)}`);
  }
  if (margins.shape.length !== 1 || margins.shape[0] !== N) throw new ShapeError(`margin_softmax: per-sample margins must be [${N}], got ${fmt(margins.shape)}`);
  return [N, C];
}

/** Per-row loss [N], stats [N, 4] = (lse, phi, dphi/dcos, dphi/dm2) for the backward, and correct [N]
 *  (1 where the plain-cosine argmax is the label). */
export function runMarginForward(cosines: Tensor, labels: Tensor, margins: Tensor, h: MarginParams): { rowLoss: Tensor; stats: Tensor; correct: Tensor } {
  const [N, C] = checkMarginArgs(cosines, labels, margins);
  const rowLoss = Tensor.empty([N], 'margin_softmax');   // [N]
  const stats = Tensor.empty([N, 4], 'margin_softmax');  // [N, 4]
  const correct = Tensor.empty([N], 'margin_softmax');   // [N]
  launch({
    name: 'margin_softmax', shader: 'margin_softmax', entry: 'margin_forward',
    uniforms: new Uniforms().u32(N, C).f32(h.s, h.m1, h.m3, 1),
    inputs: [cosines, labels, margins], outputs: [rowLoss, stats, correct], workgroups: grid1d(N),
    flops: 6 * N * C, bytes: 4 * (N * C + 8 * N),
  });
  return { rowLoss, stats, correct };
}

/** Gradients to the cosines [N, C] and to the per-sample margins m2 [N] (zero for an invalid label). */
export function runMarginBackward(cosines: Tensor, labels: Tensor, stats: Tensor, g: Tensor, h: MarginParams, scale: number): { dcos: Tensor; dmargin: Tensor } {
  const [N, C] = cosines.shape as [number, number];
  const dcos = Tensor.empty([N, C], 'margin_softmax_backward');  // [N, C]
  const dmargin = Tensor.empty([N], 'margin_softmax_backward');  // [N]
  launch({
    name: 'margin_softmax_backward', shader: 'margin_softmax', entry: 'margin_backward',
    uniforms: new Uniforms().u32(N, C).f32(h.s, h.m1, h.m3, scale),
    inputs: [cosines, labels, stats, g], outputs: [dcos, dmargin], workgroups: grid1d(Math.ceil((N * C) / WG)),
    flops: 6 * N * C, bytes: 8 * N * C,
  });
  return { dcos, dmargin };
}

// ---- CPU reference (float64) ---------------------------------------------------------------------

/** The target logit phi = cos(m1*theta + m2) - m3 with the th/mm fall-back, as the shader defines it. */
export function targetLogitRef(c: number, m2: number, h: MarginParams): number {
  const cc = Math.min(1, Math.max(-1, c));
  const th = Math.cos((Math.PI - m2) / h.m1);
  if (cc > th) return Math.cos(h.m1 * Math.acos(cc) + m2) - h.m3;
  return c - Math.sin(Math.PI - m2) * m2 - h.m3;
}

/** Mean margin-softmax loss over rows of cosines [N, C]. */
export function marginLossRef(cosines: ArrayLike<number>, N: number, C: number, labels: ArrayLike<number>, margins: ArrayLike<number>, h: MarginParams): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    const y = labels[n]!;
    const logits = Array.from({ length: C }, (_, j) => h.s * (j === y ? targetLogitRef(cosines[n * C + j]!, margins[n]!, h) : cosines[n * C + j]!));
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((acc, l) => acc + Math.exp(l - m), 0));
    total += lse - logits[y]!;
  }
  return total / N;
}
