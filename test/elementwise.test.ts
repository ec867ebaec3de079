import { describe, expect, it } from 'vitest';
import { binaryRef, coalesce, runBinary, runUnary, unaryRef, type BinaryOp } from '../kernels/elementwise.ts';
import * as ops from '../src/ops/elementwise.ts';
import { fromArray } from '../src/ops/creation.ts';
import { expand, permute, reshape, transpose } from '../src/ops/layout.ts';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../src/shape.ts';
import { checkOp } from './check-op.ts';
import { data, expectClose } from './helpers.ts';

// Shapes chosen to not be multiples of the 256-wide workgroup, plus batch 1 and scalars.
const SHAPES: Shape[] = [[1], [7], [3, 5], [1, 4, 9], [2, 3, 4, 5], [300]];

const positive = (shape: Shape, seed: number): number[] => Array.from(data(sizeOf(shape), seed), (v) => Math.abs(v) + 0.5);
// Values kept away from kinks (0 for relu/abs, the clamp bounds) so finite differences are valid there.
const awayFromKinks = (shape: Shape, seed: number, kinks: number[]): number[] =>
  Array.from(data(sizeOf(shape), seed), (v) => (kinks.some((k) => Math.abs(v - k) < 0.05) ? v + 0.1 : v));

describe('unary ops: GPU vs float64 reference, gradients vs finite differences', () => {
  const cases: { name: string; gpu: (x: import('../src/tensor.ts').Tensor) => import('../src/tensor.ts').Tensor; ref: (x: Float64Array) => ArrayLike<number>; values?: (s: Shape) => number[] }[] = [
    { name: 'neg', gpu: ops.neg, ref: (x) => unaryRef('neg', x) },
    { name: 'exp', gpu: ops.exp, ref: (x) => unaryRef('exp', x) },
    { name: 'log', gpu: ops.log, ref: (x) => unaryRef('log', x), values: (s) => positive(s, 3) },
    { name: 'sqrt', gpu: ops.sqrt, ref: (x) => unaryRef('sqrt', x), values: (s) => positive(s, 4) },
    { name: 'relu', gpu: ops.relu, ref: (x) => unaryRef('relu', x), values: (s) => awayFromKinks(s, 5, [0]) },
    { name: 'abs', gpu: ops.abs, ref: (x) => unaryRef('abs', x), values: (s) => awayFromKinks(s, 6, [0]) },
    { name: 'tanh', gpu: ops.tanh, ref: (x) => unaryRef('tanh', x) },
    { name: 'sigmoid', gpu: ops.sigmoid, ref: (x) => unaryRef('sigmoid', x) },
    { name: 'pow 3', gpu: (x) => ops.pow(x, 3), ref: (x) => unaryRef('pow', x, 3) },
    { name: 'pow 2.5 (positive base)', gpu: (x) => ops.pow(x, 2.5), ref: (x) => unaryRef('pow', x, 2.5), values: (s) => positive(s, 8) },
    { name: 'pow -1', gpu: (x) => ops.pow(x, -1), ref: (x) => unaryRef('pow', x, -1), values: (s) => positive(s, 9) },
    { name: 'clamp', gpu: (x) => ops.clamp(x, -0.5, 0.7), ref: (x) => unaryRef('clamp', x, -0.5, 0.7), values: (s) => awayFromKinks(s, 10, [-0.5, 0.7]) },
    { name: 'add scalar', gpu: (x) => ops.add(x, 2.5), ref: (x) => unaryRef('affine', x, 1, 2.5) },
    { name: 'mul scalar', gpu: (x) => ops.mul(x, -3), ref: (x) => unaryRef('affine', x, -3, 0) },
    { name: 'div scalar', gpu: (x) => ops.div(x, 4), ref: (x) => unaryRef('affine', x, 0.25, 0) },
  ];
  for (const c of cases) {
    for (const shape of [SHAPES[0]!, SHAPES[3]!, SHAPES[5]!]) {
      it(`${c.name} ${JSON.stringify(shape)}`, () =>
        checkOp({
          label: c.name,
          inputs: [{ shape, values: c.values?.(shape) }],
          gpu: ([x]) => c.gpu(x!),
          ref: ([x]) => c.ref(x!),
          fwd: { atol: 1e-5, rtol: 2e-5 },
        }));
    }
  }

  it('pow keeps torch semantics at the edges: x**0 = 1, negative base with integer exponent, NaN for fractional', async () => {
    const x = fromArray([0, -2, -2, -2, 2], [5]);
    const out = [await ops.pow(x, 0).toArray(), await ops.pow(x, 3).toArray(), await ops.pow(x, 2).toArray(), await ops.pow(x, 0.5).toArray()];
    expect(Array.from(out[0]!)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(out[1]!)).toEqual([0, -8, -8, -8, 8]);
    expect(Array.from(out[2]!)).toEqual([0, 4, 4, 4, 4]);
    expect(Number.isNaN(out[3]![1]!)).toBe(true);
    expect(out[3]![4]).toBeCloseTo(Math.SQRT2, 6);
  });

  it('handles large values without overflow where the math allows it', async () => {
    const x = fromArray([1e30, -1e30, 80, -80], [4]);
    expectClose(await ops.sigmoid(x).toArray(), [1, 0, 1, 1.8048513878454153e-35], { atol: 1e-30, rtol: 1e-5 }, 'sigmoid');
    expectClose(await ops.tanh(x).toArray(), [1, -1, 1, -1], { atol: 0, rtol: 1e-6 }, 'tanh');
    expect(Array.from(await ops.exp(fromArray([100], [1])).toArray())).toEqual([Infinity]);
  });
});

describe('binary ops with broadcasting (forward and reduced-back gradients)', () => {
  const pairs: [Shape, Shape][] = [
    [[7], [7]],
    [[3, 5], [5]],
    [[3, 5], [3, 1]],
    [[1, 4, 1], [3, 1, 6]],
    [[2, 3, 4, 5], [1]],
    [[2, 1, 4, 5], [3, 1, 1]],
    [[300], []],
  ];
  const binary: [BinaryOp, (a: import('../src/tensor.ts').Tensor, b: import('../src/tensor.ts').Tensor) => import('../src/tensor.ts').Tensor][] = [
    ['add', ops.add], ['sub', ops.sub], ['mul', ops.mul], ['div', ops.div],
  ];
  for (const [name, fn] of binary) {
    for (const [sa, sb] of pairs) {
      it(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, () =>
        checkOp({
          label: `${name} ${sa} ${sb}`,
          inputs: [{ shape: sa }, { shape: sb, values: name === 'div' ? positive(sb, 11) : undefined }],
          gpu: ([a, b]) => fn(a!, b!),
          ref: ([a, b]) => binaryRef(name, a!, sa, b!, sb).data,
          fwd: { atol: 1e-5, rtol: 2e-5 },
        }));
    }
  }

  it('comparison ops give 1/0 masks', async () => {
    const a = fromArray([1, 2, 3, 4], [4]);
    const b = fromArray([2], [1]);
    expect(Array.from(await ops.eq(a, b).toArray())).toEqual([0, 1, 0, 0]);
    expect(Array.from(await ops.gt(a, b).toArray())).toEqual([0, 0, 1, 1]);
  });
});

describe('layout ops', () => {
  it('reshape is a view with -1 inference and passes gradients through', () =>
    checkOp({ label: 'reshape', inputs: [{ shape: [2, 6] }], gpu: ([x]) => ops.mul(reshape(x!, [3, -1]), 2), ref: ([x]) => x!.map((v) => 2 * v), shape: [3, 4] }));

  it('permute matches an index-by-index transpose', () =>
    checkOp({
      label: 'permute', inputs: [{ shape: [2, 3, 4] }], gpu: ([x]) => permute(x!, [2, 0, 1]), shape: [4, 2, 3],
      ref: ([x]) => {
        const out: number[] = [];
        for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) out.push(x![i * 12 + j * 4 + k]!);
        return out;
      },
    }));

  it('transpose of the last two axes', () =>
    checkOp({
      label: 'transpose', inputs: [{ shape: [3, 5] }], gpu: ([x]) => transpose(x!), shape: [5, 3],
      ref: ([x]) => Array.from({ length: 15 }, (_, i) => x![(i % 3) * 5 + Math.floor(i / 3)]!),
    }));

  it('expand materializes a broadcast and sums the gradient back', () =>
    checkOp({
      label: 'expand', inputs: [{ shape: [3, 1] }], gpu: ([x]) => expand(x!, [2, 3, 4]), shape: [2, 3, 4],
      ref: ([x]) => Array.from({ length: 24 }, (_, i) => x![Math.floor(i / 4) % 3]!),
    }));

  it('coalesce merges dimensions every operand walks contiguously', () => {
    const shape = [8, 64, 56, 56];
    const bias = [0, 1, 0, 0];
    expect(coalesce(shape, stridesOf(shape), bias)).toEqual({ shape: [8, 64, 3136], strides: [[200704, 3136, 1], [0, 1, 0]] });
    expect(coalesce([1, 1], [0, 0])).toEqual({ shape: [1], strides: [[0]] });
  });
});

describe('atan2', () => {
  it('matches Math.atan2 in all four quadrants, with gradients to both arguments and broadcasting', () =>
    checkOp({
      label: 'atan2',
      inputs: [{ shape: [3, 4], values: [1, -1, 0.5, -2, 0.3, 2, -0.7, 1.5, -0.2, 0.9, 1.1, -1.3] }, { shape: [4], values: [0.8, -0.6, -1.2, 0.4] }],
      gpu: ([y, x]) => ops.atan2(y!, x!),
      ref: ([y, x]) => binaryRef('atan2', y!, [3, 4], x!, [4]).data,
      fwd: { atol: 2e-6, rtol: 1e-5 },
    }));
});

describe('operand indexing: the repeat path (scalar, per-channel, row, column) agrees with the strided walk', () => {
  // [out shape, b shape]; odd sizes so that no period divides the workgroup
  const PATTERNS: [string, Shape, Shape][] = [
    ['scalar', [3, 5, 7], [1]],
    ['per-channel bias over NCHW', [2, 5, 3, 7], [5, 1, 1]],
    ['row', [9, 13], [13]],
    ['column', [9, 13], [9, 1]],
    ['middle axis of a rank-3 tensor', [4, 6, 5], [1, 6, 1]],
  ];
  for (const [name, aShape, bShape] of PATTERNS) {
    it(name, async () => {
      const [a, b] = [data(sizeOf(aShape), 1), data(sizeOf(bShape), 2)];
      const want = binaryRef('sub', a, aShape, b, bShape);
      const outs = [{}, { strided: true }].map((how) => runBinary('sub', fromArray(a, aShape), fromArray(b, bShape), 0, 0, how));
      const [repeat, strided] = await Promise.all(outs.map((t) => t.toArray()));
      expectClose(repeat!, want.data, { atol: 1e-6 }, `${name}: repeat`);
      expect(Array.from(repeat!), `${name}: repeat == strided`).toEqual(Array.from(strided!));
      // the operands swapped: b is the repeated one on the left
      const swapped = await runBinary('sub', fromArray(b, bShape), fromArray(a, aShape)).toArray();
      expectClose(swapped, binaryRef('sub', b, bShape, a, aShape).data, { atol: 1e-6 }, `${name}: swapped`);
      // unary expand (a broadcast copy, as the backward of a reduction makes)
      const expanded = await runUnary('copy', fromArray(b, bShape), aShape, 0, 0, broadcastStrides(bShape, aShape)).toArray();
      expectClose(expanded, binaryRef('add', new Float32Array(sizeOf(aShape)), aShape, b, bShape).data, { atol: 0 }, `${name}: expand`);
    });
  }
});
