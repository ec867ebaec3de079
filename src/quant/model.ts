// Turning a full-precision model into a quantized one in place: every Conv2d and Linear the policy
// names is swapped for a QConv2d / QLinear wrapping it (same tensors, same names).
import { Conv2d, Layer, Linear, Sequential } from '../nn/layers.ts';
import type { Module } from '../nn/module.ts';
import { ResNet } from '../nn/resnet.ts';
import { QConv2d, QLinear, QuantizedLayer } from './layers.ts';
import { layerQuantSpec, layerSetting, quantConfig, type QuantConfig } from './policy.ts';
import { Quantizer } from './quantizers.ts';

/** The module at a dotted path ('' is the root). */
export function moduleAt(root: Module, path: string): Module {
  if (path === '') return root;
  const found = root.namedModules().find(([n]) => n === path);
  if (!found) throw new Error(`no module '${path}' in ${root.constructor.name}`);
  return found[1];
}

/**
 * Replaces the child at `path` by `next`, under the same name and in the same registration order.
 * NOTE: Module keeps its children private and the architectures call them through fields
 * (this.conv1) or Sequential.layers; a swap has to update all three, and is the one operation
 * quantization (and BN folding) needs, so it lives here rather than widening Module's API.
 */
export function replaceModule(root: Module, path: string, next: Module): void {
  const dot = path.lastIndexOf('.');
  const parent = moduleAt(root, dot < 0 ? '' : path.slice(0, dot));
  const key = path.slice(dot + 1);
  const children = (parent as unknown as { children: Map<string, Module> }).children;
  const prev = children.get(key);
  if (!prev) throw new Error(`replaceModule: '${path}' is not a child module of ${parent.constructor.name}`);
  children.set(key, next);
  if (parent instanceof Sequential) parent.layers[Number(key)] = next as Layer;
  const fields = parent as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(fields)) {
    if (value === prev) fields[field] = next;
  }
}

/**
 * Which layers see only non-negative inputs, so their activation quantizer can spend every level on
 * [0, max]: in torchvision's resnet18 every conv and the fc but the stem read ReLU outputs. In iresnet18
 * each conv reads a BN output or a PReLU (negative slope) and the fc reads bn2: all signed.
 */
function nonNegativeInputs(model: Layer, name: string): boolean {
  return model instanceof ResNet && name !== 'conv1';
}

export interface QuantizeOptions {
  /** Inputs on an unsigned grid with a zero point (only the 'static' activation method has one). */
  asymmetricActivations?: boolean;
}

/** Quantizes `model` in place under `config` (a policy string such as 'W4A4', or a partial config over DEFAULT_QUANT) and returns it. */
export function quantizeModel<M extends Layer>(model: M, config: string | Partial<QuantConfig>, opts: QuantizeOptions = {}): M {
  const c = quantConfig(config);
  if (opts.asymmetricActivations && c.activation !== 'static') throw new Error(`quantizeModel: asymmetric activations need the 'static' method (a zero point), not '${c.activation}'`);
  const layers = model.namedModules().filter(([, m]) => m instanceof Conv2d || m instanceof Linear) as [string, Conv2d | Linear][];
  if (layers.length === 0) throw new Error(`quantizeModel: ${model.constructor.name} has no Conv2d or Linear layer`);
  for (const prefix of Object.keys(c.layers)) {
    if (!layers.some(([name]) => name === prefix || name.startsWith(`${prefix}.`))) {
      throw new Error(`quant.layers.${prefix}: no conv or linear layer is named '${prefix}' or lies under it (layers: ${layers.map(([n]) => n).join(', ')})`);
    }
  }
  layers.forEach(([name, layer], i) => {
    const position = i === 0 ? 'first' : i === layers.length - 1 ? 'last' : 'middle';
    const spec = layerQuantSpec(c, layerSetting(c, name, position), !nonNegativeInputs(model, name), opts.asymmetricActivations);
    if (!spec.weight && !spec.input) return;
    const q = layer instanceof Conv2d ? new QConv2d(layer, spec) : new QLinear(layer, spec);
    replaceModule(model, name, q);
  });
  labelQuantizers(model);
  return model;
}

/**
 * Names each quantizer for messages, and gives every parameter its dotted path as its name: the
 * optimizers key their state by parameter name, and the local names ('weight', 'step') repeat.
 */
export function labelQuantizers(model: Layer): void {
  for (const [name, m] of model.namedModules()) if (m instanceof Quantizer) m.label = name;
  for (const [name, t] of model.namedParameters()) t.name = name;
}

export function quantizedLayers(model: Module): [string, QuantizedLayer][] {
  return model.namedModules().filter(([, m]) => m instanceof QuantizedLayer) as [string, QuantizedLayer][];
}

export function quantizers(model: Module): [string, Quantizer][] {
  return model.namedModules().filter(([, m]) => m instanceof Quantizer) as [string, Quantizer][];
}

export function isQuantized(model: Module): boolean {
  return quantizedLayers(model).length > 0;
}

/** One line per quantized layer: name, setting, methods. */
export function describeQuantization(model: Module): string[] {
  return quantizedLayers(model).map(([name, l]) => {
    const w = l.spec.weight ? `${l.spec.weight.method}${l.spec.weight.perChannel ? '/channel' : ''}` : '-';
    const a = l.spec.input ? `${l.spec.input.method}${l.spec.input.signed ? '' : '/unsigned'}` : '-';
    return `${name}: ${l.setting} (weights ${w}, input ${a})`;
  });
}
