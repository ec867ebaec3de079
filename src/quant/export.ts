// Export of a fake-quantized model: integer weights with their scales (and zero points), input scales,
// and every other tensor (BN, PReLU, biases) in float32, in one safetensors file.
//   <layer>.weight_int          I8 codes (U8 for unsigned DoReFa codes), the weight's shape
//   <layer>.weight_scale        F32 [C]  (C = output channels, or 1)
//   <layer>.weight_zero_point   I32 [C]  (asymmetric only)
//   <layer>.input_scale         F32 [1], <layer>.input_zero_point I32 [1] (asymmetric only)
//   metadata "lowbit.quant": JSON { layers: { <layer>: { weight: {...}, input: {...} } } }
// De-quantizing is w = (q - z) * scale in float32, or for DoReFa w = 2 (q * scale) - 1: one rounding
// each, the same as the fake-quant kernels', so a model rebuilt from the file computes bit-identical
// embeddings (exportQuantized checks every weight before writing).
import { runUnary } from '../../kernels/elementwise.ts';
import { noGrad } from '../autograd.ts';
import { f32Tensor, i32Tensor, i8Tensor, readSafetensors, toFloat32, writeSafetensors, type SafeTensor } from '../io/safetensors.ts';
import { Identity, type Layer } from '../nn/layers.ts';
import type { StateEntry } from '../nn/module.ts';
import { zeros } from '../ops/creation.ts';
import { keep, tidy, type Tensor } from '../tensor.ts';
import { labelQuantizers, quantizedLayers, replaceModule } from './model.ts';
import { Quantizer, StaticQuantizer, type Quantized } from './quantizers.ts';
import type { QuantizerSpec } from './policy.ts';

const META_KEY = 'lowbit.quant';

interface WeightMeta {
  bits: number;
  qmin: number;
  qmax: number;
  dequant: Quantized['dequant'];
  /** Channel axis of the scales (0), when there is more than one. */
  axis: number;
}

interface InputMeta {
  bits: number;
  qmin: number;
  qmax: number;
  signed: boolean;
  symmetric: boolean;
  rounding: QuantizerSpec['rounding'];
}

interface ExportMeta {
  version: 1;
  layers: Record<string, { weight?: WeightMeta; input?: InputMeta }>;
}

const f = Math.fround;

export function dequantize(q: number, scale: number, zeroPoint: number, kind: Quantized['dequant']): number {
  return kind === 'dorefa' ? f(2 * f(q * scale) - 1) : f((q - zeroPoint) * scale);
}

/** The quantizer's output on `x` read back: values, scales, zero points (copies; freed here). */
async function readQuantized(q: Quantizer, x: Tensor): Promise<{ y: Float32Array; scale: Float32Array; zeroPoint: Float32Array | null; dequant: Quantized['dequant'] }> {
  const out = tidy(() => noGrad(() => {
    const r = q.quantize(x);
    return { y: r.y, scale: keep(runUnary('copy', r.scale)), zeroPoint: r.zeroPoint ? keep(runUnary('copy', r.zeroPoint)) : null, dequant: r.dequant };
  }));
  const read = { y: await out.y.toFloat32(), scale: await out.scale.toFloat32(), zeroPoint: out.zeroPoint ? await out.zeroPoint.toFloat32() : null, dequant: out.dequant };
  for (const t of [out.y, out.scale, out.zeroPoint]) t?.dispose();
  return read;
}

/** Integer codes of fake-quantized weights, checked to de-quantize to exactly the same floats. */
function codesOf(layer: string, y: Float32Array, scale: Float32Array, zeroPoint: Float32Array | null, kind: Quantized['dequant']): Int32Array {
  const perChannel = y.length / scale.length;
  return Int32Array.from(y, (v, i) => {
    const c = Math.floor(i / perChannel);
    const [s, z] = [scale[c]!, zeroPoint ? zeroPoint[c]! : 0];
    const q = kind === 'dorefa' ? Math.round((v + 1) / (2 * s)) : Math.round(v / s) + z;
    if (dequantize(q, s, z, kind) !== v) {
      throw new Error(`exportQuantized: ${layer}.weight[${i}] = ${v} is not on its grid (scale ${s}, zero point ${z}; nearest code ${q} gives ${dequantize(q, s, z, kind)})`);
    }
    return q;
  });
}

/** Writes `model`'s quantized state to `path` (safetensors). Every quantizer must be initialized. */
export async function exportQuantized(model: Layer, path: string, metadata: Record<string, string> = {}): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  const meta: ExportMeta = { version: 1, layers: {} };
  const covered = new Set<string>();
  for (const [name, layer] of quantizedLayers(model)) {
    for (const q of [layer.weightQuant, layer.inputQuant]) {
      if (q instanceof Quantizer && !q.initialized) throw new Error(`exportQuantized: ${q.label} is not initialized (train a step or calibrate first)`);
    }
    const entry: ExportMeta['layers'][string] = {};
    for (const [key] of layer.namedParameters(`${name}.`)) if (key.includes('_quant.')) covered.add(key);
    for (const [key] of layer.namedBuffers(`${name}.`)) if (key.includes('_quant.')) covered.add(key);
    if (layer.weightQuant instanceof Quantizer) {
      const wq = layer.weightQuant;
      const r = await readQuantized(wq, layer.weight);
      const codes = codesOf(name, r.y, r.scale, r.zeroPoint, r.dequant);
      tensors.set(`${name}.weight_int`, wq.range.qmin < 0 ? i8Tensor(Int8Array.from(codes), layer.weight.shape) : { dtype: 'U8', shape: [...layer.weight.shape], bytes: Uint8Array.from(codes) });
      tensors.set(`${name}.weight_scale`, f32Tensor(r.scale, [r.scale.length]));
      if (r.zeroPoint) tensors.set(`${name}.weight_zero_point`, i32Tensor(Int32Array.from(r.zeroPoint), [r.zeroPoint.length]));
      entry.weight = { bits: wq.spec.bits, ...wq.range, dequant: r.dequant, axis: 0 };
      covered.add(`${name}.weight`);
    }
    if (layer.inputQuant instanceof Quantizer) {
      const iq = layer.inputQuant;
      // The scale of an activation quantizer does not depend on its input: one element stands in.
      const probe = zeros([1]);
      const r = await readQuantized(iq, probe);
      probe.dispose();
      tensors.set(`${name}.input_scale`, f32Tensor(r.scale, [1]));
      if (r.zeroPoint) tensors.set(`${name}.input_zero_point`, i32Tensor(Int32Array.from(r.zeroPoint), [1]));
      entry.input = { bits: iq.spec.bits, ...iq.range, signed: iq.spec.signed, symmetric: !r.zeroPoint, rounding: iq.spec.rounding };
    }
    for (const [key] of layer.namedCounters(`${name}.`)) if (key.includes('_quant.')) covered.add(key);
    meta.layers[name] = entry;
  }
  for (const [name, e] of await model.stateDict()) {
    if (covered.has(name)) continue;
    tensors.set(name, e.data instanceof Int32Array ? i32Tensor(e.data, e.shape) : f32Tensor(e.data, e.shape));
  }
  writeSafetensors(path, tensors, { ...metadata, [META_KEY]: JSON.stringify(meta) });
}

/**
 * Loads an export into `model`, a quantized model of the same structure (e.g. buildModel with the same
 * quant config): weights become their de-quantized floats (their quantizers are replaced by identities:
 * the values are on the grid already), inputs get static quantizers with the exported scales.
 */
export function loadQuantizedExport(path: string, model: Layer): void {
  const file = readSafetensors(path);
  const raw = file.metadata[META_KEY];
  if (!raw) throw new Error(`loadQuantizedExport: ${path} has no '${META_KEY}' metadata (not a lowbit quantized export)`);
  const meta = JSON.parse(raw) as ExportMeta;
  const entries = new Map<string, StateEntry>();
  const quantKeys = new Set<string>();
  const layers = new Map(quantizedLayers(model));
  for (const [name, m] of Object.entries(meta.layers)) {
    const layer = layers.get(name);
    if (!layer) throw new Error(`loadQuantizedExport: ${path} has quantized layer '${name}', the model does not`);
    if (m.weight) {
      const codes = toFloat32(file.tensors.get(`${name}.weight_int`)!);
      const scale = toFloat32(file.tensors.get(`${name}.weight_scale`)!);
      const zp = file.tensors.get(`${name}.weight_zero_point`);
      const zeroPoint = zp ? toFloat32(zp) : null;
      const perChannel = codes.length / scale.length;
      const w = Float32Array.from(codes, (q, i) => {
        const c = Math.floor(i / perChannel);
        return dequantize(q, scale[c]!, zeroPoint ? zeroPoint[c]! : 0, m.weight!.dequant);
      });
      entries.set(`${name}.weight`, { data: w, shape: layer.weight.shape });
      quantKeys.add(`${name}.weight_int`).add(`${name}.weight_scale`).add(`${name}.weight_zero_point`);
      layer.weightQuant?.dispose();
      replaceModule(model, `${name}.weight_quant`, new Identity());
    }
    if (m.input) {
      const spec: QuantizerSpec = {
        target: 'activation', method: 'static', bits: m.input.bits, signed: m.input.qmin < 0, symmetric: m.input.symmetric,
        perChannel: false, rounding: m.input.rounding, ste: 'clipped', narrow: m.input.qmin < 0 && m.input.qmin === -m.input.qmax,
      };
      const q = new StaticQuantizer(spec, 1);
      const scale = toFloat32(file.tensors.get(`${name}.input_scale`)!);
      const zp = file.tensors.get(`${name}.input_zero_point`);
      entries.set(`${name}.input_quant.scale`, { data: scale, shape: [1] });
      entries.set(`${name}.input_quant.zero_point`, { data: zp ? toFloat32(zp) : new Float32Array(1), shape: [1] });
      entries.set(`${name}.input_quant.initialized`, { data: Int32Array.of(1), shape: [] });
      quantKeys.add(`${name}.input_scale`).add(`${name}.input_zero_point`);
      layer.inputQuant?.dispose();
      replaceModule(model, `${name}.input_quant`, q);
    }
  }
  for (const [key, t] of file.tensors) {
    if (quantKeys.has(key)) continue;
    entries.set(key, { data: t.dtype === 'I32' ? new Int32Array(toFloat32(t)) : toFloat32(t), shape: t.shape });
  }
  labelQuantizers(model);
  model.loadStateDict(entries);
}
