import { describe, expect, it } from 'vitest';
import { dropoutMaskRef, dropoutRef } from '../kernels/dropout.ts';
import { backward } from '../src/backward.ts';
import { fromArray, ones, parameter } from '../src/ops/creation.ts';
import { dropout } from '../src/ops/dropout.ts';
import { sum } from '../src/ops/reduce.ts';
import { dispose } from '../src/tensor.ts';
import { checkOp } from './check-op.ts';
import { data, expectClose } from './helpers.ts';

const LARGE = 1 << 20;   // 1M elements: the kept fraction's standard deviation is <= 0.0005

/** The keep mask read back from dropout applied to ones (kept elements are 1 / (1 - p), dropped 0). */
async function gpuMask(n: number, p: number, seed: number): Promise<Uint8Array> {
  const y = dropout(ones([n]), p, { training: true, seed });
  const values = await y.toArray();
  y.dispose();
  return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
}

function fraction(mask: Uint8Array): number {
  return mask.reduce((s, v) => s + v, 0) / mask.length;
}

describe('dropout', () => {
  it('the GPU mask is the CPU reference mask, bit for bit (sizes 1, 65, and past the workgroup cap)', async () => {
    for (const n of [1, 65, 20_000]) {
      expect(Array.from(await gpuMask(n, 0.3, 42)), `n=${n}`).toEqual(Array.from(dropoutMaskRef(n, 0.3, 42)));
    }
  });

  it('same seed, same mask; a different seed, an unrelated mask', async () => {
    const p = 0.5;
    const a = await gpuMask(LARGE, p, 7);
    expect(Buffer.from(await gpuMask(LARGE, p, 7)).equals(Buffer.from(a))).toBe(true);
    const b = await gpuMask(LARGE, p, 8);
    let agree = 0;
    for (let i = 0; i < LARGE; i++) agree += a[i] === b[i] ? 1 : 0;
    // Independent masks agree where both keep or both drop: p^2 + (1-p)^2 = 0.5 of the time.
    expect(Math.abs(agree / LARGE - 0.5)).toBeLessThan(0.005);
  });

  for (const p of [0.1, 0.5, 0.9]) {
    it(`keeps a fraction 1 - p (within 0.005, ~10 standard deviations) of 1M elements, p = ${p}`, async () => {
      const mask = await gpuMask(LARGE, p, 123);
      expect(Math.abs(fraction(mask) - (1 - p))).toBeLessThan(0.005);
      // and evenly: the halves of the tensor agree too
      expect(Math.abs(fraction(mask.subarray(0, LARGE / 2)) - (1 - p))).toBeLessThan(0.005);
      expect(Math.abs(fraction(mask.subarray(LARGE / 2)) - (1 - p))).toBeLessThan(0.005);
    });
  }

  it('scales kept elements by 1 / (1 - p); the gradient is upstream * mask / (1 - p)', async () => {
    const [n, p, seed] = [301, 0.25, 9];
    const x = parameter(fromArray(data(n, 1), [n]));
    const upstream = fromArray(data(n, 2), [n]);
    const y = dropout(x, p, { training: true, seed });
    expectClose(await y.toArray(), dropoutRef(await x.toArray(), p, seed), { atol: 1e-6, rtol: 1e-6 }, 'dropout forward');
    backward(y, upstream);
    expectClose(await x.grad!.toArray(), dropoutRef(await upstream.toArray(), p, seed), { atol: 1e-6, rtol: 1e-6 }, 'dropout grad');
    dispose([x, upstream, y]);
  });

  it('forward and gradient vs finite differences of the reference, odd 4-D shape', () =>
    checkOp({
      label: 'dropout', inputs: [{ shape: [3, 5, 7, 2] }],
      gpu: ([x]) => dropout(x!, 0.4, { training: true, seed: 77 }), ref: ([x]) => dropoutRef(x!, 0.4, 77),
    }));

  it('eval mode and p = 0 are the identity; p = 1 drops everything, gradient included', async () => {
    const x = parameter(fromArray([1, -2, 3], [3]));
    expect(dropout(x, 0.5, { training: false, seed: 1 })).toBe(x);
    expect(dropout(x, 0, { training: true, seed: 1 })).toBe(x);
    const y = dropout(x, 1, { training: true, seed: 1 });
    expect(Array.from(await y.toArray())).toEqual([0, 0, 0]);
    backward(sum(y));
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0, 0]);
    dispose([x, y]);
  });

  it('errors name the op and the bad value', () => {
    const x = fromArray([1, 2], [2]);
    expect(() => dropout(x, 1.5, { training: true, seed: 1 })).toThrow('dropout: p must be in [0, 1], got 1.5 (input [2])');
    expect(() => dropout(x, -0.1, { training: false, seed: 1 })).toThrow('dropout: p must be in [0, 1], got -0.1');
    expect(() => dropout(x, 0.5, { training: true, seed: -1 })).toThrow('dropout: seed must be an integer in [0, 2^32), got -1');
    expect(() => dropout(x, 0.5, { training: true, seed: 0.5 })).toThrow('dropout: seed must be an integer in [0, 2^32), got 0.5');
    x.dispose();
  });
});
