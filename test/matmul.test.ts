import { describe, expect, it } from 'vitest';
import { chooseMatmul, hasEightLaneSubgroups, MATMUL_KERNELS, matmulRef, planMatmul, runMatmulKernel, type MatmulKernelName } from '../kernels/matmul.ts';
import { matmul } from '../src/ops/matmul.ts';
import { ShapeError, type Shape } from '../src/shape.ts';
import { randn } from '../src/ops/creation.ts';
import { dispose } from '../src/tensor.ts';
import { checkOp } from './check-op.ts';

function matmulCase(aShape: Shape, bShape: Shape, transA = false, transB = false, grad = true): () => Promise<void> {
  return () =>
    checkOp({
      label: `matmul ${aShape}${transA ? 'T' : ''} x ${bShape}${transB ? 'T' : ''}`,
      inputs: [{ shape: aShape, grad }, { shape: bShape, grad }],
      gpu: ([a, b]) => matmul(a!, b!, { transA, transB }),
      ref: ([a, b]) => matmulRef(a!, aShape, b!, bShape, { transA, transB }).data,
      shape: planMatmul(aShape, bShape, { transA, transB }).outShape,
      fwd: { atol: 1e-4, rtol: 1e-4 },
      grad: { atol: 2e-3, rtol: 2e-3 },
    });
}

describe('matmul', () => {
  it('1x1x1', matmulCase([1, 1], [1, 1]));
  it('odd sizes that are no tile multiple', matmulCase([37, 29], [29, 41]));
  it('a single row (batch 1 of a linear layer)', matmulCase([1, 19], [19, 33]));
  it('transposed A', matmulCase([13, 17], [13, 9], true, false));
  it('transposed B', matmulCase([17, 13], [9, 13], false, true));
  it('both transposed', matmulCase([13, 17], [9, 13], true, true));
  it('batched', matmulCase([3, 7, 5], [3, 5, 6]));
  it('batch of one', matmulCase([1, 7, 5], [1, 5, 6]));
  it('B broadcast over A\'s batch (gradient summed over the batch)', matmulCase([4, 7, 5], [5, 6]));
  it('A broadcast over B\'s batch, transposed', matmulCase([7, 5], [2, 3, 6, 5], false, true));
  it('larger forward, several tiles in every direction', matmulCase([130, 67], [67, 150], false, false, false));

  it('rejects mismatched inner dimensions, naming the shapes', () => {
    expect(() => planMatmul([2, 3], [4, 5], {})).toThrow(ShapeError);
    expect(() => planMatmul([2, 3], [4, 5], {})).toThrow(/\[2,3\] x \[4,5\].*K=3 vs 4/);
  });

  it('rejects rank 1 and incompatible batches', () => {
    expect(() => planMatmul([3], [3, 4], {})).toThrow(/rank >= 2.*\[3\]/);
    expect(() => planMatmul([2, 3, 4], [5, 4, 6], {})).toThrow(/batch dimensions \[2\] and \[5\]/);
  });
});

/** Forward check of one pinned kernel (and orientation, and vec4 or scalar loads) against the reference. */
function kernelCase(kernel: MatmulKernelName, aShape: Shape, bShape: Shape, { transA = false, transB = false, transposed = false, vec4 = true } = {}) {
  return async () => {
    if (MATMUL_KERNELS[kernel].subgroups && !hasEightLaneSubgroups()) {
      // This adapter cannot run the kernel: it must refuse by name, and production must never pick it.
      const [a, b] = [randn(aShape, { seed: 1 }), randn(bShape, { seed: 2 })];
      expect(() => runMatmulKernel(kernel, a, b, { transA, transB }, { transposed, vec4 })).toThrow(/needs 8-lane subgroups, which this adapter lacks/);
      expect(MATMUL_KERNELS[chooseMatmul(planMatmul(aShape, bShape, { transA, transB })).kernel].subgroups).toBe(false);
      dispose([a, b]);
      return;
    }
    await checkOp({
      label: `${kernel}${transposed ? ' transposed' : ''}${vec4 ? '' : ' scalar'} ${aShape}${transA ? 'T' : ''} x ${bShape}${transB ? 'T' : ''}`,
      inputs: [{ shape: aShape, grad: false }, { shape: bShape, grad: false }],
      gpu: ([a, b]) => runMatmulKernel(kernel, a!, b!, { transA, transB }, { transposed, vec4 }),
      ref: ([a, b]) => matmulRef(a!, aShape, b!, bShape, { transA, transB }).data,
      shape: planMatmul(aShape, bShape, { transA, transB }).outShape,
      fwd: { atol: 1e-4, rtol: 1e-4 },
    });
  };
}

const TRANSPOSES = [[false, false], [true, false], [false, true], [true, true]] as const;
/** [M, K] x [K, N] stored as the transposes ask. */
const operands = (M: number, K: number, N: number, transA: boolean, transB: boolean): [Shape, Shape] => [transA ? [K, M] : [M, K], transB ? [N, K] : [K, N]];

describe('matmul kernels, each pinned (sizes straddle their tiles)', () => {
  for (const kernel of Object.keys(MATMUL_KERNELS) as MatmulKernelName[]) {
    for (const [transA, transB] of TRANSPOSES) {
      const [a, b] = operands(19, 13, 22, transA, transB);
      it(`${kernel} ${transA ? 'At' : 'A'} ${transB ? 'Bt' : 'B'}`, kernelCase(kernel, a, b, { transA, transB }));
      it(`${kernel} ${transA ? 'At' : 'A'} ${transB ? 'Bt' : 'B'}, transposed orientation`, kernelCase(kernel, a, b, { transA, transB, transposed: true }));
    }
  }
});

describe('matmul subgroup kernels, vec4 and scalar loads of B', () => {
  // N % 4 == 0 with B untransposed takes the vec4 entry point; N = 22 or a transposed B falls back to scalar.
  for (const kernel of ['subgroup_16x8', 'subgroup_8x8'] as const) {
    it(`${kernel} vec4, N % 4 == 0, K odd`, kernelCase(kernel, [19, 13], [13, 20]));
    it(`${kernel} the same forced scalar`, kernelCase(kernel, [19, 13], [13, 20], { vec4: false }));
    it(`${kernel} vec4 asked, N % 4 != 0`, kernelCase(kernel, [19, 13], [13, 22]));
    it(`${kernel} vec4 asked, B transposed`, kernelCase(kernel, [19, 13], [20, 13], { transB: true }));
    it(`${kernel} vec4, A transposed`, kernelCase(kernel, [13, 19], [13, 20], { transA: true }));
    // transposed orientation: B's role goes to op(A)^T, contiguous when A is transposed and M % 4 == 0
    it(`${kernel} vec4 in the transposed orientation`, kernelCase(kernel, [7, 40], [7, 6], { transA: true, transposed: true }));
    it(`${kernel} vec4, B broadcast over A's batch`, kernelCase(kernel, [3, 9, 13], [13, 20]));
    it(`${kernel} vec4, A broadcast over B's batch`, kernelCase(kernel, [9, 13], [2, 13, 20]));
    it(`${kernel} vec4, both batched, transposed orientation`, kernelCase(kernel, [2, 13, 24], [2, 13, 8], { transA: true, transposed: true }));
  }
});

describe('matmul shape classes (kernels/matmul.ts MATMUL_TABLE)', () => {
  const choice = (M: number, K: number, N: number) => chooseMatmul(planMatmul([M, K], [K, N], {}));
  it('picks kernels by rows and orients the long side along the lanes', () => {
    const [few, eight, rest] = hasEightLaneSubgroups() ? ['subgroup_8x8', 'subgroup_8x8', 'subgroup_16x8'] : ['portable_row', 'portable_8x8', 'portable_8x8'];
    expect(choice(4, 9, 300).kernel).toBe(few);
    expect(choice(5, 9, 300).kernel).toBe(eight);
    expect(choice(8, 9, 300).kernel).toBe(eight);
    expect(choice(9, 9, 300).kernel).toBe(rest);
    expect(choice(300, 9, 300).transposed).toBe(false);
    expect(choice(301, 9, 6)).toMatchObject({ transposed: true, kernel: eight });
    expect(choice(301, 9, 4)).toMatchObject({ transposed: true, kernel: few });
    expect(choice(6, 9, 6).transposed).toBe(false);
    expect(choice(1000, 9, 999).transposed).toBe(false);
  });
  // Each side of each threshold through runMatmul, forward and gradients (whose products take other classes).
  it('M = 4 and 5', async () => {
    await matmulCase([4, 6], [6, 21])();
    await matmulCase([5, 6], [6, 21])();
  });
  it('M = 8 and 9', async () => {
    await matmulCase([8, 6], [6, 21])();
    await matmulCase([9, 6], [6, 21])();
  });
  it('N short and below M: runs transposed', matmulCase([40, 7], [7, 6]));
  it('N short and below M, both operands transposed, batched', matmulCase([2, 7, 40], [2, 8, 7], true, true));
});
