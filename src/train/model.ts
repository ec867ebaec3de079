// Builds the backbone a config names, and the margin classifier's weights.
import { IResNet } from '../nn/iresnet.ts';
import { normalWeight } from '../nn/init.ts';
import type { Layer } from '../nn/layers.ts';
import { Dropout } from '../nn/layers.ts';
import { ResNet } from '../nn/resnet.ts';
import { parameter } from '../ops/creation.ts';
import type { Tensor } from '../tensor.ts';
import { quantizeModel } from '../quant/model.ts';
import type { QuantConfig } from '../quant/policy.ts';
import type { ModelConfig } from './config.ts';

/** The backbone; with `quant`, its conv and linear layers quantized (src/quant/). */
export function buildModel(m: ModelConfig, seed: number, quant?: QuantConfig): Layer {
  const model = m.arch === 'iresnet18'
    ? new IResNet({ width: m.width, inputSize: m.inputSize, numFeatures: m.numFeatures, dropout: m.dropout, seed })
    : new ResNet({ width: m.width, numFeatures: m.numFeatures, seed });
  return quant ? quantizeModel(model, quant) : model;
}

/** Class weights of the cosine classifier: [classes, features], normal(0, 0.01) as arcface_torch. */
export function buildHead(classes: number, features: number, seed: number): Tensor {
  return parameter(normalWeight([classes, features], 0.01, seed), 'head.weight');
}

/** Sets every Dropout's mask counter to `step`, so a resumed run draws the masks it would have. */
export function setDropoutStep(model: Layer, step: number): void {
  for (const [, m] of model.namedModules()) if (m instanceof Dropout) m.step = step;
}
