// Post-training quantization: calibration on known distributions, BN folding, the PTQ model and its
// per-layer error report.
import { describe, expect, it } from 'vitest';
import { noGrad } from '../src/autograd.ts';
import { IResNet } from '../src/nn/iresnet.ts';
import type { Layer } from '../src/nn/layers.ts';
import { copyInto } from '../src/nn/module.ts';
import { BatchNorm } from '../src/nn/norm.ts';
import { ResNet } from '../src/nn/resnet.ts';
import { fromArray, rand, randn } from '../src/ops/creation.ts';
import { normalArray, uniformArray } from '../src/random.ts';
import { RangeObserver } from '../src/quant/calibrate.ts';
import { cloneModule } from '../src/quant/clone.ts';
import { foldBatchNorm } from '../src/quant/fold.ts';
import { StaticQuantizer } from '../src/quant/quantizers.ts';
import { moduleAt, quantizedLayers } from '../src/quant/model.ts';
import { ptqQuantize } from '../src/quant/ptq.ts';
import { formatReport, quantizationReport } from '../src/quant/report.ts';
import { dispose, tidy, type Tensor } from '../src/tensor.ts';
import { expectClose } from './helpers.ts';

const observe = (values: Float32Array): RangeObserver => {
  const o = new RangeObserver(1 << 16, 1);
  o.update(values);
  return o;
};

describe('calibration on known distributions', () => {
  const uniform = uniformArray(200_000, 3, -2, 2);
  it('uniform data: min/max and the 99.99th percentile both give the range [-2, 2]', () => {
    const mm = observe(uniform).range('minmax', -128, 127, true);
    expect(mm.hi).toBeCloseTo(2, 3);
    expect(mm.lo).toBe(-mm.hi);
    const pc = observe(uniform).range('percentile', -128, 127, true, 99.99);
    expect(pc.hi).toBeGreaterThan(1.99);
    expect(pc.hi).toBeLessThanOrEqual(2);
  });

  it('the percentile clips outliers that min/max keeps', () => {
    const withOutliers = Float32Array.from(uniform);
    for (let i = 0; i < 40; i++) withOutliers[i * 5000] = i % 2 ? 50 : -50;   // 0.02% of the values
    expect(observe(withOutliers).range('minmax', -8, 7, true).hi).toBe(50);
    const pc = observe(withOutliers).range('percentile', -8, 7, true, 99.9);
    expect(pc.hi).toBeGreaterThan(1.98);
    expect(pc.hi).toBeLessThan(2.01);
  });

  it('asymmetric and unsigned grids: percentiles of x, lower end at 0 for ReLU-like data', () => {
    const shifted = Float32Array.from(uniform, (v) => v + 3);   // U(1, 5)
    const r = observe(shifted).range('percentile', 0, 255, false, 99.99);
    expect(r.lo).toBe(0);   // ranges always include 0: it must stay exactly representable
    expect(r.hi).toBeCloseTo(5, 2);
  });

  it('MSE-optimal clipping of a Gaussian: about 2.5 sigma at 4 bits, wider at 8 bits', () => {
    const gauss = normalArray(1 << 16, 7, 0, 1);
    const c4 = observe(gauss).range('mse', -8, 7, true).hi;
    const c8 = observe(gauss).range('mse', -128, 127, true).hi;
    expect(c4).toBeGreaterThan(2.0);
    expect(c4).toBeLessThan(3.1);
    expect(c8).toBeGreaterThan(c4 + 0.5);
  });

  it('calibrate() on a model: the stem quantizer sees the images, U(-1, 1) gives scale max|x| / 127', async () => {
    const fp = new IResNet({ width: 0.0625, inputSize: 16, numFeatures: 16 });
    const batches = [0, 1].map((i) => rand([4, 3, 16, 16], { seed: 40 + i, lo: -1, hi: 1 }));
    const q = await ptqQuantize(fp, 'W8A8', batches, { calibration: { method: 'minmax' } });
    let maxAbs = 0;
    for (const b of batches) for (const v of await b.toArray()) maxAbs = Math.max(maxAbs, Math.abs(v));
    const stem = moduleAt(q, 'conv1.input_quant') as StaticQuantizer;
    expect((await stem.scale.toArray())[0]).toBe(Math.fround(maxAbs / 127));
    dispose(batches);
    fp.dispose();
    q.dispose();
  });
});

/** Random BN affine parameters and running statistics, so that folding has something to fold. */
function randomizeBatchNorms(model: Layer, seed: number): void {
  let s = seed;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm)) continue;
    const C = m.numFeatures;
    const set = (t: Tensor | null, values: Float32Array): void => {
      if (!t) return;
      const src = fromArray(values, [C]);
      copyInto(t, src);
      src.dispose();
    };
    set(m.weight, uniformArray(C, s++, 0.5, 1.5));
    set(m.bias, normalArray(C, s++, 0, 0.2));
    set(m.runningMean, normalArray(C, s++, 0, 0.3));
    set(m.runningVar, uniformArray(C, s++, 0.5, 2));
  }
}

const forwardEval = (m: Layer, x: Tensor): Tensor => tidy(() => noGrad(() => m.eval().forward(x)));

describe('BN folding', () => {
  for (const [name, build] of [
    ['iresnet18', () => new IResNet({ width: 0.125, inputSize: 16, numFeatures: 16, seed: 2 })],
    ['resnet18', () => new ResNet({ width: 0.125, numFeatures: 16, seed: 2 })],
  ] as const) {
    it(`preserves the outputs of ${name} (eval mode)`, async () => {
      const fp = build();
      randomizeBatchNorms(fp, 11);
      const folded = cloneModule(fp);
      const plan = await foldBatchNorm(folded);
      expect(plan.length).toBe(name === 'iresnet18' ? 22 : 20);   // resnet18's layer1 has no downsample
      const x = randn([3, 3, 16, 16], { seed: 5 });
      const [a, b] = [forwardEval(fp, x), forwardEval(folded, x)];
      const want = await a.toArray();
      const scale = Math.max(...Array.from(want, Math.abs));
      expectClose(await b.toArray(), want, { atol: 1e-5 * scale, rtol: 1e-4 }, `${name} folded`);
      dispose([a, b, x]);
      fp.dispose();
      folded.dispose();
    });
  }
});

describe('post-training quantization', () => {
  it('W8A8 keeps the embedding (cosine > 0.99), W4A4 loses more; the FP model is untouched', async () => {
    const fp = new IResNet({ width: 0.125, inputSize: 16, numFeatures: 16, seed: 4 });
    randomizeBatchNorms(fp, 21);
    const batches = [0, 1].map((i) => randn([8, 3, 16, 16], { seed: 60 + i }));
    const before = forwardEval(fp, batches[0]!);
    const q8 = await ptqQuantize(fp, 'W8A8', batches);
    const q4 = await ptqQuantize(fp, 'W4A4', batches, { calibration: { method: 'percentile', percentile: 99.9 } });
    const after = forwardEval(fp, batches[0]!);
    expect(Array.from(await after.toArray())).toEqual(Array.from(await before.toArray()));
    const r8 = await quantizationReport(fp, q8, batches);
    const r4 = await quantizationReport(fp, q4, batches);
    expect(r8.layers.map((l) => l.layer)).toEqual(quantizedLayers(q8).map(([n]) => n));
    expect(r8.layers.find((l) => l.layer === 'layer1.0.conv2')!.reference).toBe('layer1.0.bn3');   // folded
    expect(r8.layers.find((l) => l.layer === 'fc')!.reference).toBe('features');
    expect(r8.embedding.cosine).toBeGreaterThan(0.99);
    expect(r8.layers.every((l) => l.cosine > 0.99 && l.relL2 < 0.15)).toBe(true);
    expect(r4.embedding.meanAngleDeg).toBeGreaterThan(r8.embedding.meanAngleDeg);
    expect(formatReport(r8)).toMatch(/^conv1 +W8A8 +rel L2 0\.\d{4} +cos 0\.\d{5} +\(vs FP bn1\)/);
    dispose([...batches, before, after]);
    for (const m of [fp, q8, q4]) m.dispose();
  });

  it('without folding and with shared weights, the quantized layers hold the FP tensors', async () => {
    const fp = new IResNet({ width: 0.0625, inputSize: 16, numFeatures: 16, seed: 4 });
    const batch = randn([4, 3, 16, 16], { seed: 70 });
    const q = await ptqQuantize(fp, 'W8A8', [batch], { foldBn: false, shareWeights: true, asymmetricActivations: true });
    expect(quantizedLayers(q).find(([n]) => n === 'layer1.0.conv1')![1].weight).toBe(fp.stages[0]!.layers[0]!.namedParameters().find(([n]) => n === 'conv1.weight')![1]);
    const stem = moduleAt(q, 'conv1.input_quant') as StaticQuantizer;
    expect(stem.spec.symmetric).toBe(false);
    expect((await stem.zeroPoint.toArray())[0]).toBeGreaterThan(0);
    const r = await quantizationReport(fp, q, [batch]);
    expect(r.layers[1]!.reference).toBe(r.layers[1]!.layer);
    expect(r.embedding.cosine).toBeGreaterThan(0.99);
    batch.dispose();
    q.dispose();   // frees the shared tensors too: fp is done with
  });
});
