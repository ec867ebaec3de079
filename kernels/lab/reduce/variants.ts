// The reduction variants of the kernel lab (llm.c dev/cuda style): sum and max over any axes. Every
// variant is shaders/reduce.wgsl, with one of its two entry points forced and other workgroup sizes
// (kernels/reduce.ts ReduceLaunch); production picks the entry point by the lengths.
//   reduce_thread     one invocation per output walks its whole reduction (the naive form)
//   reduce_workgroup  one workgroup per output: a strided loop, then a tree in workgroup memory
import { reduceRef, runReduce, type ReduceLaunch, type ReduceOp } from '../../reduce.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf, type Shape } from '../../../src/shape.ts';
import type { Tensor } from '../../../src/tensor.ts';
import { relErr, type Check } from '../lib.ts';

export interface Problem {
  id: string;
  op: ReduceOp;
  shape: Shape;
  axes: number[] | undefined;
  /** Multiplies a sum (a mean passes 1/n). */
  scale?: number;
}

export interface Variant {
  name: string;
  about: string;
  run: (pr: Problem, x: Tensor) => Tensor;
}

const variant = (name: string, about: string, how: ReduceLaunch): Variant => ({
  name, about, run: (pr, x) => runReduce(pr.op, x, pr.axes, false, pr.scale ?? 1, `lab.${name}`, how),
});

export const VARIANTS: Variant[] = [
  variant('thread', 'reduce_thread: a thread per output, 256 per workgroup (the naive form)', { mode: 'thread' }),
  variant('thread_wg64', 'reduce_thread, 64 per workgroup', { mode: 'thread', wg: 64 }),
  variant('workgroup', 'reduce_workgroup: a workgroup of 256 per output, strided loop then a tree (production\'s size before it took 16 on the CPU adapter)', { mode: 'workgroup', wg: 256 }),
  variant('workgroup_wg64', 'reduce_workgroup with 64 invocations', { mode: 'workgroup', wg: 64 }),
  variant('workgroup_wg16', 'reduce_workgroup with 16 invocations (batch norm\'s size)', { mode: 'workgroup', wg: 16 }),
  variant('production', 'runReduce: a workgroup per output (16 invocations on the CPU adapter) when the reduction is >= 128 long and there are < 1024 outputs', {}),
];

// ---- validation against reduceRef (float64) -------------------------------------------------------

/** Odd sizes: inner, outer, middle and several axes, a full reduction, long and short ones, max. */
export const CHECKS: Problem[] = [
  { id: 'sum 3x5x7 axis 2', op: 'sum', shape: [3, 5, 7], axes: [2] },
  { id: 'sum 3x5x7 axis 0', op: 'sum', shape: [3, 5, 7], axes: [0] },
  { id: 'mean 3x5x7x9 axes 0,2,3', op: 'sum', shape: [3, 5, 7, 9], axes: [0, 2, 3], scale: 1 / (3 * 7 * 9) },
  { id: 'sum 1001 all', op: 'sum', shape: [1001], axes: undefined },
  { id: 'sum 5x999 axis 1', op: 'sum', shape: [5, 999], axes: [1] },
  { id: 'max 6x7x8 axes 0,2', op: 'max', shape: [6, 7, 8], axes: [0, 2] },
  { id: 'max 3x1001 axis 1', op: 'max', shape: [3, 1001], axes: [1] },
];

/** max |got - want| / (1 + |want|) per (variant, problem); tolerance 1e-5 (f32 sums of ~1000 terms). */
export async function validate(variants: readonly Variant[] = VARIANTS, problems: readonly Problem[] = CHECKS): Promise<Check[]> {
  const out: Check[] = [];
  for (const pr of problems) {
    const data = normalArray(sizeOf(pr.shape), 5, 0, 1);
    const want = reduceRef(pr.op, data, pr.shape, pr.axes, pr.scale ?? 1);
    const x = fromArray(data, pr.shape);
    for (const v of variants) {
      const y = v.run(pr, x);
      out.push({ variant: v.name, problem: pr.id, err: relErr(await y.toArray(), want), tol: 1e-5 });
      y.dispose();
    }
    x.dispose();
  }
  return out;
}
