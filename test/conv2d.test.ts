import { describe, expect, it } from 'vitest';
import {
  chooseKernel, conv2dBackwardInputRef, conv2dBackwardWeightRef, conv2dFlops, conv2dOutShape, conv2dRef, planConv2d, productionKernels,
  runConv2d, runConv2dBackwardInput, runConv2dBackwardWeight, type Conv2dOptions, type ConvKernel, type ConvOp,
} from '../kernels/conv2d.ts';
import { convCases, CONV_SHAPES, planOf } from '../bench/conv.bench.ts';
import { backward } from '../src/backward.ts';
import { fromArray, zeros } from '../src/ops/creation.ts';
import { conv2d } from '../src/ops/conv.ts';
import { sum } from '../src/ops/reduce.ts';
import { ShapeError, sizeOf, type Shape } from '../src/shape.ts';
import { tidy } from '../src/tensor.ts';
import { checkOp } from './check-op.ts';
import { data, expectClose } from './helpers.ts';

interface Case {
  x: Shape;
  w: Shape;
  opts: Conv2dOptions;
}

const TOL = { atol: 1e-4, rtol: 1e-4 };

/** GPU forward, dx and dw (or only `ops`) against the float64 references; `kernel` and `splits`
 *  override the production choice. */
async function expectKernelsMatch({ x: xShape, w: wShape, opts }: Case, kernel?: ConvKernel, splits?: number, ops: readonly ConvOp[] = ['fwd', 'dx', 'dw']): Promise<void> {
  const p = planConv2d(xShape, wShape, [wShape[0]!], opts);
  const label = `x${JSON.stringify(xShape)} w${JSON.stringify(wShape)} ${JSON.stringify(opts)}${kernel ? ` ${JSON.stringify(kernel)}` : ''}`;
  const x = data(sizeOf(xShape), 1);
  const w = data(sizeOf(wShape), 2, 0.5);
  const bias = data(p.O, 3);
  const dy = data(sizeOf(conv2dOutShape(p)), 4);
  const want: Record<ConvOp, () => Float64Array> = {
    fwd: () => conv2dRef(x, w, bias, p),
    dx: () => conv2dBackwardInputRef(dy, w, p),
    dw: () => conv2dBackwardWeightRef(dy, x, p),
  };
  for (const op of ops) {
    const out = tidy(() => {
      const [xt, wt, bt, dyt] = [fromArray(x, xShape), fromArray(w, wShape), fromArray(bias, [p.O]), fromArray(dy, conv2dOutShape(p))];
      if (op === 'fwd') return runConv2d(xt, wt, bt, p, kernel);
      return op === 'dx' ? runConv2dBackwardInput(dyt, wt, p, kernel) : runConv2dBackwardWeight(dyt, xt, p, kernel, splits);
    });
    expectClose(await out.toArray(), want[op](), op === 'dw' ? { atol: 3e-4, rtol: 1e-4 } : TOL, `${label} ${op}`);
    out.dispose();
  }
}

// Odd sizes everywhere: no H, W, C, O or pixel count is a multiple of any tile.
const ODD_CASES: [string, Case][] = [
  ['3x3 stride 1 padding 1, odd H/W/C/O', { x: [2, 3, 7, 9], w: [5, 3, 3, 3], opts: { padding: 1 } }],
  ['batch 1, stride 2 on an odd input', { x: [1, 5, 9, 7], w: [3, 5, 3, 3], opts: { stride: 2, padding: 1 } }],
  ['padding 0', { x: [2, 3, 8, 7], w: [4, 3, 3, 3], opts: {} }],
  ['padding 2, stride 2', { x: [1, 3, 7, 8], w: [5, 3, 3, 3], opts: { stride: 2, padding: 2 } }],
  ['1x1 stride 1', { x: [2, 13, 5, 3], w: [11, 13, 1, 1], opts: {} }],
  ['1x1 stride 2 (shortcut; odd pixels get no gradient)', { x: [2, 6, 9, 9], w: [7, 6, 1, 1], opts: { stride: 2 } }],
  ['5x3 kernel, padding (2,1)', { x: [1, 3, 6, 5], w: [4, 3, 5, 3], opts: { padding: [2, 1] } }],
  ['stride (2,3), padding (1,0), 3x2 kernel', { x: [2, 2, 9, 10], w: [3, 2, 3, 2], opts: { stride: [2, 3], padding: [1, 0] } }],
  ['stride 3 > kernel 2 (pixels no tap reaches)', { x: [1, 2, 8, 8], w: [3, 2, 2, 2], opts: { stride: 3 } }],
  ['kernel as large as the padded input', { x: [1, 2, 3, 3], w: [2, 2, 5, 5], opts: { padding: 1 } }],
  ['more channels than one workgroup tile', { x: [3, 37, 6, 5], w: [41, 37, 3, 3], opts: { padding: 1 } }],
  ['an output image over 64 pixels (the table\'s "large" class)', { x: [1, 3, 11, 9], w: [5, 3, 3, 3], opts: { padding: 1 } }],
  ['over 32 output channels and 64 pixels ("large", not "narrow")', { x: [1, 5, 9, 9], w: [37, 5, 3, 3], opts: { padding: 1 } }],
  ['over 32 output channels, at most 64 pixels ("small")', { x: [2, 35, 4, 5], w: [33, 35, 3, 3], opts: { padding: 1 } }],
  ['a 2-pixel dy row (dw unrolls 2, not 4)', { x: [3, 6, 2, 2], w: [40, 6, 3, 3], opts: { padding: 1 } }],
  ['one input channel (forward unrolls 1), one output channel (dx unrolls 1)', { x: [2, 1, 5, 6], w: [1, 1, 3, 3], opts: { padding: 1 } }],
  // shaders/conv2d_3x3.wgsl takes 3x3 stride-1 padding-1 convs of widths divisible by 4
  ['direct 3x3: width 12 (3 quads a row: rows cross subgroups), odd H, C, O', { x: [2, 5, 7, 12], w: [19, 5, 3, 3], opts: { padding: 1 } }],
  ['direct 3x3: width 8 and 4, batch 3', { x: [3, 9, 3, 8], w: [6, 9, 3, 3], opts: { padding: 1 } }],
  ['direct 3x3: width 4, one row', { x: [3, 2, 1, 4], w: [17, 2, 3, 3], opts: { padding: 1 } }],
  ['not direct: width 10 (not a multiple of 4)', { x: [2, 3, 6, 10], w: [5, 3, 3, 3], opts: { padding: 1 } }],
  ['direct 3x3 stride 2 (forward, dw): width 24 (3 quads a row), odd H', { x: [2, 5, 7, 24], w: [19, 5, 3, 3], opts: { stride: 2, padding: 1 } }],
  ['direct 3x3 stride 2: width 8, one output quad a row', { x: [3, 4, 8, 8], w: [6, 4, 3, 3], opts: { stride: 2, padding: 1 } }],
  ['not direct: stride 2 of width 12 (not a multiple of 8)', { x: [2, 3, 6, 12], w: [5, 3, 3, 3], opts: { stride: 2, padding: 1 } }],
];

describe('conv2d kernels vs the float64 CPU reference', () => {
  for (const [name, c] of ODD_CASES) it(name, () => expectKernelsMatch(c));

  it('large values', async () => {
    const xShape = [1, 4, 6, 6];
    const wShape = [3, 4, 3, 3];
    const p = planConv2d(xShape, wShape, null, { padding: 1 });
    const x = data(sizeOf(xShape), 5, 1e3);
    const w = data(sizeOf(wShape), 6, 1e2);
    const y = tidy(() => runConv2d(fromArray(x, xShape), fromArray(w, wShape), null, p));
    expectClose(await y.toArray(), conv2dRef(x, w, null, p), { atol: 1, rtol: 1e-4 }, 'large values');
    y.dispose();
  });

  it('dw with more splits than one (split-K), and with exactly one', async () => {
    const c: Case = { x: [3, 5, 7, 6], w: [6, 5, 3, 3], opts: { stride: 2, padding: 1 } };
    await expectKernelsMatch(c, undefined, 5); // 3*4 = 12 dy rows in 5 splits of 3 (the last one short)
    await expectKernelsMatch(c, undefined, 1);
  });

  it('every kernel of the production tables is correct on odd shapes', async () => {
    for (const [op, kernel] of productionKernels()) {
      // the direct kernels take only 3x3 stride-1 padding-1 convs of widths divisible by 4
      if (!kernel.direct) {
        await expectKernelsMatch({ x: [2, 11, 7, 9], w: [19, 11, 3, 3], opts: { stride: 2, padding: 1 } }, kernel, undefined, [op]);
        continue;
      }
      // the direct kernels take 3x3 padding-1 convs, stride 1 of widths divisible by 4, stride 2 (not dx) by 8
      await expectKernelsMatch({ x: [2, 11, 7, 12], w: [19, 11, 3, 3], opts: { padding: 1 } }, kernel, undefined, [op]);
      if (op !== 'dx') await expectKernelsMatch({ x: [2, 11, 7, 24], w: [19, 11, 3, 3], opts: { stride: 2, padding: 1 } }, kernel, undefined, [op]);
    }
  });

  it('chooses by shape class: narrow, small, large, direct; unroll and dw columns fitted to the layer', () => {
    const pick = (x: Shape, w: Shape, opts: Conv2dOptions, op: ConvOp): ConvKernel => chooseKernel(op, planConv2d(x, w, null, opts));
    if (!productionKernels().some(([, k]) => k.subgroups)) return; // the portable table has no classes
    expect(pick([1, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }, 'fwd').direct).toBe(true);
    expect(pick([1, 3, 30, 30], [16, 3, 3, 3], { padding: 1 }, 'fwd')).toMatchObject({ TM: 16, unroll: 3 });
    expect(pick([1, 3, 30, 30], [16, 3, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ TM: 16, TN: 2, WG: 16 }); // 27 columns
    expect(pick([1, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ TM: 16, direct: true });
    expect(pick([1, 3, 32, 32], [17, 3, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ TM: 32, direct: true });
    expect(pick([1, 16, 32, 32], [16, 16, 1, 1], { stride: 2 }, 'dw')).toMatchObject({ TM: 16, TN: 1 }); // 16 columns
    expect(pick([1, 16, 9, 9], [32, 16, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ TM: 16, TN: 3 });   // O = 32: narrow
    expect(pick([1, 16, 7, 7], [33, 16, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ TM: 32, WG: 16, unroll: 2 }); // small
    expect(pick([1, 16, 9, 9], [33, 16, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ TM: 32, WG: 32, unroll: 4 }); // large
    expect(pick([1, 16, 2, 2], [64, 16, 3, 3], { padding: 1 }, 'dw')).toMatchObject({ unroll: 2 });
    expect(pick([1, 64, 7, 7], [64, 64, 3, 3], { padding: 1 }, 'dx').direct).toBeFalsy(); // width 7
    expect(pick([1, 64, 8, 8], [64, 64, 3, 3], { stride: 2, padding: 1 }, 'fwd').direct).toBe(true);
    expect(pick([1, 64, 8, 8], [64, 64, 3, 3], { stride: 2, padding: 1 }, 'dx').direct).toBeFalsy(); // dx: stride 1 only
    expect(pick([1, 64, 4, 4], [64, 64, 3, 3], { stride: 2, padding: 1 }, 'dw').direct).toBeFalsy(); // output width 2
  });
});

function gradCase({ x, w, opts }: Case, withBias = true): () => Promise<void> {
  const p = planConv2d(x, w, null, opts);
  return () =>
    checkOp({
      label: `conv2d x${JSON.stringify(x)} w${JSON.stringify(w)} ${JSON.stringify(opts)}`,
      inputs: [{ shape: x }, { shape: w }, ...(withBias ? [{ shape: [p.O] }] : [])],
      gpu: ([xt, wt, bt]) => conv2d(xt!, wt!, bt ?? null, opts),
      ref: ([xv, wv, bv]) => conv2dRef(xv!, wv!, bv ?? null, p),
      shape: conv2dOutShape(p),
      fwd: { atol: 1e-4, rtol: 1e-4 },
      grad: { atol: 2e-3, rtol: 2e-3 },
    });
}

describe('conv2d gradients vs finite differences', () => {
  it('3x3 stride 1 padding 1 with bias', gradCase({ x: [2, 3, 5, 6], w: [4, 3, 3, 3], opts: { padding: 1 } }));
  it('3x3 stride 2 padding 1, odd input, batch 1', gradCase({ x: [1, 2, 7, 5], w: [3, 2, 3, 3], opts: { stride: 2, padding: 1 } }));
  it('1x1 stride 2 without bias', gradCase({ x: [2, 3, 5, 5], w: [4, 3, 1, 1], opts: { stride: 2 } }, false));
  it('5x3 kernel, padding (2,1)', gradCase({ x: [1, 2, 6, 5], w: [3, 2, 5, 3], opts: { padding: [2, 1] } }));

  it('only the inputs that require a gradient get one', () => {
    const x = fromArray(data(2 * 3 * 4 * 4, 1), [2, 3, 4, 4]);
    const w = fromArray(data(5 * 3 * 3 * 3, 2), [5, 3, 3, 3]);
    w.requiresGrad = true;
    tidy(() => backward(sum(conv2d(x, w, null, { padding: 1 }))));
    expect(x.grad).toBeNull();
    expect(w.grad?.shape).toEqual([5, 3, 3, 3]);
    x.dispose();
    w.dispose();
  });
});

describe('conv2d bad input names the op and the shapes', () => {
  const x = (shape: Shape) => zeros(shape);
  it('wrong rank', () => {
    expect(() => conv2d(x([3, 8, 8]), x([4, 3, 3, 3]))).toThrow(ShapeError);
    expect(() => conv2d(x([3, 8, 8]), x([4, 3, 3, 3]))).toThrow('conv2d: input must be [N,C,H,W] (rank 4), got [3,8,8]');
    expect(() => conv2d(x([1, 3, 8, 8]), x([4, 3, 3]))).toThrow('conv2d: weight must be [O,C,kh,kw] (rank 4), got [4,3,3]');
  });
  it('channel mismatch', () => {
    expect(() => conv2d(x([1, 3, 8, 8]), x([4, 2, 3, 3]))).toThrow('conv2d: input [1,3,8,8] has 3 channels but weight [4,2,3,3] expects 2');
  });
  it('bias of the wrong size', () => {
    expect(() => conv2d(x([1, 3, 8, 8]), x([4, 3, 3, 3]), x([5]))).toThrow('conv2d: bias must be [4] for weight [4,3,3,3], got [5]');
  });
  it('output size <= 0', () => {
    expect(() => conv2d(x([1, 3, 2, 2]), x([4, 3, 3, 3]))).toThrow('conv2d: output size 0x0 <= 0 for input [1,3,2,2], kernel 3x3, stride 1x1, padding 0x0');
  });
  it('bad stride, padding, groups, dilation', () => {
    expect(() => conv2d(x([1, 3, 8, 8]), x([4, 3, 3, 3]), null, { stride: 0 })).toThrow('conv2d: stride must be an integer >= 1 (or a pair of them), got 0');
    expect(() => conv2d(x([1, 3, 8, 8]), x([4, 3, 3, 3]), null, { padding: [1, -1] })).toThrow('conv2d: padding must be an integer >= 0 (or a pair of them), got [1,-1]');
    expect(() => conv2d(x([1, 4, 8, 8]), x([4, 2, 3, 3]), null, { groups: 2 })).toThrow('conv2d: groups=2 is not supported (only groups 1)');
    expect(() => conv2d(x([1, 3, 8, 8]), x([4, 3, 3, 3]), null, { dilation: 2 })).toThrow('conv2d: dilation 2 is not supported (only dilation 1)');
  });
  it('integer tensors', () => {
    const xi = fromArray(new Int32Array(16), [1, 1, 4, 4]);
    expect(() => conv2d(xi, x([1, 1, 3, 3]))).toThrow('conv2d: expected f32 tensors, got i32 [1,1,4,4]');
    xi.dispose();
  });
});

describe('conv2d FLOP count', () => {
  it('the bench cases name the 56x56 layer and count 2*N*O*Ho*Wo*C*kh*kw for each op', () => {
    const cases = convCases();
    expect(cases.map((c) => c.id)).toEqual(expect.arrayContaining(['conv_fwd_56', 'conv_dx_56', 'conv_dw_56', 'conv_fwd_14_s2', 'conv_dw_56_1x1_s2']));
    expect(cases.find((c) => c.id === 'conv_dw_56')!.flops).toBe(2 * 8 * 64 * 56 * 56 * 64 * 3 * 3);
    for (const s of CONV_SHAPES) {
      const [N, C] = s.x;
      const [O, , kh, kw] = s.w;
      const { Ho, Wo } = planOf(s);
      for (const op of ['fwd', 'dx', 'dw']) expect(cases.find((c) => c.id === `conv_${op}_${s.id}`)!.flops).toBe(2 * N * O * Ho * Wo * C * kh * kw);
    }
  });

  it('is 2*N*O*Ho*Wo*C*kh*kw (the same for forward, dx and dw)', () => {
    const p = planConv2d([8, 64, 56, 56], [128, 64, 3, 3], null, { stride: 2, padding: 1 });
    expect([p.Ho, p.Wo]).toEqual([28, 28]);
    expect(conv2dFlops(p)).toBe(2 * 8 * 128 * 28 * 28 * 64 * 3 * 3);
    const q = planConv2d([1, 3, 7, 5], [4, 3, 5, 3], null, { padding: [2, 1] });
    expect(conv2dFlops(q)).toBe(2 * 1 * 4 * 7 * 5 * 3 * 5 * 3);
  });
});
