// The elementwise variants of the kernel lab (llm.c dev/cuda style): add (with NumPy broadcasting) and
// relu, from a naive thread-per-element kernel to the production one. Shaders: shaders/lab/elementwise/
// (lab only) and shaders/elementwise.wgsl (production, launched with other grids or paths).
import { binaryRef, runBinary, runUnary, unaryRef, type EwLaunch } from '../../elementwise.ts';
import { grid1d, launch, Uniforms } from '../../../src/gpu/kernel.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { broadcastShapes, broadcastStrides, sizeOf, type Shape } from '../../../src/shape.ts';
import { Tensor } from '../../../src/tensor.ts';
import { relErr, type Check } from '../lib.ts';

export type Op = 'add' | 'relu';

/** c = a + b (b broadcast to a's shape or the same shape), or y = relu(a). */
export interface Problem {
  id: string;
  op: Op;
  a: Shape;
  b?: Shape;
}

export interface Variant {
  name: string;
  /** What the variant is, in a few words. */
  about: string;
  /** Why it cannot run this problem, or null. */
  unsupported: (pr: Problem) => string | null;
  run: (pr: Problem, a: Tensor, b: Tensor | null) => Tensor;
}

/** The production kernel with another launch (kernels/elementwise.ts EwLaunch). */
const production = (name: string, about: string, how: EwLaunch): Variant => ({
  name, about, unsupported: () => null,
  run: (pr, a, b) => (pr.op === 'add' ? runBinary('add', a, b!, 0, 0, how) : runUnary('relu', a, a.shape, 0, 0, undefined, how)),
});

const naive: Variant = {
  name: 'naive', about: 'shaders/lab/elementwise/naive.wgsl: a thread per element, 64 per workgroup, full-rank index math',
  unsupported: (pr) => (pr.a.length > 4 ? 'rank > 4' : null),
  run: (pr, a, b) => {
    const shape = pr.op === 'add' ? broadcastShapes('add', pr.a, pr.b!) : [...pr.a];
    const y = Tensor.empty(shape, 'naive');
    const pad = (xs: number[]): number[] => [...xs, 0, 0, 0, 0].slice(0, 4);
    launch({
      name: `lab.${pr.op}_naive`, shader: 'lab/elementwise/naive', entry: `${pr.op}_naive`,
      uniforms: new Uniforms().u32(y.size, shape.length, 0, 0).u32(...pad(shape), ...pad(broadcastStrides(pr.a, shape)), ...pad(b ? broadcastStrides(pr.b!, shape) : [])),
      inputs: b ? [a, b] : [a], outputs: [y], workgroups: grid1d(Math.ceil(y.size / 64)), flops: y.size, bytes: 0,
    });
    return y;
  },
};

const vec4: Variant = {
  name: 'vec4', about: 'shaders/lab/elementwise/vec4.wgsl: contiguous, vec4 loads and stores, 32 looping workgroups',
  unsupported: (pr) => (sizeOf(pr.a) % 4 !== 0 ? 'size % 4 != 0' : pr.b && sizeOf(pr.b) !== sizeOf(pr.a) ? 'broadcasts' : null),
  run: (pr, a, b) => {
    const y = Tensor.empty(a.shape, 'vec4');
    launch({
      name: `lab.${pr.op}_vec4`, shader: 'lab/elementwise/vec4', entry: `${pr.op}_vec4`, uniforms: new Uniforms().u32(a.size / 4),
      inputs: b ? [a, b] : [a], outputs: [y], workgroups: grid1d(Math.min(Math.ceil(a.size / 1024), 32)), flops: a.size, bytes: 0,
    });
    return y;
  },
};

export const VARIANTS: Variant[] = [
  naive,
  production('wg_per_256', 'production shader, a workgroup per 256 elements (256 vec4s where production takes them), no loop (the first form)', { maxWorkgroups: Infinity }),
  production('strided', 'production shader, the strided index path even when contiguous', { strided: true }),
  production('loop_8wg', 'production shader, 8 looping workgroups', { maxWorkgroups: 8 }),
  production('loop_128wg', 'production shader, 128 looping workgroups', { maxWorkgroups: 128 }),
  vec4,
  production('scalar', 'production shader, contiguous operands by scalar loads (production before it took vec4s)', { vec4: false }),
  production('production', 'runBinary / runUnary: 32 looping workgroups on the CPU adapter; contiguous by vec4 when the size allows, repeat or strided indexing otherwise', {}),
];

// ---- validation against binaryRef / unaryRef (float64) ----------------------------------------------

/** Odd sizes, broadcasting along inner, outer and middle axes, and vec4-sized ones. */
export const CHECKS: Problem[] = [
  { id: 'add 3x5x7', op: 'add', a: [3, 5, 7], b: [3, 5, 7] },
  { id: 'add 2x6x4x4', op: 'add', a: [2, 6, 4, 4], b: [2, 6, 4, 4] },
  { id: 'add bias 2x5x3x3 + 5x1x1', op: 'add', a: [2, 5, 3, 3], b: [5, 1, 1] },
  { id: 'add 4x1x9 + 7x1', op: 'add', a: [4, 1, 9], b: [7, 1] },
  { id: 'add 3001 (grid-stride)', op: 'add', a: [3001], b: [3001] },
  { id: 'add 9000x4 (grid-stride)', op: 'add', a: [9000, 4], b: [9000, 4] },
  { id: 'relu 3x5x7', op: 'relu', a: [3, 5, 7] },
  { id: 'relu 9000x4', op: 'relu', a: [9000, 4] },
];

/** max |got - want| / (1 + |want|) per (variant, problem); tolerance 1e-6 (one rounding of an add). */
export async function validate(variants: readonly Variant[] = VARIANTS, problems: readonly Problem[] = CHECKS): Promise<Check[]> {
  const out: Check[] = [];
  for (const pr of problems) {
    const aData = normalArray(sizeOf(pr.a), 3, 0, 1);
    const bData = pr.b ? normalArray(sizeOf(pr.b), 4, 0, 1) : null;
    const want = pr.op === 'add' ? binaryRef('add', aData, pr.a, bData!, pr.b!).data : unaryRef('relu', aData);
    const a = fromArray(aData, pr.a);
    const b = bData ? fromArray(bData, pr.b!) : null;
    for (const v of variants) {
      if (v.unsupported(pr)) continue;
      const y = v.run(pr, a, b);
      out.push({ variant: v.name, problem: pr.id, err: relErr(await y.toArray(), want), tol: 1e-6 });
      y.dispose();
    }
    a.dispose();
    b?.dispose();
  }
  return out;
}

