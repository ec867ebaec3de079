import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../src/autograd.ts';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.ts';
import { encodeSafetensors, f32Tensor, readSafetensors } from '../src/io/safetensors.ts';
import { loadWeights, saveWeights, WeightsError } from '../src/io/weights.ts';
import { IResNet, iresnet18 } from '../src/nn/iresnet.ts';
import { Linear } from '../src/nn/layers.ts';
import { resnet18 } from '../src/nn/resnet.ts';
import { randn } from '../src/ops/creation.ts';
import { SGD } from '../src/optim/sgd.ts';
import { sizeOf } from '../src/shape.ts';
import { dispose, keep } from '../src/tensor.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'lowbit-nn-'));

describe('model structure', () => {
  it('iresnet18 has arcface_torch\'s parameter names and, at full size, its 24,025,600 parameters', () => {
    const golden = readSafetensors(join(import.meta.dirname, 'fixtures', 'iresnet18_w0125_golden.safetensors'));
    const torchNames = [...golden.tensors.keys()].filter((k) => k.startsWith('param.')).map((k) => k.slice(6)).sort();
    const small = new IResNet({ width: 0.125, inputSize: 32, numFeatures: 32 });
    const ours = [...small.stateTensors().keys(), ...small.namedCounters().map(([n]) => n)].sort();
    expect(ours).toEqual(torchNames);
    small.dispose();
    const full = iresnet18();
    expect(full.namedParameters().reduce((n, [, t]) => n + sizeOf(t.shape), 0)).toBe(24025600);
    expect(full.stateTensors().size + full.namedCounters().length).toBe(187);
    expect(full.fc.weight.shape).toEqual([512, 512 * 7 * 7]);
    // The embedding BN's scale is frozen, as in arcface_torch.
    expect(full.parameters()).not.toContain(full.features.weight);
    full.dispose();
  });

  it('resnet18 (torchvision layout) has 11,439,168 parameters with a 512-d fc', () => {
    const m = resnet18({ numFeatures: 512 });
    expect(m.namedParameters().reduce((n, [, t]) => n + sizeOf(t.shape), 0)).toBe(11439168);
    expect(m.stateTensors().size + m.namedCounters().length).toBe(122);
    m.dispose();
  });

  it('takes a width multiplier and any input size divisible by 16', async () => {
    const m = new IResNet({ width: 0.0625, inputSize: [48, 32], numFeatures: 8 });
    const y = noGrad(() => m.train().forward(randn([2, 3, 48, 32], { seed: 1 })));
    expect(y.shape).toEqual([2, 8]);
    expect(Array.from(await y.toArray()).every(Number.isFinite)).toBe(true);
    expect(() => new IResNet({ inputSize: 100 })).toThrow('iresnet: input size 100x100 must be positive and divisible by 16');
    expect(() => m.forward(randn([1, 3, 32, 32], { seed: 1 }))).toThrow('iresnet: expected input [N, 3, 48, 32], got [1,3,32,32]');
    m.dispose();
  });
});

describe('weights on disk', () => {
  it('round-trips through PyTorch-named safetensors: the reloaded model computes the same embedding', async () => {
    const dir = tmp();
    const a = new IResNet({ width: 0.0625, inputSize: 16, numFeatures: 8, seed: 1 }).eval();
    const b = new IResNet({ width: 0.0625, inputSize: 16, numFeatures: 8, seed: 2 }).eval();
    const x = keep(randn([2, 3, 16, 16], { seed: 3 }));
    await saveWeights(join(dir, 'w.safetensors'), a);
    expect(readSafetensors(join(dir, 'w.safetensors')).tensors.get('bn1.num_batches_tracked')!.dtype).toBe('I64');
    loadWeights(join(dir, 'w.safetensors'), b);
    const ya = await noGrad(() => a.forward(x)).toArray();
    const yb = await noGrad(() => b.forward(x)).toArray();
    expect(Array.from(yb)).toEqual(Array.from(ya));
    dispose([x]);
    a.dispose();
    b.dispose();
  });

  it('a wrong shape, a missing or an extra key, or a wrong dtype is an error naming the key', () => {
    const dir = tmp();
    const model = new Linear(3, 2);
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, encodeSafetensors({ weight: f32Tensor(new Float32Array(8), [2, 4]), extra: f32Tensor(new Float32Array(1), [1]) }));
    expect(() => loadWeights(path, model)).toThrow(WeightsError);
    expect(() => loadWeights(path, model)).toThrow("key 'weight': expected shape [2,3], found [2,4]");
    expect(() => loadWeights(path, model)).toThrow("missing key 'bias' (expected shape [2])");
    expect(() => loadWeights(path, model)).toThrow("unexpected key 'extra'");
    writeFileSync(path, encodeSafetensors({ weight: { dtype: 'I32', shape: [2, 3], bytes: new Uint8Array(24) }, bias: f32Tensor(new Float32Array(2), [2]) }));
    expect(() => loadWeights(path, model)).toThrow("key 'weight': expected dtype F32/F16/BF16/F64, found I32");
    model.dispose();
  });

  it('checkpoints carry the model, extra tensors, the optimizer state and metadata', async () => {
    const dir = tmp();
    const model = new Linear(3, 2, { seed: 1 });
    const head = keep(randn([4, 2], { seed: 5 }));
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    for (const p of model.parameters()) p.grad = keep(randn(p.shape, { seed: 9 }));
    opt.step();
    await saveCheckpoint(join(dir, CHECKPOINT_FILE), { model, extra: new Map([['weight', head]]), optimizer: opt, metadata: { step: '1' } });

    const model2 = new Linear(3, 2, { seed: 2 });
    const opt2 = new SGD(model2.parameters(), { lr: 0.1, momentum: 0.9 });
    const loaded = loadCheckpoint(dir, model2, opt2);
    expect(loaded.metadata.step).toBe('1');
    expect(opt2.stepCount).toBe(1);
    expect(Array.from(await model2.weight.toArray())).toEqual(Array.from(await model.weight.toArray()));
    expect(Array.from(await loaded.extra.get('weight')!.toArray())).toEqual(Array.from(await head.toArray()));
    expect([...opt2.state().keys()].sort()).toEqual(['0.momentum_buffer', '1.momentum_buffer']);
    expect(Array.from(await opt2.state().get('0.momentum_buffer')!.toArray())).toEqual(Array.from(await opt.state().get('0.momentum_buffer')!.toArray()));
    expect(() => loadCheckpoint(join(dir, 'nope'), model2)).toThrow("no checkpoint at '");
    for (const o of [opt, opt2]) o.dispose();
    for (const m of [model, model2]) m.dispose();
    dispose([head, ...loaded.extra.values()]);
  });
});
