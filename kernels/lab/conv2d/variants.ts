// The conv2d kernel versions of the lab, side by side (llm.c dev/cuda style). Each computes y (fwd), dx
// or dw for a plan; run.ts validates it against the CPU reference and times it. Versions:
//   v1 naive      shaders/lab/conv2d/naive.wgsl: one invocation per output element, no register tile
//   v2 portable   shaders/conv2d_portable.wgsl (production without subgroups): implicit GEMM, lanes
//                 over output pixels (dw: weight columns), TM channels per workgroup, every lane loading
//                 the weights (dw: dy) itself; dx by stride parity classes; dw split-K + a sum pass
//   v3 lanes_o    shaders/lab/conv2d/lanes_o.wgsl: the transposed arrangement, lanes over output
//                 channels, pixels (dw: weight columns) shared by the workgroup
//   v4 subgroup   shaders/conv2d.wgsl, conv2d_dw.wgsl (production) with UNROLL=1: as v2, the shared
//                 operand loaded once per subgroup and handed to every lane (subgroupShuffle)
//   v5 unrolled   the same with UNROLL=4 channels (dw: pixels) per loop iteration, so lavapipe
//                 blends the loop-carried accumulators with the execution mask once per 4 FMAs
//   +v6 packed    (forward, dx) the weights permuted to [kh*kw, CI, M] first (kernels/conv2d.ts
//                 packWeights): a subgroup's SG weight loads hit one cache line instead of SG
//   v7 direct     (3x3 padding-1 convs: stride 1, widths divisible by 4; stride 2, by 8, not dx) shaders/
//                 conv2d_3x3.wgsl: lanes over quads of 4 neighbouring pixels of a row, one vec4 load
//                 per input row and channel, the pixels beside a quad from the neighbouring lanes;
//                 dw: lanes over (c, ky), a quad of x and of dy per step, three dot products
import {
  conv2dBackwardInputRef, conv2dBackwardWeightRef, conv2dOutShape, conv2dRef, directApplies, runConv2d, runConv2dBackwardInput,
  runConv2dBackwardWeight, sumSplits, type Conv2dPlan, type ConvKernel,
} from '../../conv2d.ts';
import { runUnary } from '../../elementwise.ts';
import { planOf, type ConvShape } from '../../../bench/conv.bench.ts';
import { grid1d, launch, Uniforms } from '../../../src/gpu/kernel.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf } from '../../../src/shape.ts';
import { Tensor, tidy } from '../../../src/tensor.ts';
import type { Check } from '../lib.ts';

export type Op = 'fwd' | 'dx' | 'dw';

export interface Operands {
  x: Tensor;  // [N,C,H,W]
  w: Tensor;  // [O,C,kh,kw]
  dy: Tensor; // [N,O,Ho,Wo]
}

export interface Variant {
  name: string;
  op: Op;
  run: (t: Operands, p: Conv2dPlan) => Tensor;
  /** Timed once only (too slow for more). */
  slow?: boolean;
  /** Only for some shapes (the direct kernels); absent: every shape. */
  applies?: (p: Conv2dPlan) => boolean;
}

const tileName = (k: Pick<ConvKernel, 'TM' | 'TN' | 'WG'>): string => `${k.TM}x${k.TN}/${k.WG}`;

function labUniforms(p: Conv2dPlan, rowsPerSplit = 0, splits = 0): Uniforms {
  return new Uniforms().u32(p.N, p.C, p.H, p.W, p.O, p.Ho, p.Wo, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, rowsPerSplit, splits);
}

function naive(op: Op): Variant {
  const entry = `conv2d_${op}_naive`;
  return {
    name: `${op} v1 naive`, op, slow: true,
    run: ({ x, w, dy }, p) => {
      const [a, b, shape] = op === 'fwd' ? [x, w, [p.N, p.O, p.Ho, p.Wo]] : op === 'dx' ? [dy, w, [p.N, p.C, p.H, p.W]] : [dy, x, [p.O, p.C, p.kh, p.kw]];
      const out = Tensor.empty(shape, entry);
      launch({ name: entry, shader: 'lab/conv2d/naive', entry, uniforms: labUniforms(p), inputs: [a, b], outputs: [out], workgroups: grid1d(Math.ceil(out.size / 64)), flops: 0, bytes: 0 });
      return out;
    },
  };
}

const K = (TM: number, TN: number, WG: number, subgroups: boolean, unroll = 1, packWeights = false): ConvKernel => ({ TM, TN, WG, subgroups, unroll, packWeights });
const version = (k: ConvKernel): string => k.direct ? 'v7 direct' : `${(k.unroll ?? 1) > 1 ? `v5 unrolled${k.unroll === 4 ? '' : k.unroll}` : k.subgroups ? 'v4 subgroup' : 'v2 portable'}${k.packWeights ? ' +v6 packed' : ''}`;

const igemm = (op: 'fwd' | 'dx', k: ConvKernel): Variant => ({
  name: `${op} ${version(k)} ${tileName(k)}`, op, applies: k.direct ? (p) => directApplies(p, op) : undefined,
  run: ({ x, w, dy }, p) => (op === 'fwd' ? runConv2d(x, w, null, p, k) : runConv2dBackwardInput(dy, w, p, k)),
});

const splitK = (k: ConvKernel, splits?: number): Variant => ({
  name: `dw ${version(k)} ${tileName(k)}${splits ? ` splits=${splits}` : ''}`, op: 'dw', applies: k.direct ? (p) => directApplies(p, 'dw') : undefined,
  run: ({ dy, x }, p) => runConv2dBackwardWeight(dy, x, p, k, splits),
});

/** v3 forward; the weight permuted to wT [C,kh,kw,O] is part of the timed work. */
function lanesOFwd(k: ConvKernel): Variant {
  return {
    name: `fwd v3 lanes_o ${tileName(k)}`, op: 'fwd',
    run: ({ x, w }, p) => {
      const wT = runUnary('copy', w, [p.C, p.kh, p.kw, p.O], 0, 0, [p.kh * p.kw, p.kw, 1, p.C * p.kh * p.kw]);
      const y = Tensor.empty([p.N, p.O, p.Ho, p.Wo], 'lanes_o');
      launch({
        name: 'fwd_lanes_o', shader: 'lab/conv2d/lanes_o', entry: 'conv2d_fwd_lanes_o', defines: { TM: k.TM, TN: k.TN, WG: k.WG },
        uniforms: labUniforms(p), inputs: [x, wT], outputs: [y],
        workgroups: [Math.ceil((p.N * p.Ho * p.Wo) / k.TM), Math.ceil(p.O / (k.WG * k.TN)), 1], flops: 0, bytes: 0,
      });
      wT.dispose();
      return y;
    },
  };
}

function lanesODw(k: ConvKernel, splits: number): Variant {
  return {
    name: `dw v3 lanes_o ${tileName(k)} splits=${splits}`, op: 'dw',
    run: ({ x, dy }, p) => {
      const columns = p.C * p.kh * p.kw;
      const rowsPerSplit = Math.ceil((p.N * p.Ho) / splits);
      const used = Math.ceil((p.N * p.Ho) / rowsPerSplit);
      const partial = Tensor.empty([used, p.O, columns], 'lanes_o partial');
      const u = labUniforms(p, rowsPerSplit, used);
      launch({
        name: 'dw_lanes_o', shader: 'lab/conv2d/lanes_o', entry: 'conv2d_dw_lanes_o', defines: { TM: k.TM, TN: k.TN, WG: k.WG },
        uniforms: u, inputs: [x, dy], outputs: [partial],
        workgroups: [Math.ceil(columns / k.TM), Math.ceil(p.O / (k.WG * k.TN)), used], flops: 0, bytes: 0,
      });
      const dw = Tensor.empty([p.O, p.C, p.kh, p.kw], 'lanes_o dw');
      sumSplits(partial, dw, u);
      partial.dispose();
      return dw;
    },
  };
}

const portable = (TM: number, TN: number, WG: number): ConvKernel => K(TM, TN, WG, false);
const direct = (TM: number, WG: number): ConvKernel => ({ TM, TN: 4, WG, subgroups: true, direct: true });
const directDw = (TM: number, WG: number): ConvKernel => ({ TM, TN: 3, WG, subgroups: true, direct: true });
const subgroup = (TM: number, TN: number, WG: number): ConvKernel => K(TM, TN, WG, true);
const unrolled = (TM: number, TN: number, WG: number, unroll = 4): ConvKernel => K(TM, TN, WG, true, unroll);
const packed = (TM: number, TN: number, WG: number): ConvKernel => K(TM, TN, WG, true, 1, true);
const unrolledPacked = (TM: number, TN: number, WG: number): ConvKernel => K(TM, TN, WG, true, 4, true);

export const VARIANTS: Variant[] = [
  naive('fwd'),
  ...[portable(8, 4, 64), portable(8, 8, 64), portable(16, 4, 64), portable(16, 8, 16)].map((k) => igemm('fwd', k)),
  ...[portable(16, 4, 16), portable(8, 8, 8)].map(lanesOFwd),
  ...[subgroup(16, 4, 64), subgroup(32, 2, 64), subgroup(32, 4, 64), subgroup(64, 2, 64), subgroup(32, 2, 32), subgroup(16, 2, 64)].map((k) => igemm('fwd', k)),
  ...[unrolled(16, 4, 64), unrolled(32, 2, 64), unrolled(32, 2, 32), unrolled(16, 4, 32)].map((k) => igemm('fwd', k)),
  ...[packed(16, 4, 64), packed(32, 2, 64), packed(32, 2, 32), unrolledPacked(16, 4, 64), unrolledPacked(32, 2, 64)].map((k) => igemm('fwd', k)),
  naive('dx'),
  ...[portable(8, 8, 64), portable(16, 8, 16)].map((k) => igemm('dx', k)),
  ...[subgroup(16, 4, 64), subgroup(32, 2, 64), subgroup(32, 4, 64), subgroup(64, 2, 64), subgroup(16, 2, 64)].map((k) => igemm('dx', k)),
  ...[unrolled(16, 4, 64), unrolled(32, 2, 64), unrolled(32, 2, 32), unrolled(16, 4, 32)].map((k) => igemm('dx', k)),
  ...[packed(16, 4, 64), packed(32, 2, 64), packed(32, 2, 32), unrolledPacked(16, 4, 64), unrolledPacked(32, 2, 64)].map((k) => igemm('dx', k)),
  naive('dw'),
  ...[portable(8, 4, 64), portable(8, 8, 64), portable(4, 9, 64)].map((k) => splitK(k)),
  splitK(portable(8, 4, 64), 1), splitK(portable(8, 4, 64), 64),
  ...[portable(16, 4, 16), portable(16, 8, 8)].map((k) => lanesODw(k, 16)),
  ...[subgroup(16, 4, 64), subgroup(32, 2, 64), subgroup(32, 4, 64), subgroup(64, 2, 64), subgroup(16, 2, 64)].map((k) => splitK(k)),
  splitK(subgroup(32, 2, 64), 1), splitK(subgroup(32, 2, 64), 16), splitK(subgroup(32, 2, 64), 64),
  ...[unrolled(16, 4, 64), unrolled(32, 2, 64), subgroup(32, 2, 32), unrolled(32, 2, 32)].map((k) => splitK(k)),
  // Tiles for few channels and small images (the tiny preset: TINY_CONV_SHAPES, `--shape tiny`).
  ...[unrolled(16, 2, 32), unrolled(16, 8, 32), unrolled(8, 8, 32), unrolled(16, 4, 32, 3), unrolled(16, 4, 32, 2), unrolled(32, 2, 32, 3), unrolled(16, 4, 64, 3)].map((k) => igemm('fwd', k)),
  ...[unrolled(16, 2, 32), unrolled(16, 8, 32), unrolled(8, 8, 32), unrolled(32, 4, 32), unrolled(16, 4, 32, 2)].map((k) => igemm('dx', k)),
  ...[unrolled(16, 2, 32), unrolled(16, 4, 32), unrolled(16, 3, 48), unrolled(16, 9, 16), unrolled(8, 4, 32), unrolled(32, 4, 32), unrolled(32, 2, 32, 2), unrolled(16, 2, 32, 2)].map((k) => splitK(k)),
  ...[unrolled(16, 1, 32), unrolled(16, 2, 16), unrolled(16, 3, 16), unrolled(16, 1, 16), unrolled(32, 3, 48), unrolled(16, 3, 48, 2), unrolled(32, 1, 32), unrolled(32, 2, 16), unrolled(32, 3, 16), unrolled(32, 2, 16, 2), unrolled(16, 3, 16, 2), unrolled(16, 2, 16, 2), unrolled(16, 1, 16, 2)].map((k) => splitK(k)),
  // v7 direct: shaders/conv2d_3x3.wgsl (3x3 padding-1 convs only: directApplies in kernels/conv2d.ts)
  ...[direct(16, 32), direct(8, 32), direct(16, 64), direct(32, 32), direct(16, 16)].flatMap((k) => [igemm('fwd', k), igemm('dx', k)]),
  ...[directDw(16, 16), directDw(16, 32), directDw(16, 48), directDw(32, 16), directDw(8, 16), directDw(32, 32)].map((k) => splitK(k)),
  ...[4, 8, 16, 32].flatMap((splits) => [splitK(unrolled(16, 3, 16), splits), splitK(unrolled(32, 2, 16), splits)]),
];

// ---- validation against the float64 CPU references of kernels/conv2d.ts ------------------------------

export function operands(s: ConvShape, p: Conv2dPlan, seed: number): { data: Record<keyof Operands, Float32Array>; tensors: Operands } {
  const data = {
    x: normalArray(sizeOf(s.x), seed, 0, 1),
    w: normalArray(sizeOf(s.w), seed + 1, 0, 0.05),
    dy: normalArray(sizeOf(conv2dOutShape(p)), seed + 2, 0, 1),
  };
  const tensors = { x: fromArray(data.x, s.x), w: fromArray(data.w, s.w), dy: fromArray(data.dy, conv2dOutShape(p)) };
  return { data, tensors };
}

/** Small shapes that still reach every variant: a 3x3 stride-1 layer the direct kernels take (width
 *  divisible by 4), an odd one at stride 2 and an odd 1x1 stride-2 shortcut. For test/lab.test.ts. */
export const QUICK_SHAPES: ConvShape[] = [
  { id: 'q8', x: [2, 5, 8, 8], w: [12, 5, 3, 3], stride: 1, padding: 1 },
  { id: 'q9_s2', x: [1, 6, 9, 7], w: [10, 6, 3, 3], stride: 2, padding: 1 },
  { id: 'q7_1x1_s2', x: [2, 3, 7, 5], w: [9, 3, 1, 1], stride: 2, padding: 0 },
];

/** Every variant of `ops` that applies, on every shape: max |got - want| / max |want|, tolerance 1e-4.
 *  `batch1`: the shapes with batch 1 (run.ts validates the benchmark shapes that way). */
export async function validate(shapes: readonly ConvShape[] = QUICK_SHAPES, { ops = ['fwd', 'dx', 'dw'] as Op[], variants = VARIANTS, batch1 = false } = {}): Promise<Check[]> {
  const out: Check[] = [];
  for (const full of shapes) {
    const s: ConvShape = batch1 ? { ...full, x: [1, ...full.x.slice(1)] as ConvShape['x'] } : full;
    const p = planOf(s);
    const { data, tensors } = operands(s, p, 11);
    for (const op of ops) {
      const want = op === 'fwd' ? conv2dRef(data.x, data.w, null, p) : op === 'dx' ? conv2dBackwardInputRef(data.dy, data.w, p) : conv2dBackwardWeightRef(data.dy, data.x, p);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (const v of variants) {
        if (v.op !== op || !(v.applies?.(p) ?? true)) continue;
        const y = tidy(() => v.run(tensors, p));
        const got = await y.toArray();
        y.dispose();
        let err = got.length === want.length ? 0 : Infinity;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
        out.push({ variant: v.name, problem: s.id, err: Number.isNaN(err) ? Infinity : err / scale, tol: 1e-4 });
      }
    }
    Object.values(tensors).forEach((t: Tensor) => t.dispose());
  }
  return out;
}
