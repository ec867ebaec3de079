// 2-D convolution (NCHW, groups 1, dilation 1): shape plan, FLOP count, the dispatch of the three
// implicit-GEMM kernels (forward, dx, dw; shaders/conv2d.wgsl, shaders/conv2d_dw.wgsl) and of the
// direct 3x3 ones (shaders/conv2d_3x3.wgsl) with the production table that chooses among them, and
// the CPU references (plain loops, float64) the tests compare against.
import { gpu } from '../src/gpu/device.ts';
import { runUnary } from './elementwise.ts';
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, ShapeError, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  /** Only 1 is supported; accepted so that other values fail with a clear message. */
  groups?: number;
  /** Only 1 is supported; accepted so that other values fail with a clear message. */
  dilation?: number | readonly [number, number];
}

/** Every size of one convolution: x [N,C,H,W] * w [O,C,kh,kw] -> y [N,O,Ho,Wo]. */
export interface Conv2dPlan {
  N: number; C: number; H: number; W: number;
  O: number; kh: number; kw: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  Ho: number; Wo: number;
}

function pair(op: string, what: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  const [a, b] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  for (const x of [a, b]) {
    if (!Number.isInteger(x) || x < min) throw new RangeError(`${op}: ${what} must be an integer >= ${min} (or a pair of them), got ${JSON.stringify(v)}`);
  }
  return [a, b];
}

export function planConv2d(xShape: Shape, wShape: Shape, biasShape: Shape | null, opts: Conv2dOptions = {}, op = 'conv2d'): Conv2dPlan {
  if (xShape.length !== 4) throw new ShapeError(`${op}: input must be [N,C,H,W] (rank 4), got ${fmt(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`${op}: weight must be [O,C,kh,kw] (rank 4), got ${fmt(wShape)}`);
  if (opts.groups !== undefined && opts.groups !== 1) throw new RangeError(`${op}: groups=${opts.groups} is not supported (only groups 1)`);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  if (dh !== 1 || dw !== 1) throw new RangeError(`${op}: dilation ${JSON.stringify(opts.dilation)} is not supported (only dilation 1)`);
  const [strideH, strideW] = pair(op, 'stride', opts.stride, 1, 1);
  const [padH, padW] = pair(op, 'padding', opts.padding, 0, 0);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [O, Cw, kh, kw] = wShape as [number, number, number, number];
  if (Cw !== C) throw new ShapeError(`${op}: input ${fmt(xShape)} has ${C} channels but weight ${fmt(wShape)} expects ${Cw}`);
  if (biasShape && (biasShape.length !== 1 || biasShape[0] !== O)) {
    throw new ShapeError(`${op}: bias must be [${O}] for weight ${fmt(wShape)}, got ${fmt(biasShape)}`);
  }
  const Ho = Math.floor((H + 2 * padH - kh) / strideH) + 1;
  const Wo = Math.floor((W + 2 * padW - kw) / strideW) + 1;
  if (Ho <= 0 || Wo <= 0 || kh <= 0 || kw <= 0) {
    throw new ShapeError(`${op}: output size ${Ho}x${Wo} <= 0 for input ${fmt(xShape)}, kernel ${kh}x${kw}, stride ${strideH}x${strideW}, padding ${padH}x${padW}`);
  }
  return { N, C, H, W, O, kh, kw, strideH, strideW, padH, padW, Ho, Wo };
}

export const conv2dOutShape = (p: Conv2dPlan): number[] => [p.N, p.O, p.Ho, p.Wo];

/** FLOPs of the forward, and equally of dX and of dW: 2*N*O*Ho*Wo*C*kh*kw. */
export const conv2dFlops = (p: Conv2dPlan): number => 2 * p.N * p.O * p.Ho * p.Wo * p.C * p.kh * p.kw;

// ---- GPU dispatch ----------------------------------------------------------------------------------
// Subgroup kernels: shaders/conv2d.wgsl (forward, dx) and shaders/conv2d_dw.wgsl (dw partial sums),
// and for 3x3 padding-1 convs shaders/conv2d_3x3.wgsl (all three); without subgroups of at least
// SUBGROUP_LANES lanes the implicit GEMMs run from shaders/conv2d_portable.wgsl, which also holds
// the split-K sum (conv2d_dw_reduce).

/** One kernel configuration: TM output channels per workgroup, TN pixels (forward, dx) or weight
 *  columns (dw) per invocation, WG invocations per workgroup. */
export interface ConvKernel {
  TM: number;
  TN: number;
  WG: number;
  /** Share the weight (dy for dw) loads across a subgroup (TM a multiple of SUBGROUP_LANES). */
  subgroups: boolean;
  /** Subgroup kernels: channels (dw: pixels) per loop iteration. */
  unroll?: number;
  /** forward, dx: read the weights from a copy permuted to [kh*kw, CI, M] (M = output channels of the
   *  GEMM, contiguous), so that the lanes of a subgroup load neighbouring floats. */
  packWeights?: boolean;
  /** A 3x3 padding-1 conv of stride 1 or 2 (directApplies): shaders/conv2d_3x3.wgsl.
   *  forward, dx: lanes over quads of 4 neighbouring pixels of a row (TN 4 by design); dw: lanes over
   *  (c, ky), 3 weight columns each (TN 3 by design). */
  direct?: boolean;
}

/** Lanes that share one load in the subgroup kernels (their SG). */
export const SUBGROUP_LANES = 8;

export function subgroupsUsable(): boolean {
  const g = gpu();
  return g.features.has('subgroups') && (g.device.adapterInfo?.subgroupMinSize ?? 0) >= SUBGROUP_LANES;
}

const planShapes = (p: Conv2dPlan): string => `x[${p.N},${p.C},${p.H},${p.W}] w[${p.O},${p.C},${p.kh},${p.kw}] s${p.strideH}x${p.strideW} p${p.padH}x${p.padW}`;
function tileDefines(k: ConvKernel): Record<string, number> {
  if (!k.subgroups) return { TM: k.TM, TN: k.TN, WG: k.WG };
  if (k.TM % SUBGROUP_LANES !== 0) throw new RangeError(`conv2d: a subgroup kernel needs TM a multiple of ${SUBGROUP_LANES}, got ${JSON.stringify(k)}`);
  return { TM: k.TM, TN: k.TN, WG: k.WG, UNROLL: k.unroll ?? 1 };
}

/** What a forward applies to each output as the kernel stores it (the shaders' EPILOGUE), so that an
 *  inference forward skips the elementwise pass that would follow. */
export type ConvEpilogue =
  | { kind: 'prelu'; slope: Tensor }        // y = PReLU(conv), slope [O]
  | { kind: 'add'; residual: Tensor };      // y = conv + residual, residual [N,O,Ho,Wo]

const EPILOGUE_CODES = { none: 0, prelu: 1, add: 2 } as const;

/** An epilogue as a launch binds it: the shader's EPILOGUE code and the tensor it reads. */
interface EpilogueBinding {
  code: number;
  tensor: Tensor | null;
}

/** The epilogue's binding; its shape is checked against the plan. */
function epilogueBinding(e: ConvEpilogue | undefined, p: Conv2dPlan): EpilogueBinding {
  if (!e) return { code: EPILOGUE_CODES.none, tensor: null };
  const [tensor, want] = e.kind === 'prelu' ? [e.slope, [p.O]] : [e.residual, conv2dOutShape(p)];
  if (tensor.shape.join() !== want.join()) {
    const what = e.kind === 'prelu' ? 'PReLU slope (one per output channel)' : 'residual (the output\'s shape)';
    throw new ShapeError(`conv2d: the ${what} must be ${fmt(want)} for ${planShapes(p)}, got ${fmt(tensor.shape)}`);
  }
  if (tensor.dtype !== 'f32') throw new TypeError(`conv2d: the ${e.kind} epilogue needs f32, got ${tensor.dtype}`);
  return { code: EPILOGUE_CODES[e.kind], tensor };
}

/** y [N,O,Ho,Wo] = conv(x [N,C,H,W], w [O,C,kh,kw]) + bias [O] (bias optional), then the epilogue. */
export function runConv2d(x: Tensor, w: Tensor, bias: Tensor | null, p: Conv2dPlan, k = chooseKernel('fwd', p), epilogue?: ConvEpilogue): Tensor {
  const epi = epilogueBinding(epilogue, p);
  const name = epilogue ? `conv2d+${epilogue.kind}` : 'conv2d';
  const y = Tensor.empty(conv2dOutShape(p), 'conv2d'); // [N,O,Ho,Wo]
  if (k.direct) {
    launchDirect(name, x, w, bias, y, p, false, k, epi);
    return y;
  }
  const u = new Uniforms().u32(p.N, p.C, p.H, p.W, p.O, p.Ho, p.Wo, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW);
  const wt = weightsFor(w, p, false, k, u);
  launchIgemm(name, x, wt, bias, y, u, p.O, p.N * p.Ho * p.Wo, 1, false, k, p, epi);
  if (wt !== w) wt.dispose();
  return y;
}

/** dx [N,C,H,W] from dy [N,O,Ho,Wo] and w [O,C,kh,kw]: the transposed convolution, one dispatch whose
 *  z axis walks the stride's parity classes of input pixels. */
export function runConv2dBackwardInput(dy: Tensor, w: Tensor, p: Conv2dPlan, k = chooseKernel('dx', p)): Tensor {
  const dx = Tensor.empty([p.N, p.C, p.H, p.W], 'conv2d.dx');
  if (k.direct) {
    launchDirect('conv2d.dx', dy, w, null, dx, p, true, k);
    return dx;
  }
  const u = new Uniforms().u32(p.N, p.O, p.Ho, p.Wo, p.C, p.H, p.W, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW);
  const wt = weightsFor(w, p, true, k, u);
  const classPixels = p.N * Math.ceil(p.H / p.strideH) * Math.ceil(p.W / p.strideW);
  launchIgemm('conv2d.dx', dy, wt, null, dx, u, p.C, classPixels, p.strideH * p.strideW, true, k, p);
  if (wt !== w) wt.dispose();
  return dx;
}

/** The weights as the igemm kernel reads them, W[m, ci, tap] (forward: m = o, ci = c; dx: transposed,
 *  m = c, ci = o), with their strides appended to `u`: w itself, or with packWeights a copy permuted to
 *  [kh*kw, CI, M] in which the lanes of a subgroup load neighbouring floats (one cache line, not SG). */
function weightsFor(w: Tensor, p: Conv2dPlan, transposed: boolean, k: ConvKernel, u: Uniforms): Tensor {
  const taps = p.kh * p.kw;
  const [strideO, strideC] = [p.C * taps, taps]; // w [O, C, kh, kw]
  const [M, CI, strideM, strideCI] = transposed ? [p.C, p.O, strideC, strideO] : [p.O, p.C, strideO, strideC];
  if (!k.packWeights) {
    u.u32(strideM, strideCI, 1);
    return w;
  }
  u.u32(1, M, CI * M);
  return runUnary('copy', w, [taps, CI, M], 0, 0, [1, strideCI, strideM]); // [kh*kw, CI, M]
}

const NO_EPILOGUE: EpilogueBinding = { code: EPILOGUE_CODES.none, tensor: null };

function launchIgemm(name: string, img: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, u: Uniforms, channels: number, pixels: number, classes: number, backwardInput: boolean, k: ConvKernel, p: Conv2dPlan, epi = NO_EPILOGUE): void {
  launch({
    name, shader: k.subgroups ? 'conv2d' : 'conv2d_portable', entry: 'conv2d_igemm',
    constants: { BACKWARD_INPUT: backwardInput ? 1 : 0, HAS_BIAS: bias ? 1 : 0, EPILOGUE: epi.code },
    defines: tileDefines(k),
    uniforms: u,
    // Without a bias or an epilogue the binding still needs a buffer: w stands in, never read.
    inputs: [img, w, bias ?? w, epi.tensor ?? w], outputs: [out],
    workgroups: [Math.ceil(pixels / (k.WG * k.TN)), Math.ceil(channels / k.TM), classes],
    flops: conv2dFlops(p), bytes: 4 * (img.size + w.size + out.size + (epi.tensor?.size ?? 0)),
    shapes: planShapes(p),
  });
}

/** The convolutions shaders/conv2d_3x3.wgsl handles: 3x3, padding 1, output width divisible by 4 (a
 *  row splits into vec4 quads); stride 1, or (forward, dw) stride 2 of a width divisible by 8. */
export function directApplies(p: Conv2dPlan, op: ConvOp): boolean {
  if (p.kh !== 3 || p.kw !== 3 || p.padH !== 1 || p.padW !== 1 || p.strideH !== p.strideW) return false;
  if (p.strideW === 1) return p.W % 4 === 0;
  return p.strideW === 2 && op !== 'dx' && p.W % 8 === 0;
}

/** forward (img = x, out = y, M = O) or dx (img = dy, out = dx, M = C, the weights read transposed). */
function launchDirect(name: string, img: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2dPlan, backwardInput: boolean, k: ConvKernel, epi = NO_EPILOGUE): void {
  checkDirect(name, p, backwardInput ? 'dx' : 'fwd');
  const [M, CI] = backwardInput ? [p.C, p.O] : [p.O, p.C];
  const [strideO, strideC] = [p.C * 9, 9]; // w [O, C, 3, 3]
  const [strideM, strideCI] = backwardInput ? [strideC, strideO] : [strideO, strideC];
  const [inH, inW, outH, outW] = backwardInput ? [p.Ho, p.Wo, p.H, p.W] : [p.H, p.W, p.Ho, p.Wo];
  launch({
    name, shader: 'conv2d_3x3', entry: 'conv2d_3x3',
    constants: { BACKWARD_INPUT: backwardInput ? 1 : 0, HAS_BIAS: bias ? 1 : 0, STRIDE: p.strideW, EPILOGUE: epi.code },
    defines: { TM: k.TM, WG: k.WG },
    uniforms: new Uniforms().u32(p.N, CI, inH, inW, M, outH, outW, strideM, strideCI, 1),
    // the slope binds as floats, the residual as vec4s (shaders/conv2d_3x3.wgsl epilogue4)
    inputs: [img, w, bias ?? w, epi.code === EPILOGUE_CODES.prelu ? epi.tensor! : w, epi.code === EPILOGUE_CODES.add ? epi.tensor! : w], outputs: [out],
    workgroups: [Math.ceil((p.N * outH * outW) / 4 / k.WG), Math.ceil(M / k.TM), 1],
    flops: conv2dFlops(p), bytes: 4 * (img.size + w.size + out.size + (epi.tensor?.size ?? 0)),
    shapes: planShapes(p),
  });
}

function checkDirect(name: string, p: Conv2dPlan, op: ConvOp): void {
  if (!directApplies(p, op)) {
    throw new RangeError(`${name}: the direct 3x3 kernel needs padding 1, stride 1 and a width divisible by 4 or (not dx) stride 2 and a width divisible by 8, got ${planShapes(p)}`);
  }
}

/** dw [O,C,kh,kw] from dy [N,O,Ho,Wo] and x [N,C,H,W]: split-K partial sums, then their sum. */
export function runConv2dBackwardWeight(dy: Tensor, x: Tensor, p: Conv2dPlan, k = chooseKernel('dw', p), splits = dwSplits(p, k)): Tensor {
  const columns = p.C * p.kh * p.kw;
  const dw = Tensor.empty([p.O, p.C, p.kh, p.kw], 'conv2d.dw');
  const rows = p.N * p.Ho;
  // The partial sums stay within DW_PARTIAL_BYTES (a storage binding is limited, 128 MiB here).
  const affordable = Math.max(1, Math.floor(DW_PARTIAL_BYTES / (4 * p.O * columns)));
  const rowsPerSplit = Math.ceil(rows / Math.min(splits, affordable));
  const used = Math.ceil(rows / rowsPerSplit);
  const u = new Uniforms().u32(p.N, p.C, p.H, p.W, p.O, p.Ho, p.Wo, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, rowsPerSplit, used);
  // One split writes dw itself; more write partial sums [splits, O, C*kh*kw] that a second pass adds.
  const partial = used === 1 ? dw : Tensor.empty([used, p.O, columns], 'conv2d.dw partial');
  if (k.direct) checkDirect('conv2d.dw', p, 'dw');
  launch({
    name: 'conv2d.dw',
    // direct: an invocation owns 3 columns (c, ky, 0..2) and reads x both by vec4 and by float
    ...(k.direct ? { shader: 'conv2d_3x3', entry: 'conv2d_dw_3x3', constants: { STRIDE: p.strideW }, defines: { TM: k.TM, WG: k.WG }, inputs: [x, x, dy] }
      : { shader: k.subgroups ? 'conv2d_dw' : 'conv2d_portable', entry: 'conv2d_dw_partial', defines: tileDefines(k), inputs: [x, dy] }),
    uniforms: u, outputs: [partial],
    workgroups: [Math.ceil(columns / (k.WG * k.TN)), Math.ceil(p.O / k.TM), used],
    flops: conv2dFlops(p), bytes: 4 * (x.size + dy.size + partial.size),
    shapes: planShapes(p),
  });
  if (partial !== dw) {
    sumSplits(partial, dw, u);
    partial.dispose();
  }
  return dw;
}

/** dw = sum of partial [splits, O, C*kh*kw] over its first axis; `u` carries the dw uniforms. */
export function sumSplits(partial: Tensor, dw: Tensor, u: Uniforms): void {
  launch({
    name: 'conv2d.dw_reduce', shader: 'conv2d_portable', entry: 'conv2d_dw_reduce',
    uniforms: u, inputs: [partial], outputs: [dw],
    workgroups: grid1d(Math.ceil(dw.size / 64)),
    flops: partial.size, bytes: 4 * (partial.size + dw.size),
    shapes: `${fmt(partial.shape)} -> ${fmt(dw.shape)}`,
  });
}

/** Splits of the N*Ho rows of dy so that the dw partial pass has about DW_TARGET_WORKGROUPS. */
const DW_TARGET_WORKGROUPS = 32;
const DW_PARTIAL_BYTES = 64 * 2 ** 20;
export function dwSplits(p: Conv2dPlan, k: ConvKernel): number {
  const tiles = Math.ceil((p.C * p.kh * p.kw) / (k.WG * k.TN)) * Math.ceil(p.O / k.TM);
  return Math.max(1, Math.min(p.N * p.Ho, Math.ceil(DW_TARGET_WORKGROUPS / tiles)));
}

// ---- production choice per shape class ----------------------------------------------------------
// GFLOP/s from `npx tsx kernels/lab/conv2d/run.ts --rounds 5` (batch 8; median of interleaved rounds;
// other jobs shared the 2 cores, about one was free). v5 = subgroup kernel with UNROLL 4 (the choice),
// v4 = the same without unrolling (its best tile), v2 = portable kernel (its best tile). Tiles are
// TMxTN/WG. Differences under ~15% are within this machine's noise; 3x3 vs 1x1 and stride 1 vs 2
// made no consistent difference, the output image size did (small images: fewer pixels per workgroup).
//
// class (Ho*Wo)  shape       fwd: chosen  v4   v2    dx: chosen  v4   v2    dw: chosen  v4   v2
// large (> 64)   56 3x3 s1   32x2/32 11.0  8.7  7.2   16x4/32 11.1 10.3  7.0   32x2/32 11.9  9.1  3.3
//                28 3x3 s1           11.7  8.8  7.0           10.8 10.7  6.8           11.2  9.0  3.6
//                14 3x3 s1            9.6  7.5  6.9           11.2  8.5  6.8            9.1  9.4  4.1
//                56 3x3 s2           10.7  9.3  7.0            7.2  7.5  6.0           11.6  8.9  3.2
//                28 3x3 s2           11.1  9.2  7.0            9.2  7.4  6.1           10.3  9.6  3.5
//                56 1x1 s2            6.7  6.8  5.0            4.3  4.0  2.9            8.5  8.0  1.0
//                28 1x1 s2            8.8  8.3  4.5            8.6  6.4  4.7            7.6  8.0  2.0
// small (<= 64)  7 3x3 s1    16x4/32  8.7  6.7  5.2   16x4/32  7.7  7.2  5.1   32x2/32  7.5  7.6  3.6
//                14 3x3 s2            8.9  6.9  5.1            6.9  6.9  5.0            8.3  8.3  3.7
//                14 1x1 s2            8.2  7.7  4.8            6.6  6.2  4.3            4.8  7.7  3.9
// Without subgroups (of >= SUBGROUP_LANES lanes) the v2 portable kernels run: 16x8/16, dw 8x4/64.
//
// Then, for the tiny/demo presets (iresnet18 x0.25 at 32x32, batch 32: few channels, small images;
// lab `--shape tiny`, TINY_CONV_SHAPES) and re-measured on the 112 shapes they touch: one lab run per
// block, 5-7 interleaved rounds, median GFLOP/s; a training job shared the machine at times, so
// compare within a row (the 112 rows: one 9-round run on an idler machine, hence higher numbers).
// "was" = the table above's choice on that shape.
// 1. direct (v7, shaders/conv2d_3x3.wgsl) for every 3x3 padding-1 conv of stride 1 and a width
//    divisible by 4, or (forward, dw) of stride 2 and a width divisible by 8 (most FLOPs of both
//    models); dw TM 16 when O <= 16, else 32:
//      shape                fwd: direct 16x4/32  was     dx: direct 16x4/32  was     dw: direct  was
//      56 (8,64->64)             21.4            18.2        23.6            20.0        29.2 32x3   19.6
//      28 (8,128->128)           22.5            19.2        23.3            20.2        27.8 32x3   18.4
//      t32_c3 (32,3->16)          7.0             1.8         -                          11.8 16x3    1.9
//      t32 (32,16->16)            9.3             5.1         9.2             8.6        21.2 16x3    4.9
//      t16 (32,16->16)           18.4             4.1        19.2            13.1        17.2 16x3    6.2
//      t8 (32,32->32)            20.4            15.0        20.0            15.1        17.7 32x3   11.0
//      t4 (32,64->64)            20.8            11.0        21.1            12.3        13.8 32x3    9.2
//      t16_o32 / t8_o64 / t4_o128 (dw)                                                24.5 / 21.1 / 18.0 32x3
//                                                                                    was 11.5 / 12.4 / 11.6
//      stride 2: 56_s2 (8,64->128)  20.5            15.6         (dx: igemm)          29.4 32x3   18.0
//      t32_s2 (32,16->16)         8.5             3.7                                10.9 16x3    3.3
//      t16_s2 (32,32->32)        17.7            14.0                                12.9 32x3   10.1
//      t8_s2 (32,64->64)         11.6             9.6                                16.1 32x3    4.6
// 2. "narrow" (GEMM rows <= 32: forward, dw O; dx C): TM 16; dw 16x3/16 with UNROLL 2 (WG 16 needs
//    fewer splits; TM 32 on 16 channels wastes half). Measured before the direct kernels took these
//    shapes: dw t32_s2 4.7 -> 13.2, t16_s2 11.4 -> 13.5, forward t32_s2 2.7 -> 3.9; what still runs
//    them in the tiny model, the 1x1 stride-2 shortcuts: dw 0.5-1.5 -> 3.1-3.7 (TN fitted to 16
//    columns: 1).
// 3. "small" dw: 32x2/16 with UNROLL 2: t2 3.1 -> 7.5, t4_s2 3.5 -> 9.2 (t8_s2 4.7 -> 11.8, now
//    direct), and the 112 model's 7 14.2 -> 15.4, 14_s2 11.8 -> 13.2, 14_1x1_s2 10.8 -> 12.2 (9 rounds,
//    an idler machine than the other rows; an earlier run: 7.5 -> 9.1, 7.9 -> 8.3, 7.1 -> 7.7). "large" dw
//    stays 32x2/32 UNROLL 4 (56, 28, 56_s2, 28_1x1_s2: UNROLL 2 and WG 16 within noise).
// 4. UNROLL never past the loop it unrolls, dw TN never past the layer's columns (chooseKernel).

export type ConvOp = 'fwd' | 'dx' | 'dw';
type ShapeClass = 'large' | 'small' | 'narrow';
const v5 = (TM: number, TN: number, WG: number, unroll = 4): ConvKernel => ({ TM, TN, WG, subgroups: true, unroll });
const v2 = (TM: number, TN: number, WG: number): ConvKernel => ({ TM, TN, WG, subgroups: false });

const PRODUCTION: Record<ShapeClass, Record<ConvOp, ConvKernel>> = {
  large: { fwd: v5(32, 2, 32), dx: v5(16, 4, 32), dw: v5(32, 2, 32) },
  small: { fwd: v5(16, 4, 32), dx: v5(16, 4, 32), dw: v5(32, 2, 16, 2) },
  narrow: { fwd: v5(16, 4, 32), dx: v5(16, 4, 32), dw: v5(16, 3, 16, 2) },
};
const PORTABLE: Record<ConvOp, ConvKernel> = { fwd: v2(16, 8, 16), dx: v2(16, 8, 16), dw: v2(8, 4, 64) };
/** The convs directApplies() accepts, at every size (shaders/conv2d_3x3.wgsl); dw with TM 16 when
 *  there are at most 16 output channels. */
const direct = (TM: number, TN: number, WG: number): ConvKernel => ({ TM, TN, WG, subgroups: true, direct: true });
const DIRECT = { fwd: direct(16, 4, 32), dx: direct(16, 4, 32), dw: direct(32, 3, 16), dwNarrow: direct(16, 3, 16) };

/** Rows of the GEMM a workgroup tiles TM at a time: output channels (forward, dw), input channels (dx). */
const gemmRows = (op: ConvOp, p: Conv2dPlan): number => (op === 'dx' ? p.C : p.O);
/** Length of the loop the subgroup kernels unroll: the channels summed (forward C, dx O); dw a dy row. */
const unrolledLoop = (op: ConvOp, p: Conv2dPlan): number => (op === 'fwd' ? p.C : op === 'dx' ? p.O : p.Wo);

function shapeClass(op: ConvOp, p: Conv2dPlan): ShapeClass {
  if (gemmRows(op, p) <= 32) return 'narrow';
  return p.Ho * p.Wo > 64 ? 'large' : 'small';
}

export function chooseKernel(op: ConvOp, p: Conv2dPlan): ConvKernel {
  if (!subgroupsUsable()) return PORTABLE[op];
  if (directApplies(p, op)) return op === 'dw' && p.O <= 16 ? DIRECT.dwNarrow : DIRECT[op];
  const k = PRODUCTION[shapeClass(op, p)][op];
  // Never unroll past the loop's end (those FMAs multiply zeros): the first layer's 3 input channels.
  const unroll = Math.min(k.unroll ?? 1, unrolledLoop(op, p));
  // dw: never give a lane more weight columns than the layer has (3 input channels x 3x3 taps = 27,
  // a 1x1 shortcut from 16 channels = 16): the columns past the end are computed and dropped.
  const TN = op === 'dw' ? Math.min(k.TN, Math.ceil((p.C * p.kh * p.kw) / k.WG)) : k.TN;
  return unroll === k.unroll && TN === k.TN ? k : { ...k, unroll, TN };
}

/** Every distinct (op, kernel) the tables can choose here (the tests run each on odd shapes). */
export function productionKernels(): [ConvOp, ConvKernel][] {
  const { dwNarrow, ...directByOp } = DIRECT;
  const tables: Record<ConvOp, ConvKernel>[] = [...(subgroupsUsable() ? [...Object.values(PRODUCTION), directByOp, { ...directByOp, dw: dwNarrow }] : []), PORTABLE];
  const all = tables.flatMap((byOp) => Object.entries(byOp) as [ConvOp, ConvKernel][]);
  return all.filter(([op, k], i) => all.findIndex(([o, other]) => o === op && JSON.stringify(other) === JSON.stringify(k)) === i);
}

// ---- CPU references (float64 accumulation) -------------------------------------------------------

/** Calls fn(xIndex, wIndex, yIndex) for every multiply y[yIndex] += x[xIndex] * w[wIndex] of the
 *  convolution whose input pixel lies inside the image (padding adds zeros). All three references walk it. */
function forEachTap(p: Conv2dPlan, fn: (xi: number, wi: number, yi: number) => void): void {
  for (let n = 0; n < p.N; n++) {
    for (let o = 0; o < p.O; o++) {
      for (let oy = 0; oy < p.Ho; oy++) {
        for (let ox = 0; ox < p.Wo; ox++) {
          const yi = ((n * p.O + o) * p.Ho + oy) * p.Wo + ox;
          for (let c = 0; c < p.C; c++) {
            for (let ky = 0; ky < p.kh; ky++) {
              const iy = oy * p.strideH + ky - p.padH;
              if (iy < 0 || iy >= p.H) continue;
              for (let kx = 0; kx < p.kw; kx++) {
                const ix = ox * p.strideW + kx - p.padW;
                if (ix < 0 || ix >= p.W) continue;
                fn(((n * p.C + c) * p.H + iy) * p.W + ix, ((o * p.C + c) * p.kh + ky) * p.kw + kx, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** y [N,O,Ho,Wo] = conv(x [N,C,H,W], w [O,C,kh,kw]) + bias [O] */
export function conv2dRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, p: Conv2dPlan): Float64Array {
  const y = new Float64Array(p.N * p.O * p.Ho * p.Wo);
  forEachTap(p, (xi, wi, yi) => {
    y[yi] = y[yi]! + x[xi]! * w[wi]!;
  });
  if (bias) for (let i = 0; i < y.length; i++) y[i] = y[i]! + bias[Math.floor(i / (p.Ho * p.Wo)) % p.O]!;
  return y;
}

/** dx [N,C,H,W] = d(sum(y * dy))/dx, dy [N,O,Ho,Wo] */
export function conv2dBackwardInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, p: Conv2dPlan): Float64Array {
  const dx = new Float64Array(p.N * p.C * p.H * p.W);
  forEachTap(p, (xi, wi, yi) => {
    dx[xi] = dx[xi]! + dy[yi]! * w[wi]!;
  });
  return dx;
}

/** dw [O,C,kh,kw] = d(sum(y * dy))/dw */
export function conv2dBackwardWeightRef(dy: ArrayLike<number>, x: ArrayLike<number>, p: Conv2dPlan): Float64Array {
  const dw = new Float64Array(p.O * p.C * p.kh * p.kw);
  forEachTap(p, (xi, wi, yi) => {
    dw[wi] = dw[wi]! + dy[yi]! * x[xi]!;
  });
  return dw;
}
