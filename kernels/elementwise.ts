// Elementwise kernels (shaders/elementwise.wgsl): dispatch, cost, and the CPU reference.
import { gpu } from '../src/gpu/device.ts';
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { broadcastShapes, broadcastStrides, sizeOf, stridesOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';

export const UNARY_OPS = {
  neg: 0, exp: 1, log: 2, sqrt: 3, relu: 4, pow: 5, clamp: 6, affine: 7, abs: 8, tanh: 9, sigmoid: 10, copy: 11, sign: 12,
} as const;
export type UnaryOp = keyof typeof UNARY_OPS;

export const BINARY_OPS = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, gt: 7, relu_grad: 8, clamp_grad: 9, atan2: 10,
} as const;
export type BinaryOp = keyof typeof BINARY_OPS;

const WG = 256;
const MAX_RANK = 8;
/**
 * Workgroups of a grid-stride launch (see shaders/elementwise.wgsl). On the CPU adapter (2 cores) 8-32
 * looping workgroups measured 1.5-2.4x faster than one workgroup per 256 elements on [8,64,56,56]
 * (bench/elementwise.bench.ts; add 21.2 -> 8.6-15.6 ms, noisy machine); a GPU wants them all.
 * LOWBIT_EW_WORKGROUPS overrides, for re-measuring.
 */
export function elementwiseGrid(n: number, how: EwLaunch = {}): [number, number, number] {
  const cap = how.maxWorkgroups ?? Number(process.env.LOWBIT_EW_WORKGROUPS ?? (gpu().isCpuAdapter ? 32 : 4096));
  return grid1d(Math.min(Math.ceil(n / WG), cap));
}

/** How runUnary / runBinary launch; the defaults are the production choice (kernels/lab/elementwise
 *  times the others against it). */
export interface EwLaunch {
  /** At most this many looping workgroups (Infinity: one per 256 elements, no loop). */
  maxWorkgroups?: number;
  /** Take the strided index path even where the contiguous or repeat path applies. */
  strided?: boolean;
  /** false: contiguous operands by scalar loads even when the size is a multiple of 4. */
  vec4?: boolean;
}

/**
 * Merges adjacent dimensions that every operand walks contiguously (or broadcasts along both), so the
 * shader's index loop runs over as few dimensions as possible: [8,64,56,56] + [64,1,1] becomes
 * [8,64,3136] with strides [0,1,0] for the bias.
 */
export function coalesce(shape: Shape, ...strides: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * size);
    if (mergeable) {
      outShape[last] = outShape[last]! * size;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(size);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** How the shader turns an element id into operand indices (its INDEXING), and each operand's (inner,
 *  period) for the repeat path: index = (i / inner) % period. */
interface Indexing {
  mode: 0 | 1 | 2;
  repeats: [number, number][];
}

/**
 * The cheapest indexing that fits every operand (strides over the coalesced output `shape`): contiguous
 * when all are (coalescing then leaves one dimension); repeat when each is contiguous or spans one
 * dimension with stride 1 and broadcasts over the others (a scalar, a per-channel bias over NCHW, a
 * row, a column): 3.3x faster than the strided walk on a bias add in the same run (kernels/lab/elementwise);
 * strided otherwise, or when `how.strided` forces it.
 */
function indexingFor(shape: number[], strides: number[][], how: EwLaunch): Indexing {
  const n = sizeOf(shape);
  const dense = stridesOf(shape);
  const contiguous = (st: number[]): boolean => st.every((v, d) => v === dense[d]);
  const repeatOf = (st: number[]): [number, number] | null => {
    if (contiguous(st)) return [1, n];
    const spans = st.flatMap((v, d) => (v === 0 ? [] : [d]));
    if (spans.length === 0) return [1, 1];                                          // a scalar
    const d = spans[0]!;
    return spans.length === 1 && st[d] === 1 ? [sizeOf(shape.slice(d + 1)), shape[d]!] : null;
  };
  const repeats = strides.map(repeatOf);
  if (how.strided || repeats.some((r) => r === null)) return { mode: 2, repeats: strides.map(() => [1, n]) };
  return { mode: strides.every(contiguous) ? 0 : 1, repeats: repeats as [number, number][] };
}

/** Contiguous operands of a size divisible by 4 go by vec4 loads (the *_vec4 entry points). */
const useVec4 = (mode: Indexing['mode'], n: number, how: EwLaunch): boolean => mode === 0 && n % 4 === 0 && how.vec4 !== false;

function checkRank(name: string, rank: number): void {
  if (rank > MAX_RANK) throw new Error(`${name}: the strided kernel handles up to ${MAX_RANK} non-mergeable dimensions, got ${rank}`);
}

/** y = op(x); x is read through `xStrides` (element strides laid over outShape: permute, expand) when given. */
export function runUnary(op: UnaryOp, x: Tensor, outShape: Shape = x.shape, s0 = 0, s1 = 0, xStrides?: number[], how: EwLaunch = {}): Tensor {
  const y = Tensor.empty(outShape, op);
  const merged = coalesce(outShape, xStrides ?? stridesOf(outShape));
  checkRank(op, merged.shape.length);
  const { mode, repeats: [rx] } = indexingFor(merged.shape, merged.strides, how);
  const byVec4 = useVec4(mode, y.size, how);
  launch({
    name: `unary.${op}`, shader: 'elementwise', entry: byVec4 ? 'unary_vec4' : 'unary',
    constants: { OP: UNARY_OPS[op], INDEXING: mode },
    uniforms: new Uniforms().u32(y.size, merged.shape.length).f32(s0, s1).u32(...rx!, 1, y.size)
      .u32x4(merged.shape, 2, 1).u32x4(merged.strides[0]!, 2).u32x4([], 2),
    inputs: [x], outputs: [y],
    workgroups: elementwiseGrid(byVec4 ? y.size / 4 : y.size, how),
    flops: y.size, bytes: 8 * y.size,
  });
  return y;
}

/** c = op(a, b) with NumPy broadcasting. */
export function runBinary(op: BinaryOp, a: Tensor, b: Tensor, s0 = 0, s1 = 0, how: EwLaunch = {}): Tensor {
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const c = Tensor.empty(outShape, op);
  const n = c.size;
  const merged = coalesce(outShape, broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
  checkRank(op, merged.shape.length);
  const { mode, repeats: [ra, rb] } = indexingFor(merged.shape, merged.strides, how);
  const byVec4 = useVec4(mode, n, how);
  launch({
    name: `binary.${op}`, shader: 'elementwise', entry: byVec4 ? 'binary_vec4' : 'binary',
    constants: { OP: BINARY_OPS[op], INDEXING: mode },
    uniforms: new Uniforms().u32(n, merged.shape.length).f32(s0, s1).u32(...ra!, ...rb!)
      .u32x4(merged.shape, 2, 1).u32x4(merged.strides[0]!, 2).u32x4(merged.strides[1]!, 2),
    inputs: [a, b], outputs: [c],
    workgroups: elementwiseGrid(byVec4 ? n / 4 : n, how),
    flops: n, bytes: 4 * (a.size + b.size + n),
  });
  return c;
}

export function runFill(shape: Shape, value: number, op = 'fill'): Tensor {
  const y = Tensor.empty(shape, op);
  launch({
    name: 'fill', shader: 'elementwise', entry: 'fill',
    uniforms: new Uniforms().u32(y.size, 1).f32(value, 0).u32(1, y.size, 1, y.size).u32x4([], 2).u32x4([], 2).u32x4([], 2),
    inputs: [], outputs: [y],
    workgroups: elementwiseGrid(y.size),
    flops: 0, bytes: 4 * y.size,
  });
  return y;
}

// ---- CPU reference (float64) ---------------------------------------------------------------------

export function unaryRef(op: UnaryOp, x: ArrayLike<number>, s0 = 0, s1 = 0): Float64Array {
  const f = (v: number): number => {
    switch (op) {
      case 'neg': return -v;
      case 'exp': return Math.exp(v);
      case 'log': return Math.log(v);
      case 'sqrt': return Math.sqrt(v);
      case 'relu': return Math.max(v, 0);
      case 'pow': return s0 === 0 ? 1 : Math.pow(v, s0);
      case 'clamp': return Math.min(Math.max(v, s0), s1);
      case 'affine': return s0 * v + s1;
      case 'abs': return Math.abs(v);
      case 'tanh': return Math.tanh(v);
      case 'sigmoid': return 1 / (1 + Math.exp(-v));
      case 'copy': return v;
      case 'sign': return Math.sign(v);
    }
  };
  return Float64Array.from(x, f);
}

export function binaryRef(op: BinaryOp, a: ArrayLike<number>, aShape: Shape, b: ArrayLike<number>, bShape: Shape, s0 = 0, s1 = 0): { data: Float64Array; shape: number[] } {
  const shape = broadcastShapes(op, aShape, bShape);
  const sa = broadcastStrides(aShape, shape);
  const sb = broadcastStrides(bShape, shape);
  const outStrides = stridesOf(shape);
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(i / outStrides[d]!) % shape[d]!;
      ia += c * sa[d]!;
      ib += c * sb[d]!;
    }
    const x = a[ia]!;
    const y = b[ib]!;
    switch (op) {
      case 'add': data[i] = x + y; break;
      case 'sub': data[i] = x - y; break;
      case 'mul': data[i] = x * y; break;
      case 'div': data[i] = x / y; break;
      case 'maximum': data[i] = Math.max(x, y); break;
      case 'minimum': data[i] = Math.min(x, y); break;
      case 'eq': data[i] = x === y ? 1 : 0; break;
      case 'gt': data[i] = x > y ? 1 : 0; break;
      case 'relu_grad': data[i] = y > 0 ? x : 0; break;
      case 'clamp_grad': data[i] = y >= s0 && y <= s1 ? x : 0; break;
      case 'atan2': data[i] = Math.atan2(x, y); break;
    }
  }
  return { data, shape };
}
