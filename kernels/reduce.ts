// Reductions over any axes (shaders/reduce.wgsl): dispatch, cost, CPU reference.
import { gpu } from '../src/gpu/device.ts';
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { normalizeAxes, sizeOf, stridesOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';
import { coalesce } from './elementwise.ts';

export type ReduceOp = 'sum' | 'max';
const OP_ID: Record<ReduceOp, number> = { sum: 0, max: 1 };
const WG = 256;
/** Invocations of a workgroup that reduces one output on the CPU adapter: 16 measured as fast as 256
 *  or faster in every case production takes that path (kernels/lab/reduce, same run: 1.17x on the
 *  batch-norm-like sum over [8,64,56,56], 1.36x on 1M elements to one, 2.5x on the max over the rows of
 *  [128, 10000]); a workgroup runs on one core there, so the tree and its idle lanes only cost. A GPU
 *  keeps 256 for the parallel strided loop. */
const CPU_WORKGROUP_WG = 16;
/** A workgroup per output (a strided loop, then a tree) when the reduction is long and the outputs
 *  too few to fill the device one thread each; a thread per output otherwise. Measured on lavapipe
 *  (bench/reduce.bench.ts, same run): sum over the rows of [4096, 512] took 65 ms with a workgroup
 *  per output and 3.9 ms with a thread per output. LOWBIT_REDUCE_WG_OUTPUTS overrides, to re-measure. */
const WORKGROUP_THRESHOLD = 128;
const MAX_OUTPUTS_PER_WORKGROUP_MODE = Number(process.env.LOWBIT_REDUCE_WG_OUTPUTS ?? 1024);

export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** How runReduce launches; the defaults are the production choice (kernels/lab/reduce times the rest). */
export interface ReduceLaunch {
  /** A thread per output or a workgroup per output (default: by the lengths, as above). */
  mode?: 'thread' | 'workgroup';
  /** Invocations per workgroup, the shader's WG (default 256; 16 for a workgroup per output on the CPU adapter). */
  wg?: number;
}

/** y = reduce(x) over `axes`, times `scale` for sums (mean passes 1/n). */
export function runReduce(op: ReduceOp, x: Tensor, axesIn: number | readonly number[] | undefined, keepDims: boolean, scale = 1, name: string = op, how: ReduceLaunch = {}): Tensor {
  const axes = normalizeAxes(name, axesIn, x.shape.length);
  const outShape = reducedShape(x.shape, axes, keepDims);
  const y = Tensor.empty(outShape, name);
  const strides = stridesOf(x.shape);
  const keptDims = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const kept = coalesce(keptDims.map((i) => x.shape[i]!), keptDims.map((i) => strides[i]!));
  const red = coalesce(axes.map((i) => x.shape[i]!), axes.map((i) => strides[i]!));
  const nOut = y.size;
  const nRed = sizeOf(axes.map((i) => x.shape[i]!));
  if (nRed === 0 && op === 'max') throw new Error(`${name}: cannot take the max over an empty axis of ${x.shape}`);
  const perWorkgroup = how.mode ? how.mode === 'workgroup' : nRed >= WORKGROUP_THRESHOLD && nOut < MAX_OUTPUTS_PER_WORKGROUP_MODE;
  const wg = how.wg ?? (perWorkgroup && gpu().isCpuAdapter ? CPU_WORKGROUP_WG : WG);
  launch({
    name: `reduce.${name}`, shader: 'reduce', entry: perWorkgroup ? 'reduce_workgroup' : 'reduce_thread',
    constants: { OP: OP_ID[op] }, defines: wg === WG ? undefined : { WG: wg },
    uniforms: new Uniforms().u32(nOut, nRed, kept.shape.length, red.shape.length).f32(scale).u32(0, 0, 0)
      .u32x4(kept.shape, 2, 1).u32x4(kept.strides[0]!, 2).u32x4(red.shape, 2, 1).u32x4(red.strides[0]!, 2),
    inputs: [x], outputs: [y],
    workgroups: grid1d(perWorkgroup ? nOut : Math.ceil(nOut / wg)),
    flops: x.size, bytes: 4 * (x.size + nOut),
  });
  return y;
}

// ---- CPU reference -------------------------------------------------------------------------------

export function reduceRef(op: ReduceOp, x: ArrayLike<number>, shape: Shape, axesIn: number | readonly number[] | undefined, scale = 1): Float64Array {
  const axes = normalizeAxes(op, axesIn, shape.length);
  const outShape = reducedShape(shape, axes, true);
  const outStrides = stridesOf(outShape);
  const inStrides = stridesOf(shape);
  const out = new Float64Array(sizeOf(outShape)).fill(op === 'max' ? -Infinity : 0);
  for (let i = 0; i < sizeOf(shape); i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(i / inStrides[d]!) % shape[d]!;
      if (!axes.includes(d)) o += c * outStrides[d]!;
    }
    out[o] = op === 'max' ? Math.max(out[o]!, x[i]!) : out[o]! + x[i]!;
  }
  if (op === 'sum') for (let o = 0; o < out.length; o++) out[o] = out[o]! * scale;
  return out;
}
