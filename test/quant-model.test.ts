// Quantized models: the bit-width policy, the names (an FP state dict maps onto the quantized model),
// the config section, and a W4A4 tiny model whose loss falls under quantization-aware training.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/io/checkpoint.ts';
import { cosineLogits, marginSoftmaxLoss } from '../src/loss/margin.ts';
import { backward } from '../src/backward.ts';
import { IResNet } from '../src/nn/iresnet.ts';
import { ResNet } from '../src/nn/resnet.ts';
import { fromArray, randn } from '../src/ops/creation.ts';
import { SGD } from '../src/optim/sgd.ts';
import { loadInitCheckpoint } from '../src/quant/init.ts';
import { QConv2d, QLinear } from '../src/quant/layers.ts';
import { describeQuantization, quantizedLayers, quantizeModel, quantizers } from '../src/quant/model.ts';
import { layerSetting, quantConfig } from '../src/quant/policy.ts';
import { keep, tidy } from '../src/tensor.ts';
import { ConfigError, resolveConfig } from '../src/train/config.ts';
import { buildHead, buildModel } from '../src/train/model.ts';

const tiny = (seed = 1): IResNet => new IResNet({ width: 0.0625, inputSize: 16, numFeatures: 16, seed });

describe('bit-width policy', () => {
  it('W4A4 inside, the first conv and the last fc at W8A8 by default', () => {
    const m = quantizeModel(tiny(), 'W4A4');
    const settings = Object.fromEntries(quantizedLayers(m).map(([n, l]) => [n, l.setting]));
    expect(settings.conv1).toBe('W8A8');
    expect(settings.fc).toBe('W8A8');
    expect(settings['layer2.0.conv1']).toBe('W4A4');
    expect(settings['layer4.0.downsample.0']).toBe('W4A4');
    expect(Object.keys(settings)).toHaveLength(22);   // stem, 8 blocks x 2 convs, 4 downsamples, fc
    expect(m.conv1).toBeInstanceOf(QConv2d);
    expect(m.fc).toBeInstanceOf(QLinear);
    m.dispose();
  });

  it('any per-layer mix: the longest matching prefix wins over first/last and the policy', () => {
    const c = quantConfig({ policy: 'W3A3', first: 'fp', last: 'same', layers: { layer4: 'W2A2', 'layer4.1.conv2': 'W8', 'layer1.0.conv1': 'fp' } });
    expect(layerSetting(c, 'conv1', 'first')).toEqual({ weight: null, activation: null });
    expect(layerSetting(c, 'fc', 'last')).toEqual({ weight: 3, activation: 3 });
    expect(layerSetting(c, 'layer4.0.conv1', 'middle')).toEqual({ weight: 2, activation: 2 });
    expect(layerSetting(c, 'layer4.1.conv2', 'middle')).toEqual({ weight: 8, activation: null });
    expect(layerSetting(c, 'layer40.conv1', 'middle')).toEqual({ weight: 3, activation: 3 });   // a prefix ends at a dot
    const m = quantizeModel(tiny(), c);
    const names = quantizedLayers(m).map(([n]) => n);
    expect(names).not.toContain('conv1');
    expect(names).not.toContain('layer1.0.conv1');
    expect(describeQuantization(m)).toContain('layer4.1.conv2: W8 (weights lsq/channel, input -)');
    m.dispose();
    expect(() => quantizeModel(tiny(), { layers: { layer5: 'W2A2' } })).toThrow("quant.layers.layer5: no conv or linear layer is named 'layer5' or lies under it (layers: conv1, layer1.0.conv1,");
  });

  it('W8A8, W3A3, W2A2 and weight-only settings parse; malformed ones name the field', () => {
    for (const p of ['W8A8', 'W3A3', 'W2A2', 'W4A8', 'W4', 'fp']) expect(() => quantConfig(p)).not.toThrow();
    expect(() => quantConfig('W9A4')).toThrow(`quant.policy: expected 'fp' or 'W<bits>A<bits>' / 'W<bits>' with bits 2..8 (e.g. 'W4A4'), got "W9A4"`);
    expect(() => quantConfig({ layers: { fc: 'A4' } })).toThrow('quant.layers.fc: expected');
    expect(() => quantConfig({ weight: 'pact' as never })).toThrow("quant.weight: expected one of lsq, minmax, dorefa, got \"pact\"");
  });

  it('activation grids: signed after BN/PReLU (iresnet18), unsigned after ReLU (resnet18) except the image', () => {
    const ir = quantizeModel(tiny(), 'W4A4');
    expect(quantizers(ir).filter(([n]) => n.endsWith('input_quant')).every(([, q]) => q.spec.signed)).toBe(true);
    const r = quantizeModel(new ResNet({ width: 0.0625, numFeatures: 8 }), 'W4A4');
    const signed = quantizers(r).filter(([n, q]) => n.endsWith('input_quant') && q.spec.signed).map(([n]) => n);
    expect(signed).toEqual(['conv1.input_quant']);
    ir.dispose();
    r.dispose();
  });
});

describe('names', () => {
  it('FP parameters keep their names and tensors; quantizers add their own entries', async () => {
    const fp = tiny();
    const fpKeys = [...(await fp.stateDict()).keys()];
    const tensorsBefore = fp.namedParameters().map(([, t]) => t);
    const q = quantizeModel(fp, 'W4A4');
    const qKeys = [...(await q.stateDict()).keys()];
    expect(qKeys.filter((k) => !k.includes('_quant.'))).toEqual(fpKeys);
    expect(qKeys).toContain('layer1.0.conv1.weight_quant.step');
    expect(qKeys).toContain('layer1.0.conv1.input_quant.step');
    expect(qKeys).toContain('layer1.0.conv1.input_quant.initialized');
    const tensorsAfter = q.namedParameters().filter(([n]) => !n.includes('_quant.')).map(([, t]) => t);
    expect(tensorsAfter).toEqual(tensorsBefore);
    // Parameter names are their dotted paths: the optimizers key their state by name.
    expect(q.namedParameters().every(([n, t]) => t.name === n)).toBe(true);
    q.dispose();
  });

  it('an FP checkpoint loads into the quantized model; its quantizers are left for the first batch', async () => {
    const fp = tiny(5);
    const dir = mkdtempSync(join(tmpdir(), 'lowbit-quant-'));
    await saveCheckpoint(join(dir, 'checkpoint.safetensors'), { model: fp, metadata: {} });
    const q = quantizeModel(tiny(6), 'W4A4');
    loadInitCheckpoint(dir, q);
    expect(Array.from(await q.fc.weight.toArray())).toEqual(Array.from(await fp.fc.weight.toArray()));
    expect(quantizers(q).every(([, z]) => !z.initialized)).toBe(true);
    fp.dispose();
    q.dispose();
  });
});

describe('config', () => {
  it('the quant section is optional, completed with defaults, and validated field by field', () => {
    expect(resolveConfig({}).quant).toBeUndefined();
    const c = resolveConfig({ quant: 'W2A2' });
    expect(c.quant).toEqual({ ...quantConfig('W2A2') });
    expect(resolveConfig({ quant: { policy: 'W3A3', weight: 'dorefa', activation: 'pact' } }).quant!.weight).toBe('dorefa');
    let message = '';
    try {
      resolveConfig({ quant: { policy: 'W1A1', first: 'W8A9', activation: 'relu', rounding: 'up', bits: 4 } });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    for (const part of ['quant.bits: unknown field', 'quant.policy: expected', "quant.first: expected 'fp', 'same' or", "quant.activation: expected one of 'lsq', 'pact', 'static', got \"relu\"", 'quant.rounding: expected one of']) {
      expect(message).toContain(part);
    }
  });

  it('buildModel quantizes when the config says so', () => {
    const c = resolveConfig({ model: { width: 0.0625, inputSize: 16, numFeatures: 16 }, quant: 'W4A4' });
    const m = buildModel(c.model, 1, c.quant);
    expect(quantizedLayers(m)).toHaveLength(22);
    m.dispose();
  });
});

describe('quantization-aware training', () => {
  it('a W4A4 tiny model (iresnet18 width 1/16, 16x16, 4 identities) lowers its loss', async () => {
    const model = quantizeModel(tiny(3), 'W4A4');
    const head = buildHead(4, 16, 4);
    const opt = new SGD([...model.parameters(), head], { lr: 0.05, momentum: 0.9 });
    const x = keep(randn([16, 3, 16, 16], { seed: 9 }));   // 4 images per identity
    const labels = keep(fromArray(Int32Array.from({ length: 16 }, (_, i) => i % 4), [16]));
    const losses: number[] = [];
    for (let step = 0; step < 24; step++) {
      const loss = tidy(() => {
        const out = marginSoftmaxLoss(cosineLogits(model.forward(x), head), labels, { s: 8, m2: 0.1 });
        backward(out.loss);
        opt.step();
        opt.zeroGrad();
        return out.loss;
      });
      losses.push(await loss.item());
      loss.dispose();
    }
    expect(quantizers(model).every(([, q]) => q.initialized)).toBe(true);
    const first = (losses[0]! + losses[1]!) / 2;
    const last = (losses[22]! + losses[23]!) / 2;
    expect(last, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.6 * first);
    opt.dispose();
    model.dispose();
    head.dispose();
    x.dispose();
    labels.dispose();
  });
});
