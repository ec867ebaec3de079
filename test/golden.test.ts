// Golden tests against PyTorch 1.13 (fixtures written by test/fixtures/make_iresnet_golden.py):
// the same weights and input give the same outputs, loss, gradients and running statistics.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward } from '../src/backward.ts';
import { readSafetensors, toFloat32, type SafetensorsFile } from '../src/io/safetensors.ts';
import { Seeds } from '../src/nn/init.ts';
import { IBasicBlock, IResNet } from '../src/nn/iresnet.ts';
import { ResNet } from '../src/nn/resnet.ts';
import type { Layer } from '../src/nn/layers.ts';
import type { StateEntry } from '../src/nn/module.ts';
import { fromArray } from '../src/ops/creation.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';
import { noGrad } from '../src/autograd.ts';
import { tidy } from '../src/tensor.ts';
import { expectClose } from './helpers.ts';

function section(file: SafetensorsFile, prefix: string): Map<string, StateEntry> {
  const out = new Map<string, StateEntry>();
  for (const [name, t] of file.tensors) {
    if (name.startsWith(prefix)) out.set(name.slice(prefix.length), { data: toFloat32(t), shape: t.shape });
  }
  return out;
}

async function checkGolden(fixture: string, model: Layer, tol: { out: number; grad: number }): Promise<void> {
  const file = readSafetensors(join(import.meta.dirname, 'fixtures', fixture));
  const get = (name: string): { data: Float32Array; shape: number[] } => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`${fixture}: no tensor '${name}'`);
    return { data: toFloat32(t), shape: t.shape };
  };
  model.loadStateDict(section(file, 'param.'));
  model.train();
  const input = get('input');
  const target = get('target');
  const x = fromArray(input.data, input.shape);
  const { out, loss } = tidy(() => {
    const y = model.forward(x);
    const l = sum(mul(y, fromArray(target.data, target.shape)));
    backward(l);
    return { out: y, loss: l };
  });
  expectClose(await out.toArray(), get('output_train').data, { atol: tol.out, rtol: tol.out }, `${fixture} output (train)`);
  expectClose([await loss.item()], get('loss').data, { atol: tol.out, rtol: tol.out }, `${fixture} loss`);
  const params = new Map(model.namedParameters());
  const grads = section(file, 'grad.');
  expect([...grads.keys()].sort()).toEqual(model.parameters().map((p) => [...params].find(([, t]) => t === p)![0]).sort());
  for (const [name, want] of grads) {
    const g = params.get(name)!.grad;
    expect(g, `${name} has a gradient`).not.toBeNull();
    // Gradients are compared relative to the largest element of the tensor: a tiny element carries the
    // rounding of a sum over thousands of products. The floor of 1e-5 covers biases that feed a
    // training-mode BN, whose gradient is exactly 0 in exact arithmetic (both sides are ~1e-6 noise).
    const scale = Math.max(...Array.from(want.data, Math.abs));
    expectClose(await g!.toArray(), want.data, { atol: Math.max(tol.grad * scale, 1e-5), rtol: tol.grad }, `${fixture} grad ${name}`);
  }
  const state = await model.stateDict();
  for (const [name, want] of section(file, 'after.')) {
    expectClose(state.get(name)!.data, want.data, { atol: 1e-5, rtol: 1e-4 }, `${fixture} ${name} after the training step`);
  }
  model.eval();
  const evalOut = noGrad(() => model.forward(x));
  expectClose(await evalOut.toArray(), get('output_eval').data, { atol: tol.out, rtol: tol.out }, `${fixture} output (eval)`);
  for (const t of [x, out, loss, evalOut]) t.dispose();
  for (const p of model.parameters()) p.grad?.dispose();
  model.dispose();
}

describe('golden tests against PyTorch', () => {
  it('one IR block with a stride-2 downsample on an odd input (x [2,8,9,9])', () =>
    checkGolden('ir_block_golden.safetensors', new IBasicBlock(8, 16, 2, new Seeds(0)), { out: 1e-4, grad: 1e-4 }));

  it('iresnet18 at width 1/8 on 32x32 (every parameter gradient, running statistics, eval output)', () =>
    checkGolden('iresnet18_w0125_golden.safetensors', new IResNet({ width: 0.125, inputSize: 32, numFeatures: 32 }), { out: 2e-4, grad: 1e-3 }));

  it('torchvision-style resnet18 at width 1/8 on 64x64 (7x7/2 stem, max-pool, average pool)', () =>
    checkGolden('resnet18_w0125_golden.safetensors', new ResNet({ width: 0.125, numFeatures: 16 }), { out: 2e-4, grad: 1e-3 }));
});
