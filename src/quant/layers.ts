// Quantized conv and linear layers that wrap the full-precision ones. They take over the FP layer's
// tensors under the same names ("weight", "bias"), so a full-precision state dict maps onto them key
// for key; the quantizers add their own entries under "weight_quant." and "input_quant.".
//   y = conv(input_quant(x), weight_quant(w)) + bias          (the bias stays in full precision)
// After a batch norm or a PReLU, input_quant runs in that kernel's epilogue (forwardAfter).
import { conv2d, type Conv2dOptions } from '../ops/conv.ts';
import { add } from '../ops/elementwise.ts';
import { matmul } from '../ops/matmul.ts';
import { runBatchNormNormalizeFakeQuant } from '../../kernels/batchnorm.ts';
import { runPreluFakeQuant } from '../../kernels/prelu.ts';
import { PReLU } from '../nn/activation.ts';
import { Conv2d, Layer, Linear, type FusesWithProducer } from '../nn/layers.ts';
import { BatchNorm } from '../nn/norm.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { recordFakeQuant } from './fake-quant.ts';
import type { LayerQuantSpec } from './policy.ts';
import { makeQuantizer, Quantizer } from './quantizers.ts';

/** A quantized layer's parts, shared by QConv2d and QLinear. */
export abstract class QuantizedLayer extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Null: weights in full precision. Export swaps in an identity once the weights are de-quantized. */
  weightQuant: Quantizer | Layer | null;
  /** Null: the input stays in full precision. */
  inputQuant: Quantizer | Layer | null;

  constructor(fp: Conv2d | Linear, readonly spec: LayerQuantSpec) {
    super();
    this.weight = this.parameter('weight', fp.weight, fp.weight.requiresGrad);
    this.bias = fp.bias ? this.parameter('bias', fp.bias, fp.bias.requiresGrad) : null;
    const outChannels = fp.weight.shape[0]!;
    this.weightQuant = spec.weight ? this.module('weight_quant', makeQuantizer(spec.weight, outChannels)) : null;
    this.inputQuant = spec.input ? this.module('input_quant', makeQuantizer(spec.input, 1)) : null;
  }

  /** The weights as the layer uses them (fake-quantized when a weight quantizer is set). */
  quantizedWeight(): Tensor {
    return this.weightQuant ? this.weightQuant.forward(this.weight) : this.weight;
  }

  protected quantizedInput(x: Tensor): Tensor {
    return this.inputQuant ? this.inputQuant.forward(x) : x;
  }

  /** 'W4A4', 'W8', 'fp' as the policy spells it. */
  get setting(): string {
    const w = this.spec.weight ? `W${this.spec.weight.bits}` : '';
    const a = this.spec.input ? `A${this.spec.input.bits}` : '';
    return w || a ? `${w || 'Wfp'}${a}` : 'fp';
  }
}

export class QConv2d extends QuantizedLayer implements FusesWithProducer {
  readonly options: Conv2dOptions;
  constructor(fp: Conv2d, spec: LayerQuantSpec) {
    super(fp, spec);
    this.options = fp.options;
  }
  forward(x: Tensor): Tensor {
    return conv2d(this.quantizedInput(x), this.quantizedWeight(), this.bias, this.options);
  }
  /** conv(input_quant(producer(x))) with the input's fake quant in the epilogue of a batch norm's or a
   *  PReLU's kernel: one dispatch where two ran (about 2x faster for batch norm, kernels/lab/fake_quant),
   *  the same values and gradients. Other producers, and quantizers that cannot, run unfused. */
  forwardAfter(producer: Layer, x: Tensor): Tensor {
    if (!(producer instanceof BatchNorm || producer instanceof PReLU)) return this.forward(producer.forward(x));
    // asked only once the producer can fuse it: PACT's epilogue computes its step (a dispatch)
    const epilogue = fusedEpilogues && this.inputQuant instanceof Quantizer ? this.inputQuant.epilogue(x) : null;
    if (!epilogue) return this.forward(producer.forward(x));
    const { scale, params } = epilogue;
    let q: Tensor | undefined;
    const keepQ = (out: { y: Tensor; q: Tensor }): Tensor => {
      q = out.q;
      return out.y;
    };
    const y = producer instanceof BatchNorm
      ? producer.forward(x, (x, mean, variance, gamma, beta, eps) => keepQ(runBatchNormNormalizeFakeQuant(x, mean, variance, gamma, beta, eps, scale, params)))
      : producer.forward(x, (x, slope) => keepQ(runPreluFakeQuant(x, slope, scale, params)));
    return conv2d(recordFakeQuant(q!, y, scale, null, params), this.quantizedWeight(), this.bias, this.options);
  }
}

/** Whether quantized layers fake-quantize their input in the producer's epilogue where they can (on by
 *  default; off runs the unfused path, for measuring the fusion: bench/quant.bench.ts). */
let fusedEpilogues = true;
export function setFusedEpilogues(on: boolean): void {
  fusedEpilogues = on;
}

export class QLinear extends QuantizedLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(fp: Linear, spec: LayerQuantSpec) {
    super(fp, spec);
    [this.outFeatures, this.inFeatures] = fp.weight.shape as [number, number];
  }
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`QLinear(${this.inFeatures}, ${this.outFeatures}): expected input [N, ${this.inFeatures}], got ${fmt(x.shape)}`);
    }
    const y = matmul(this.quantizedInput(x), this.quantizedWeight(), { transB: true }); // [N, out]
    return this.bias ? add(y, this.bias) : y;
  }
}
