// Batched matmul with transposes (shaders/matmul.wgsl): dispatch, FLOP/byte counts, CPU reference.
import { launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, sameShape, ShapeError, sizeOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

export interface MatmulPlan {
  M: number;
  N: number;
  K: number;
  batch: number;
  aBatchStride: number;
  bBatchStride: number;
  outShape: number[];
}

/** Resolves shapes: A [...batch, M, K] (or [..., K, M] transposed), B [...batch, K, N] (or [..., N, K]).
 *  Batch dims must match, or one side's batch must be absent or all ones (broadcast). */
export function planMatmul(aShape: Shape, bShape: Shape, { transA = false, transB = false }: MatmulOptions, op = 'matmul'): MatmulPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new ShapeError(`${op}: both operands need rank >= 2, got ${fmt(aShape)} and ${fmt(bShape)}`);
  }
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const [br, bc] = bShape.slice(-2) as [number, number];
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    throw new ShapeError(`${op}: inner dimensions differ: ${fmt(aShape)}${transA ? '^T' : ''} x ${fmt(bShape)}${transB ? '^T' : ''} (K=${K} vs ${Kb})`);
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const aB = sizeOf(aBatch);
  const bB = sizeOf(bBatch);
  let batchShape: readonly number[];
  if (bB === 1 && (aB !== 1 || aBatch.length >= bBatch.length)) batchShape = aBatch;
  else if (aB === 1) batchShape = bBatch;
  else if (sameShape(aBatch, bBatch)) batchShape = aBatch;
  else throw new ShapeError(`${op}: batch dimensions ${fmt(aBatch)} and ${fmt(bBatch)} differ (only equal batches, or a batch of one, broadcast)`);
  const batch = Math.max(aB, bB);
  return {
    M, N, K, batch,
    aBatchStride: aB === 1 ? 0 : M * K,
    bBatchStride: bB === 1 ? 0 : K * N,
    outShape: [...batchShape, M, N],
  };
}

export const matmulFlops = (p: MatmulPlan): number => 2 * p.batch * p.M * p.N * p.K;

const TM = 4;
const TN = 4;
const WG_X = 8;
const WG_Y = 8;

export function runMatmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}, name = 'matmul'): Tensor {
  const plan = planMatmul(a.shape, b.shape, opts, name);
  const c = Tensor.empty(plan.outShape, name);
  if (c.size === 0) return c;
  if (plan.K === 0) throw new ShapeError(`${name}: K = 0 (${fmt(a.shape)} x ${fmt(b.shape)})`);
  launch({
    name, shader: 'matmul', entry: 'matmul',
    constants: { TRANS_A: opts.transA ? 1 : 0, TRANS_B: opts.transB ? 1 : 0 },
    defines: { TM, TN, WG_X, WG_Y },
    uniforms: new Uniforms().u32(plan.M, plan.N, plan.K, plan.aBatchStride, plan.bBatchStride),
    inputs: [a, b], outputs: [c],
    workgroups: [Math.ceil(plan.N / (WG_X * TN)), Math.ceil(plan.M / (WG_Y * TM)), plan.batch],
    flops: matmulFlops(plan),
    bytes: 4 * (a.size + b.size + c.size),
    shapes: `${fmt(a.shape)}${opts.transA ? 'T' : ''} x ${fmt(b.shape)}${opts.transB ? 'T' : ''}`,
  });
  return c;
}

// ---- CPU reference (float64 accumulation) --------------------------------------------------------

export function matmulRef(a: ArrayLike<number>, aShape: Shape, b: ArrayLike<number>, bShape: Shape, opts: MatmulOptions = {}): { data: Float64Array; shape: number[] } {
  const p = planMatmul(aShape, bShape, opts);
  const out = new Float64Array(p.batch * p.M * p.N);
  for (let t = 0; t < p.batch; t++) {
    const ab = t * p.aBatchStride;
    const bb = t * p.bBatchStride;
    for (let m = 0; m < p.M; m++) {
      for (let n = 0; n < p.N; n++) {
        let s = 0;
        for (let k = 0; k < p.K; k++) {
          const av = opts.transA ? a[ab + k * p.M + m]! : a[ab + m * p.K + k]!;
          const bv = opts.transB ? b[bb + n * p.K + k]! : b[bb + k * p.N + n]!;
          s += av * bv;
        }
        out[t * p.M * p.N + m * p.N + n] = s;
      }
    }
  }
  return { data: out, shape: p.outShape };
}
