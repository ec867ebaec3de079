// The fused path of quantization-aware training: in an IR block, bn1 -> conv1 runs conv1's activation
// fake quantization in bn1's normalization epilogue, and prelu -> conv2 conv2's in the PReLU kernel
// (kernels/batchnorm.ts runBatchNormNormalizeFakeQuant, kernels/prelu.ts runPreluFakeQuant). It must
// change nothing but the dispatch count: the same outputs, gradients and running statistics as the
// unfused path, bit for bit, in training and in eval mode.
import { afterEach, describe, expect, it } from 'vitest';
import { backward } from '../src/backward.ts';
import { gpu } from '../src/gpu/device.ts';
import { startProfiling, stopProfiling } from '../src/gpu/profiler.ts';
import { IBasicBlock } from '../src/nn/iresnet.ts';
import { Seeds } from '../src/nn/init.ts';
import { randn } from '../src/ops/creation.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';
import { setFusedEpilogues } from '../src/quant/layers.ts';
import { quantizeModel } from '../src/quant/model.ts';
import type { ActivationMethod } from '../src/quant/policy.ts';
import type { Shape } from '../src/shape.ts';
import { keep, tidy } from '../src/tensor.ts';

afterEach(() => setFusedEpilogues(true));

/** A W4A4 IR block whose quantizers were initialized by one training batch (unfused, as always). */
async function initializedBlock(x0Shape: Shape, activation: ActivationMethod): Promise<IBasicBlock> {
  const block = quantizeModel(new IBasicBlock(x0Shape[1]!, x0Shape[1]!, 1, new Seeds(3)), { policy: 'W4A4', activation, first: 'same', last: 'same' }).train();
  tidy(() => block.forward(randn(x0Shape, { seed: 1 })));
  await gpu().recorder.sync();
  return block;
}

/** Output, every gradient and every buffer after one step on x, fused or not. */
async function step(fused: boolean, shape: Shape, training: boolean, activation: ActivationMethod): Promise<{ values: Map<string, Float32Array>; kernels: string[] }> {
  const block = await initializedBlock(shape, activation);
  if (!training) block.eval();
  setFusedEpilogues(fused);
  const profiler = startProfiling(gpu());
  const y = keep(tidy(() => {
    const out = block.forward(randn(shape, { seed: 2, std: 4 })); // wider than the init batch: codes clip at both ends
    if (training) backward(sum(mul(out, randn(out.shape, { seed: 4 }))));
    return out;
  }));
  await gpu().recorder.sync();
  const kernels = (await stopProfiling(gpu(), profiler)).map((r) => r.name);
  const values = new Map<string, Float32Array>([['y', (await y.toArray()) as Float32Array]]);
  for (const [name, p] of block.namedParameters()) if (p.grad) values.set(`grad ${name}`, (await p.grad.toArray()) as Float32Array);
  for (const [name, b] of block.namedBuffers()) values.set(name, (await b.toArray()) as Float32Array);
  y.dispose();
  block.dispose();
  return { values, kernels };
}

describe('fake quant in the epilogue of batch norm and PReLU', () => {
  const cases: [string, Shape, ActivationMethod][] = [
    ['LSQ, vec4 planes (4x4)', [2, 8, 4, 4], 'lsq'], ['LSQ, scalar planes (5x5)', [2, 8, 5, 5], 'lsq'], ['PACT, vec4 planes (4x4)', [2, 8, 4, 4], 'pact'],
  ];
  for (const [label, shape, activation] of cases) {
    for (const training of [true, false]) {
      it(`${label}, ${training ? 'training' : 'eval'}: the same output, gradients and statistics as the unfused path, bit for bit`, async () => {
        const fused = await step(true, shape, training, activation);
        const unfused = await step(false, shape, training, activation);
        for (const kernel of ['batch_norm_normalize_fq', 'prelu_fq']) {
          expect(fused.kernels).toContain(kernel);
          expect(unfused.kernels).not.toContain(kernel);
        }
        // two dispatches fewer: each producer and its consumer's input fake quant are one
        expect(unfused.kernels.length - fused.kernels.length).toBe(2);
        expect([...fused.values.keys()]).toEqual([...unfused.values.keys()]);
        const scaleParam = activation === 'pact' ? 'alpha' : 'step';
        if (training) expect([...fused.values.keys()].filter((k) => k.startsWith('grad '))).toEqual(expect.arrayContaining([`grad conv1.input_quant.${scaleParam}`, `grad conv2.input_quant.${scaleParam}`, 'grad prelu.weight']));
        for (const [name, v] of fused.values) expect(v, name).toEqual(unfused.values.get(name));
      });
    }
  }
});
