// Softmax / log-softmax along an axis and cross-entropy with integer labels (shaders/softmax.wgsl).
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, normalizeAxes, ShapeError, sizeOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

const WG = 64;

/** [outer, L, inner] view of `shape` around `axis`. */
export function rowsAround(shape: Shape, axis: number, op: string): { outer: number; L: number; inner: number; rows: number } {
  const [a] = normalizeAxes(op, axis, shape.length);
  const outer = sizeOf(shape.slice(0, a));
  const L = shape[a!]!;
  const inner = sizeOf(shape.slice(a! + 1));
  return { outer, L, inner, rows: outer * inner };
}

export function runSoftmax(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? 'log_softmax' : 'softmax';
  const r = rowsAround(x.shape, axis, name);
  const y = Tensor.empty(x.shape, name);
  launch({
    name, shader: 'softmax', entry: 'softmax_forward', constants: { LOG: log ? 1 : 0 },
    uniforms: new Uniforms().u32(r.rows, r.L, r.inner).f32(1),
    inputs: [x], outputs: [y], workgroups: grid1d(r.rows),
    flops: 5 * x.size, bytes: 12 * x.size,
  });
  return y;
}

export function runSoftmaxBackward(y: Tensor, g: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? 'log_softmax_backward' : 'softmax_backward';
  const r = rowsAround(y.shape, axis, name);
  const dx = Tensor.empty(y.shape, name);
  launch({
    name, shader: 'softmax', entry: 'softmax_backward', constants: { LOG: log ? 1 : 0 },
    uniforms: new Uniforms().u32(r.rows, r.L, r.inner).f32(1),
    inputs: [y, g], outputs: [dx], workgroups: grid1d(r.rows),
    flops: 4 * y.size, bytes: 16 * y.size,
  });
  return dx;
}

/** Per-row loss [N] and log-sum-exp [N] for logits [N, C] and i32 labels [N]. */
export function runCrossEntropy(logits: Tensor, labels: Tensor): { loss: Tensor; lse: Tensor } {
  if (logits.shape.length !== 2) throw new ShapeError(`cross_entropy: logits must be [N, C], got ${fmt(logits.shape)}`);
  const [N, C] = logits.shape as [number, number];
  if (labels.dtype !== 'i32' || labels.shape.length !== 1 || labels.shape[0] !== N) {
    throw new ShapeError(`cross_entropy: labels must be i32 [${N}] for logits ${fmt(logits.shape)}, got ${labels.dtype} ${fmt(labels.shape)}`);
  }
  const loss = Tensor.empty([N], 'cross_entropy');
  const lse = Tensor.empty([N], 'cross_entropy');
  launch({
    name: 'cross_entropy', shader: 'softmax', entry: 'cross_entropy_forward',
    uniforms: new Uniforms().u32(N, C, 1).f32(1),
    inputs: [logits, labels], outputs: [loss, lse], workgroups: grid1d(N),
    flops: 4 * N * C, bytes: 4 * (N * C + 3 * N),
  });
  return { loss, lse };
}

/** dlogits = g * scale * (softmax(logits) - onehot(labels)); g is a one-element tensor. */
export function runCrossEntropyBackward(logits: Tensor, labels: Tensor, lse: Tensor, g: Tensor, scale: number): Tensor {
  const [N, C] = logits.shape as [number, number];
  const dx = Tensor.empty(logits.shape, 'cross_entropy_backward');
  launch({
    name: 'cross_entropy_backward', shader: 'softmax', entry: 'cross_entropy_backward',
    uniforms: new Uniforms().u32(N, C, 1).f32(scale),
    inputs: [logits, labels, lse, g], outputs: [dx], workgroups: grid1d(Math.ceil((N * C) / WG)),
    flops: 4 * N * C, bytes: 8 * N * C,
  });
  return dx;
}

// ---- CPU reference -------------------------------------------------------------------------------

export function softmaxRef(x: ArrayLike<number>, shape: Shape, axis: number, log: boolean): Float64Array {
  const { outer, L, inner } = rowsAround(shape, axis, 'softmax');
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (l: number): number => o * L * inner + l * inner + i;
      let m = -Infinity;
      for (let l = 0; l < L; l++) m = Math.max(m, x[at(l)]!);
      let s = 0;
      for (let l = 0; l < L; l++) s += Math.exp(x[at(l)]! - m);
      for (let l = 0; l < L; l++) y[at(l)] = log ? x[at(l)]! - m - Math.log(s) : Math.exp(x[at(l)]! - m) / s;
    }
  }
  return y;
}

/** Mean cross-entropy of logits [N, C] against integer labels. */
export function crossEntropyRef(logits: ArrayLike<number>, N: number, C: number, labels: ArrayLike<number>): number {
  const logp = softmaxRef(logits, [N, C], 1, true);
  let total = 0;
  for (let n = 0; n < N; n++) total -= logp[n * C + labels[n]!]!;
  return total / N;
}
