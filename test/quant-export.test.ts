// Export: integer weights with scales (and zero points) in safetensors; de-quantizing them reproduces
// the fake-quant model's embeddings bit for bit.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../src/autograd.ts';
import { backward } from '../src/backward.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import { IResNet } from '../src/nn/iresnet.ts';
import type { Layer } from '../src/nn/layers.ts';
import { randn } from '../src/ops/creation.ts';
import { sum } from '../src/ops/reduce.ts';
import { cloneModule } from '../src/quant/clone.ts';
import { exportQuantized, loadQuantizedExport } from '../src/quant/export.ts';
import { quantizeModel } from '../src/quant/model.ts';
import { quantConfig, type QuantConfig } from '../src/quant/policy.ts';
import { ptqQuantize } from '../src/quant/ptq.ts';
import { tidy, type Tensor } from '../src/tensor.ts';

const tmpFile = (): string => join(mkdtempSync(join(tmpdir(), 'lowbit-export-')), 'model.safetensors');
const tiny = (seed = 8): IResNet => new IResNet({ width: 0.0625, inputSize: 16, numFeatures: 16, seed });

async function embed(m: Layer, x: Tensor): Promise<Float32Array> {
  const y = tidy(() => noGrad(() => m.eval().forward(x)));
  const out = await y.toFloat32();
  y.dispose();
  return out;
}

/** A QAT model whose quantizers were initialized by one training step. */
function trainedOneStep(config: QuantConfig): Layer {
  const m = quantizeModel(tiny(), config);
  tidy(() => backward(sum(m.train().forward(randn([4, 3, 16, 16], { seed: 1 })))));
  return m;
}

async function roundTrip(model: Layer, fresh: Layer): Promise<{ path: string; same: boolean }> {
  const path = tmpFile();
  await exportQuantized(model, path);
  loadQuantizedExport(path, fresh);
  const x = randn([5, 3, 16, 16], { seed: 2 });
  const [a, b] = [await embed(model, x), await embed(fresh, x)];
  x.dispose();
  return { path, same: a.length === b.length && a.every((v, i) => Object.is(v, b[i])) };
}

describe('quantized export', () => {
  it('W4A4 LSQ: int8 codes on the grid, per-channel scales; de-quantized embeddings are identical', async () => {
    const config = quantConfig('W4A4');
    const model = trainedOneStep(config);
    const fresh = quantizeModel(tiny(9), config);   // other weights: all of them must come from the file
    const { path, same } = await roundTrip(model, fresh);
    expect(same).toBe(true);
    const file = readSafetensors(path);
    const codes = file.tensors.get('layer2.0.conv1.weight_int')!;
    expect(codes.dtype).toBe('I8');
    expect(codes.shape).toEqual([8, 4, 3, 3]);
    const values = toFloat32(codes);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-8);
    expect(Math.max(...values)).toBeLessThanOrEqual(7);
    expect(file.tensors.get('layer2.0.conv1.weight_scale')!.shape).toEqual([8]);
    expect(file.tensors.get('layer2.0.conv1.input_scale')!.shape).toEqual([1]);
    expect(Math.max(...toFloat32(file.tensors.get('conv1.weight_int')!).map(Math.abs))).toBeGreaterThan(8);   // the 8-bit stem
    expect(file.tensors.has('layer2.0.conv1.weight')).toBe(false);
    expect(file.tensors.has('layer2.0.bn1.running_var')).toBe(true);
    expect(JSON.parse(file.metadata['lowbit.quant']!).layers['layer2.0.conv1'].weight).toEqual({ bits: 4, qmin: -8, qmax: 7, dequant: 'affine', axis: 0 });
    model.dispose();
    fresh.dispose();
  });

  it('DoReFa weights and PACT activations at W3A3: U8 codes, identical embeddings', async () => {
    const config = quantConfig({ policy: 'W3A3', weight: 'dorefa', activation: 'pact' });
    const model = trainedOneStep(config);
    const { path, same } = await roundTrip(model, quantizeModel(tiny(9), config));
    expect(same).toBe(true);
    expect(readSafetensors(path).tensors.get('layer1.0.conv2.weight_int')!.dtype).toBe('U8');
    model.dispose();
  });

  it('PTQ with folded BNs and asymmetric activations (zero points): identical embeddings', async () => {
    const batch = randn([4, 3, 16, 16], { seed: 3 });
    const fp = tiny();
    const q = await ptqQuantize(fp, 'W4A4', [batch], { asymmetricActivations: true });
    const { path, same } = await roundTrip(q, cloneModule(q));
    expect(same).toBe(true);
    expect(readSafetensors(path).tensors.get('layer1.0.conv1.input_zero_point')!.dtype).toBe('I32');
    batch.dispose();
    fp.dispose();
    q.dispose();
  });

  it('refuses an uninitialized model, naming the quantizer', async () => {
    const m = quantizeModel(tiny(), 'W4A4');
    await expect(exportQuantized(m, tmpFile())).rejects.toThrow('exportQuantized: conv1.weight_quant is not initialized (train a step or calibrate first)');
    m.dispose();
  });
});
