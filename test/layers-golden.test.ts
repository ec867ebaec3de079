// Golden tests against PyTorch 1.13 (fixtures written by test/fixtures/make_layers_golden.py): values,
// every input gradient of sum(output * g), and batch norm's in-place running-statistics update.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maxPool2dRef, type Pool2d } from '../kernels/pool.ts';
import { backward } from '../src/backward.ts';
import { fromArray, parameter } from '../src/ops/creation.ts';
import { batchNorm } from '../src/ops/batchnorm.ts';
import { maxPool2d } from '../src/ops/pool.ts';
import { prelu } from '../src/ops/prelu.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';
import { dispose, tidy, type Tensor } from '../src/tensor.ts';
import { expectClose } from './helpers.ts';

interface BatchNormCase {
  shape: number[]; training: boolean; momentum: number; eps: number;
  x: number[]; gamma: number[]; beta: number[]; running_mean: number[]; running_var: number[]; g: number[];
  y: number[]; dx: number[]; dgamma: number[]; dbeta: number[]; running_mean_after: number[]; running_var_after: number[];
}
interface PreluCase { shape: number[]; x: number[]; slope: number[]; g: number[]; y: number[]; dx: number[]; dslope: number[] }
interface MaxPoolCase {
  shape: number[]; kernel: number; stride: number; padding: number;
  x: number[]; g: number[]; y: number[]; indices: number[]; dx: number[];
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/layers_golden.json', import.meta.url), 'utf8')) as {
  batch_norm: BatchNormCase[]; prelu: PreluCase[]; max_pool2d: MaxPoolCase[];
};

const TOL = { atol: 1e-5, rtol: 1e-4 };

/** Runs f on fresh leaves, backpropagates sum(f(...) * g), and returns the output and the leaves' gradients. */
async function forwardBackward(f: (leaves: Tensor[]) => Tensor, leaves: Tensor[], g: number[]): Promise<{ y: Float32Array; grads: Float32Array[] }> {
  const y = tidy(() => {
    const out = f(leaves);
    backward(sum(mul(out, fromArray(g, out.shape))));
    return out;
  });
  const result = { y: await y.toFloat32(), grads: await Promise.all(leaves.map((t) => t.grad!.toFloat32())) };
  dispose([y, leaves]);
  return result;
}

describe('golden: batch norm vs PyTorch', () => {
  golden.batch_norm.forEach((c, i) => {
    const C = c.shape[1]!;
    it(`#${i} ${c.training ? 'training' : 'eval'} ${JSON.stringify(c.shape)}`, async () => {
      const running = { mean: fromArray(c.running_mean, [C]), var: fromArray(c.running_var, [C]) };
      const leaves = [parameter(fromArray(c.x, c.shape)), parameter(fromArray(c.gamma, [C])), parameter(fromArray(c.beta, [C]))];
      const { y, grads } = await forwardBackward(([x, gamma, beta]) => batchNorm(x!, gamma!, beta!, running, { training: c.training, momentum: c.momentum, eps: c.eps }), leaves, c.g);
      expectClose(y, c.y, TOL, 'y');
      expectClose(grads[0]!, c.dx, { atol: 1e-4, rtol: 1e-3 }, 'dx');
      expectClose(grads[1]!, c.dgamma, { atol: 1e-4, rtol: 1e-4 }, 'dgamma');
      expectClose(grads[2]!, c.dbeta, { atol: 1e-4, rtol: 1e-4 }, 'dbeta');
      expectClose(await running.mean.toArray(), c.running_mean_after, { atol: 1e-6, rtol: 1e-5 }, 'running mean');
      expectClose(await running.var.toArray(), c.running_var_after, { atol: 1e-6, rtol: 1e-5 }, 'running var');
      dispose(running);
    });
  });
});

describe('golden: prelu vs PyTorch', () => {
  golden.prelu.forEach((c, i) => {
    it(`#${i} ${JSON.stringify(c.shape)} slope [${c.slope.length}]`, async () => {
      const leaves = [parameter(fromArray(c.x, c.shape)), parameter(fromArray(c.slope, [c.slope.length]))];
      const { y, grads } = await forwardBackward(([x, slope]) => prelu(x!, slope!), leaves, c.g);
      expectClose(y, c.y, TOL, 'y');
      expectClose(grads[0]!, c.dx, TOL, 'dx');
      expectClose(grads[1]!, c.dslope, { atol: 1e-4, rtol: 1e-4 }, 'dslope');
    });
  });
});

describe('golden: max_pool2d vs PyTorch (integer inputs: ties in most windows)', () => {
  golden.max_pool2d.forEach((c, i) => {
    it(`#${i} ${JSON.stringify(c.shape)} kernel ${c.kernel} stride ${c.stride} padding ${c.padding}`, async () => {
      const leaves = [parameter(fromArray(c.x, c.shape))];
      const { y, grads } = await forwardBackward(([x]) => maxPool2d(x!, c.kernel, { stride: c.stride, padding: c.padding }), leaves, c.g);
      expect(Array.from(y)).toEqual(c.y);
      const geometry = { kernel: [c.kernel, c.kernel], stride: [c.stride, c.stride], padding: [c.padding, c.padding] } as Pool2d;
      expect(Array.from(maxPool2dRef(c.x, c.shape, geometry).argmax)).toEqual(c.indices);   // the CPU reference's ties
      // The gradient lands exactly where PyTorch's indices point, ties included.
      expectClose(grads[0]!, c.dx, { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
  });
});
