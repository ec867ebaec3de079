// Ops on seeded random shapes (issue 2: "random shapes, including sizes that are not tile multiples and
// batch 1"): each draw is a fresh shape, so the hand-picked cases of the per-op files cannot hide a
// size-dependent bug. The seed of a failing draw is in the test name.
import { describe, it } from 'vitest';
import { binaryRef } from '../kernels/elementwise.ts';
import { matmulRef, planMatmul } from '../kernels/matmul.ts';
import { reduceRef } from '../kernels/reduce.ts';
import { add, mul, sub } from '../src/ops/elementwise.ts';
import { matmul } from '../src/ops/matmul.ts';
import { sum } from '../src/ops/reduce.ts';
import { rng } from '../src/random.ts';
import type { Shape } from '../src/shape.ts';
import { checkOp } from './check-op.ts';

const DRAWS = 6;

/** A uniform integer in [lo, hi] (lo = 1 gives batch 1 and broadcast dimensions). */
const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

describe('random shapes', () => {
  for (let seed = 1; seed <= DRAWS; seed++) {
    const r = rng(1000 + seed);
    const [m, k, n] = [int(r, 1, 70), int(r, 1, 70), int(r, 1, 70)];
    const batch = int(r, 1, 3);
    const [transA, transB] = [r() < 0.5, r() < 0.5];
    const aShape: Shape = transA ? [batch, k, m] : [batch, m, k];
    const bShape: Shape = transB ? [n, k] : [k, n];
    it(`matmul #${seed}: ${aShape}${transA ? 'T' : ''} x ${bShape}${transB ? 'T' : ''}`, () =>
      checkOp({
        label: `matmul #${seed}`,
        inputs: [{ shape: aShape }, { shape: bShape }],
        gpu: ([a, b]) => matmul(a!, b!, { transA, transB }),
        ref: ([a, b]) => matmulRef(a!, aShape, b!, bShape, { transA, transB }).data,
        shape: planMatmul(aShape, bShape, { transA, transB }).outShape,
        fwd: { atol: 1e-4, rtol: 1e-4 },
        grad: { atol: 2e-3, rtol: 2e-3 },
      }));

    // Broadcasting: b's shape is a's with random dimensions set to 1 and random leading ones dropped.
    const rank = int(r, 1, 4);
    const xShape: Shape = Array.from({ length: rank }, () => int(r, 1, 9));
    const yShape: Shape = xShape.map((d) => (r() < 0.4 ? 1 : d)).slice(int(r, 0, rank - 1));
    const [op, gpuOp] = ([['add', add], ['sub', sub], ['mul', mul]] as const)[int(r, 0, 2)]!;
    it(`${op} #${seed}: [${xShape}] with [${yShape}] broadcast`, () =>
      checkOp({
        label: `${op} #${seed}`,
        inputs: [{ shape: xShape }, { shape: yShape }],
        gpu: ([x, y]) => gpuOp(x!, y!),
        ref: ([x, y]) => binaryRef(op, x!, xShape, y!, yShape).data,
      }));

    const axes = xShape.map((_, i) => i).filter(() => r() < 0.5);
    it(`sum #${seed}: [${xShape}] over axes [${axes}]`, () =>
      checkOp({
        label: `sum #${seed}`,
        inputs: [{ shape: xShape }],
        gpu: ([x]) => sum(x!, axes.length > 0 ? axes : undefined),
        ref: ([x]) => reduceRef('sum', x!, xShape, axes.length > 0 ? axes : undefined),
        fwd: { atol: 1e-4, rtol: 1e-4 },
      }));
  }
});
