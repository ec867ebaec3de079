// Bit-width policy: which conv and linear layers are quantized, at how many bits, by which method.
// A setting is 'W<b>A<b>' (weights and the layer's input), 'W<b>' (weights only) or 'fp', b in 2..8.
//
// Defaults and why:
// - first conv and last linear at W8A8, not full precision: an integer-only deployment needs every
//   layer in integers, and 8 bits costs these two almost nothing (the stem conv has only 27 weights per
//   filter on 3 input channels and ~1% of iresnet18's FLOPs; the fc is ~50% of iresnet18's parameters,
//   so keeping it in FP32 would keep half the model's size). LSQ reports its results with this choice.
//   'fp' or 'same' (follow the policy) are one config field away.
// - LSQ for weights and activations: learned steps are what RCM was combined with, and train stably at 2-4 bits.
// - weights per output channel, activations per tensor: channel scales absorb the spread of filter norms
//   at no cost to integer kernels (one scale per output row); per-tensor activations keep the integer
//   GEMM's inner loop free of scales.
// - rounding half to even, as torch.round and torch.fake_quantize_per_tensor_affine (and WGSL's round).
import type { Rounding, Ste } from '../../kernels/fake_quant.ts';

export type WeightMethod = 'lsq' | 'minmax' | 'dorefa';
export type ActivationMethod = 'lsq' | 'pact' | 'static';
export const WEIGHT_METHODS: readonly WeightMethod[] = ['lsq', 'minmax', 'dorefa'];
export const ACTIVATION_METHODS: readonly ActivationMethod[] = ['lsq', 'pact', 'static'];

/** One quantizer (src/quant/quantizers.ts). */
export interface QuantizerSpec {
  target: 'weight' | 'activation';
  method: WeightMethod | ActivationMethod;
  bits: number;
  signed: boolean;
  /** false: a zero point (minmax, static); the learned quantizers are symmetric. */
  symmetric: boolean;
  /** One scale per output channel (axis 0 of the weight), else one for the tensor. */
  perChannel: boolean;
  rounding: Rounding;
  ste: Ste;
  /** A signed grid without its lowest code (-2^(b-1) + 1 .. 2^(b-1) - 1): symmetric clipping (PACT). */
  narrow?: boolean;
}

export interface QuantConfig {
  /** Every conv and linear layer: 'W4A4', 'W8A8', 'W3A3', 'W2A2', any 'W<b>A<b>', 'W<b>' or 'fp'. */
  policy: string;
  /** The first conv (the stem): a setting, or 'same' to follow `policy`. */
  first: string;
  /** The last linear (the embedding fc): a setting, or 'same'. */
  last: string;
  /** Per-layer overrides by dotted name or name prefix ({ "layer4": "W2A2", "layer1.0.conv1": "fp" });
   *  the longest matching prefix wins, over first/last and policy. */
  layers: Record<string, string>;
  weight: WeightMethod;
  activation: ActivationMethod;
  weightGranularity: 'channel' | 'tensor';
  rounding: Rounding;
}

export const DEFAULT_QUANT: QuantConfig = {
  policy: 'W4A4',
  first: 'W8A8',
  last: 'W8A8',
  layers: {},
  weight: 'lsq',
  activation: 'lsq',
  weightGranularity: 'channel',
  rounding: 'half-even',
};

export const QUANT_FIELDS = Object.keys(DEFAULT_QUANT) as (keyof QuantConfig)[];

export interface LayerBits {
  weight: number | null;
  activation: number | null;
}

/** 'W4A4' -> {4, 4}, 'W8' -> {8, null}, 'fp' -> {null, null}; undefined when malformed. */
export function parseSetting(s: string): LayerBits | undefined {
  if (s === 'fp') return { weight: null, activation: null };
  const m = /^W([2-8])(?:A([2-8]))?$/.exec(s);
  if (!m) return undefined;
  return { weight: Number(m[1]), activation: m[2] ? Number(m[2]) : null };
}

/** The message for a malformed setting, naming the field; null when it is fine. */
export function settingProblem(field: string, v: unknown, allowSame = false): string | null {
  if (typeof v === 'string' && (parseSetting(v) || (allowSame && v === 'same'))) return null;
  return `${field}: expected 'fp'${allowSame ? ", 'same'" : ''} or 'W<bits>A<bits>' / 'W<bits>' with bits 2..8 (e.g. 'W4A4'), got ${JSON.stringify(v)}`;
}

/** A policy string ('W4A4') or a partial config, completed with the defaults. */
export function quantConfig(c: string | Partial<QuantConfig>): QuantConfig {
  const config = { ...DEFAULT_QUANT, ...(typeof c === 'string' ? { policy: c } : c) };
  for (const [field, v] of [['policy', config.policy], ['first', config.first], ['last', config.last]] as const) {
    const problem = settingProblem(`quant.${field}`, v, field !== 'policy');
    if (problem) throw new RangeError(problem);
  }
  for (const [name, v] of Object.entries(config.layers)) {
    const problem = settingProblem(`quant.layers.${name}`, v);
    if (problem) throw new RangeError(problem);
  }
  if (!WEIGHT_METHODS.includes(config.weight)) throw new RangeError(`quant.weight: expected one of ${WEIGHT_METHODS.join(', ')}, got ${JSON.stringify(config.weight)}`);
  if (!ACTIVATION_METHODS.includes(config.activation)) throw new RangeError(`quant.activation: expected one of ${ACTIVATION_METHODS.join(', ')}, got ${JSON.stringify(config.activation)}`);
  return config;
}

/** The setting of layer `name`: the longest matching `layers` prefix, else first/last, else policy. */
export function layerSetting(c: QuantConfig, name: string, position: 'first' | 'last' | 'middle'): LayerBits {
  const prefixes = Object.keys(c.layers).filter((p) => name === p || name.startsWith(`${p}.`));
  const best = prefixes.sort((a, b) => b.length - a.length)[0];
  let s = best !== undefined ? c.layers[best]! : position === 'middle' ? c.policy : c[position];
  if (s === 'same') s = c.policy;
  return parseSetting(s)!;
}

export interface LayerQuantSpec {
  weight: QuantizerSpec | null;
  input: QuantizerSpec | null;
}

/**
 * The quantizers of one layer under `c`; `inputSigned` is whether the layer's input can be negative.
 * `asymmetricInput`: an unsigned grid with a zero point for the input (static quantizers only).
 */
export function layerQuantSpec(c: QuantConfig, bits: LayerBits, inputSigned: boolean, asymmetricInput = false): LayerQuantSpec {
  const common = { rounding: c.rounding, ste: 'clipped' as const };
  return {
    weight: bits.weight === null ? null : {
      ...common, target: 'weight', method: c.weight, bits: bits.weight, signed: true, symmetric: true,
      perChannel: c.weightGranularity === 'channel' && c.weight !== 'dorefa',
    },
    input: bits.activation === null ? null : {
      ...common, target: 'activation', method: c.activation, bits: bits.activation, perChannel: false,
      signed: inputSigned && !asymmetricInput, symmetric: !asymmetricInput,
    },
  };
}
