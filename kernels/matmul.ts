// Batched matmul with transposes (shaders/matmul_subgroup.wgsl, shaders/matmul.wgsl): the table that picks a
// kernel per shape, dispatch, FLOP/byte counts, CPU reference. The kernel lab is kernels/lab/matmul/.
import { gpu } from '../src/gpu/device.ts';
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

// ---- kernels and the table that chooses between them ----------------------------------------------

/** A kernel configuration: a shader and the tile sizes templated into it. */
export interface MatmulKernel {
  shader: 'matmul' | 'matmul_subgroup';
  defines: Record<string, number>;
  /** Needs 8-lane subgroups (shaders/matmul_subgroup.wgsl). */
  subgroups: boolean;
}

export const MATMUL_KERNELS = {
  // Rows of A shared by subgroup broadcast, K unrolled by 2: 16 rows x 128 columns per workgroup.
  subgroup_16x8: { shader: 'matmul_subgroup', defines: { TM: 16, TN: 8, WG: 16, KU: 2 }, subgroups: true },
  // The same with 8 rows per workgroup, for M <= 8.
  subgroup_8x8: { shader: 'matmul_subgroup', defines: { TM: 8, TN: 8, WG: 16, KU: 2 }, subgroups: true },
  // Portable register blocking, 8x8 outputs per invocation: 64 x 64 per workgroup.
  portable_8x8: { shader: 'matmul', defines: { TM: 8, TN: 8, WG_X: 8, WG_Y: 8 }, subgroups: false },
  // Portable, one row per workgroup, 512 columns: a matrix-vector product.
  portable_row: { shader: 'matmul', defines: { TM: 1, TN: 8, WG_X: 64, WG_Y: 1 }, subgroups: false },
} satisfies Record<string, MatmulKernel>;

export type MatmulKernelName = keyof typeof MATMUL_KERNELS;

/** Output rows x columns one workgroup computes. */
export function matmulTile(k: MatmulKernel): { rows: number; cols: number } {
  const d = k.defines as Record<string, number>;
  return k.shader === 'matmul_subgroup' ? { rows: d.TM!, cols: d.WG! * d.TN! } : { rows: d.WG_Y! * d.TM!, cols: d.WG_X! * d.TN! };
}

export interface MatmulChoice {
  shapes: string;
  when: (M: number, N: number, K: number) => boolean;
  /** Kernel on adapters with 8-lane subgroups (lavapipe) and on any other adapter. */
  subgroups8: MatmulKernelName;
  portable: MatmulKernelName;
}

/**
 * Which kernel runs which shape: the first row whose `when` holds. M and N are taken after orientation:
 * when N < M and N is narrower than a workgroup's columns, the kernel computes C^T = op(B)^T op(A)^T and
 * stores it transposed, so the long side runs along the lanes ([1024,1024] x [1024,8] runs as 8 x 1024).
 * Subgroup kernels read B 4 columns at a time (vec4) when op(B)'s rows are contiguous and 16-byte aligned
 * (after orientation: B not transposed and N % 4 == 0), else one float at a time.
 * GFLOP/s, fp32, lavapipe (Mesa 25.0.7, LLVM 15, 2-core AMD EPYC, 8-lane subgroups): medians of 3
 * interleaved tinybench rounds in one run of kernels/lab/matmul/run.ts (names below are the lab's). Other
 * jobs shared the two cores, more so for the later rows; two more runs ranked the kernels the same.
 *   shape (M x K x N)        runs here                 chosen  next best               portable_8x8  old 4x4
 *   256^3                    subgroup_16x8, vec4 B      23.7   sg_16x8 (scalar)  19.1       8.9          5.3
 *   512^3                    subgroup_16x8, vec4 B      26.2   sg_16x8_wg8       21.6       9.5          5.6
 *   1024^3                   subgroup_16x8, vec4 B      25.3   sg_16x8_wg8       18.9       6.6          3.9
 *   1000x999x1001 (N odd)    subgroup_16x8, scalar B    12.1   sg_16x8_wg8       18.4 *     8.1          4.9
 *   512^3, A transposed      subgroup_16x8, vec4 B      16.8   sg_16x8 (scalar)  13.8       6.0          3.1
 *   512^3, B transposed      subgroup_16x8, scalar B    13.3   sg_16x8_wg8       13.2       5.9          3.2
 *   16x1024x1024             subgroup_16x8, vec4 B      18.8   sg_8x8_vec4       18.5       2.3          1.8
 *   8x1024x1024              subgroup_8x8, vec4 B       17.0   sg_16x8_vec4      12.6       1.2          1.1
 *   4x1024x1024              subgroup_8x8, vec4 B        7.7   sg_8x8 (scalar)    6.2       portable_row 1.3
 *   1x1024x1024 (bandwidth)  subgroup_8x8, vec4 B        2.0   reg_row            1.7       portable_row 1.7
 *   1024x1024x8              subgroup_8x8, transposed    4.6   sg_16x8_wg8        1.9 (lanes along N = 8)
 * * noise: runMatmul ran the chosen kernel at 18.9 in the same run; the other runs had 12.0 vs 13.1 and,
 *   per CPU-second, 11.1 vs 9.7. Cold compile on lavapipe: ~3.5 s for each subgroup_16x8 pipeline, ~1.5 s
 *   for subgroup_8x8 (Mesa's shader cache keeps them across processes).
 */
export const MATMUL_TABLE: readonly MatmulChoice[] = [
  { shapes: 'M <= 4: a few rows (matrix-vector, a linear layer on one sample)', when: (M) => M <= 4, subgroups8: 'subgroup_8x8', portable: 'portable_row' },
  { shapes: 'M <= 8', when: (M) => M <= 8, subgroups8: 'subgroup_8x8', portable: 'portable_8x8' },
  { shapes: 'everything else', when: () => true, subgroups8: 'subgroup_16x8', portable: 'portable_8x8' },
];

const eightLaneSubgroups = new WeakMap<GPUDevice, boolean>();

/** Whether the device runs the subgroup kernels: feature enabled and subgroups of exactly 8 lanes. */
export function hasEightLaneSubgroups(): boolean {
  const g = gpu();
  let yes = eightLaneSubgroups.get(g.device);
  if (yes === undefined) {
    const info = (g.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    yes = g.features.has('subgroups') && info?.subgroupMinSize === 8 && info?.subgroupMaxSize === 8;
    eightLaneSubgroups.set(g.device, yes);
  }
  return yes;
}

/** The kernel and orientation runMatmul uses for a problem. */
export function chooseMatmul(p: MatmulPlan): { kernel: MatmulKernelName; transposed: boolean; shapes: string } {
  const subgroups = hasEightLaneSubgroups();
  const widest = MATMUL_KERNELS[MATMUL_TABLE[MATMUL_TABLE.length - 1]![subgroups ? 'subgroups8' : 'portable']];
  const transposed = p.N < p.M && p.N < matmulTile(widest).cols;
  const [M, N] = transposed ? [p.N, p.M] : [p.M, p.N];
  const row = MATMUL_TABLE.find((r) => r.when(M, N, p.K))!;
  return { kernel: subgroups ? row.subgroups8 : row.portable, transposed, shapes: row.shapes };
}

export function runMatmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}, name = 'matmul'): Tensor {
  const { kernel, transposed } = chooseMatmul(planMatmul(a.shape, b.shape, opts, name));
  return runMatmulKernel(kernel, a, b, opts, { transposed, name });
}

export interface KernelRunOptions {
  /** Compute C^T = op(B)^T op(A)^T and store it transposed: the same C, with M and N swapped in the kernel. */
  transposed?: boolean;
  /** Subgroup kernels: read B as vec4 when its layout allows (default) or always one float at a time. */
  vec4?: boolean;
  name?: string;
}

/** Runs one kernel, named from MATMUL_KERNELS or given as a config (tests and the kernel lab pin kernels
 *  this way; runMatmul picks one with chooseMatmul). */
export function runMatmulKernel(which: MatmulKernelName | MatmulKernel, a: Tensor, b: Tensor, opts: MatmulOptions = {}, { transposed = false, vec4 = true, name = 'matmul' }: KernelRunOptions = {}): Tensor {
  const plan = planMatmul(a.shape, b.shape, opts, name);
  const c = Tensor.empty(plan.outShape, name);
  if (c.size === 0) return c;
  if (plan.K === 0) throw new ShapeError(`${name}: K = 0 (${fmt(a.shape)} x ${fmt(b.shape)})`);
  const kernel: MatmulKernel = typeof which === 'string' ? MATMUL_KERNELS[which] : which;
  if (kernel.subgroups && !hasEightLaneSubgroups()) throw new Error(`${name}: kernel ${kernel.shader} needs 8-lane subgroups, which this adapter lacks`);
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  // Element strides of op(A) [M, K] and op(B) [K, N]. The kernel multiplies left [rows, K] by right [K, cols]:
  // A by B, or when transposed op(B)^T by op(A)^T.
  const aStrides = { batch: plan.aBatchStride, row: transA ? 1 : plan.K, k: transA ? plan.M : 1 };
  const bStrides = { batch: plan.bBatchStride, k: transB ? 1 : plan.N, col: transB ? plan.K : 1 };
  const [rows, cols, left, right] = transposed
    ? [plan.N, plan.M, { batch: bStrides.batch, row: bStrides.col, k: bStrides.k }, { batch: aStrides.batch, k: aStrides.k, col: aStrides.row }]
    : [plan.M, plan.N, aStrides, bStrides];
  const [cRow, cCol] = transposed ? [1, plan.N] : [plan.N, 1];
  // vec4 loads of `right` need its rows contiguous and every row start 16-byte aligned.
  const rightRowsAligned = right.col === 1 && right.k % 4 === 0 && right.batch % 4 === 0 && cols % 4 === 0;
  const entry = kernel.shader === 'matmul_subgroup' && vec4 && rightRowsAligned ? 'matmul_vec4' : 'matmul';
  const tile = matmulTile(kernel);
  launch({
    name, shader: kernel.shader, entry,
    defines: kernel.defines,
    uniforms: new Uniforms().u32(rows, cols, plan.K, left.batch, left.row, left.k, right.batch, right.k, right.col, cRow, cCol),
    inputs: transposed ? [b, a] : [a, b], outputs: [c],
    workgroups: [Math.ceil(cols / tile.cols), Math.ceil(rows / tile.rows), plan.batch],
    flops: matmulFlops(plan),
    bytes: 4 * (a.size + b.size + c.size),
    shapes: `${fmt(a.shape)}${transA ? 'T' : ''} x ${fmt(b.shape)}${transB ? 'T' : ''}`,
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
