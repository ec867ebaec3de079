// Test helpers: closeness checks that report the worst element, seeded data, finite differences.
import { expect } from 'vitest';
import { normalArray } from '../src/random.ts';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

/** Asserts |got - want| <= atol + rtol*|want| elementwise; the message names the worst index. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4 }: Tolerance = {}, label = ''): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue; // equal infinities
    const excess = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${label}: element ${worst}: got ${got[worst]}, want ${want[worst]} (atol ${atol}, rtol ${rtol}; ${want.length} elements)`);
  }
}

export function data(n: number, seed: number, scale = 1): Float32Array {
  return normalArray(n, seed, 0, scale);
}

/** Central finite differences of a scalar function of float64 inputs: d f / d inputs[which]. */
export function numericGrad(f: (inputs: Float64Array[]) => number, inputs: Float64Array[], which: number, h = 1e-5): Float64Array {
  const x = inputs[which]!;
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + h;
    const up = f(inputs);
    x[i] = keep - h;
    const down = f(inputs);
    x[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** sum(y * w): turns a tensor-valued reference into the scalar the gradient checks differentiate. */
export function weightedSum(y: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
  return s;
}
