// iresnet18, the ResNet of insightface's arcface_torch (recognition/arcface_torch/backbones/iresnet.py),
// with the same module tree and parameter names, so its weights map one to one:
//   conv1 3x3/1 -> bn1 -> prelu -> layer1..4 (IBasicBlock x2 each, stride 2 at each stage's first block)
//   -> bn2 -> flatten -> dropout -> fc (C*h*w -> features) -> features (BatchNorm1d, weight frozen at 1)
// Input [N, 3, H, W] with H, W divisible by 16 (112 -> 7x7 before the fc); width multiplies channels.
import { isGradEnabled } from '../autograd.ts';
import { conv2dThen } from '../ops/conv.ts';
import { add } from '../ops/elementwise.ts';
import { ShapeError, fmt } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { PReLU } from './activation.ts';
import { Seeds } from './init.ts';
import { Conv2d, Dropout, Flatten, feedInto, Identity, Layer, Linear, Sequential } from './layers.ts';
import { BatchNorm1d, BatchNorm2d } from './norm.ts';

export interface IResNetOptions {
  /** Channel multiplier: 1 gives 64/128/256/512 (tests use e.g. 0.125). */
  width?: number;
  /** Input height and width (default 112); each must be divisible by 16. */
  inputSize?: number | [number, number];
  /** Embedding size (default 512). */
  numFeatures?: number;
  /** Dropout before the fc (default 0, as arcface_torch). */
  dropout?: number;
  /** Blocks per stage (default [2, 2, 2, 2]: iresnet18). */
  layers?: [number, number, number, number];
  seed?: number;
}

/** conv3x3 (padding 1) or conv1x1 without bias, initialized as arcface_torch: normal(0, 0.1). */
function conv(inC: number, outC: number, k: number, stride: number, seeds: Seeds): Conv2d {
  return new Conv2d(inC, outC, k, { stride, padding: k === 3 ? 1 : 0, bias: false, seed: seeds.take(), weightStd: 0.1 });
}

/** `layer` is exactly of class `cls`: not a subclass (a quantized layer) and not hooked with an own
 *  forward (src/quant/report.ts captures activations that way). */
const plain = (layer: Layer, cls: abstract new (...args: never[]) => Layer): boolean => layer.constructor === cls && !Object.hasOwn(layer, 'forward');

/** Whether a conv -> (BN) -> follower pair can run as one kernel with the follower as its epilogue
 *  (ops/conv.ts conv2dThen): both plain, the batch norm between them folded (an Identity), a PReLU
 *  follower with a slope per channel. The frozen FP teacher of RCM, folded by
 *  train/rcm-objective.ts, takes this path on every training step. */
function fuses(conv: Layer, between: Layer, follower: Layer | null): boolean {
  if (!plain(conv, Conv2d) || !plain(between, Identity)) return false;
  return !follower || (plain(follower, PReLU) && (follower as PReLU).weight.size === (conv as Conv2d).outChannels);
}

/** Nothing to record (conv2dThen records no gradient): gradients are off, or neither x nor any
 *  parameter of `layers` needs one. */
const gradientFree = (x: Tensor, ...layers: Layer[]): boolean =>
  !isGradEnabled() || ![x, ...layers.flatMap((l) => [...l.parameters()])].some((t) => t.requiresGrad);

/** conv -> PReLU, the PReLU applied by the conv kernel as it stores (see fuses). */
function convPrelu(conv: Conv2d, prelu: PReLU, x: Tensor): Tensor {
  return conv2dThen(x, conv.weight, conv.bias, conv.options, { kind: 'prelu', slope: prelu.weight });
}

/** BN -> conv3x3 -> BN -> PReLU -> conv3x3 (stride) -> BN, plus the (possibly downsampled) input. */
export class IBasicBlock extends Layer {
  readonly bn1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly prelu: PReLU;
  readonly conv2: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inplanes: number, planes: number, stride: number, seeds: Seeds) {
    super();
    this.bn1 = this.module('bn1', new BatchNorm2d(inplanes));
    this.conv1 = this.module('conv1', conv(inplanes, planes, 3, 1, seeds));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.prelu = this.module('prelu', new PReLU(planes));
    this.conv2 = this.module('conv2', conv(planes, planes, 3, stride, seeds));
    this.bn3 = this.module('bn3', new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inplanes !== planes
      ? this.module('downsample', new Sequential(conv(inplanes, planes, 1, stride, seeds), new BatchNorm2d(planes)))
      : null;
  }
  forward(x: Tensor): Tensor {
    if (this.fusedForInference(x)) {
      // Folded and gradient-free: conv1's kernel applies the PReLU, conv2's adds the shortcut (bit for
      // bit the path below, two dispatches and two passes over the activations fewer).
      const out = convPrelu(this.conv1, this.prelu, this.bn1.forward(x));          // [N, planes, H, W]
      const identity = this.downsample ? this.downsample.forward(x) : x;           // [N, planes, H/s, W/s]
      return conv2dThen(out, this.conv2.weight, this.conv2.bias, this.conv2.options, { kind: 'add', residual: identity });
    }
    // feedInto: a quantized conv fake-quantizes its input in the producer's kernel (QConv2d.forwardAfter)
    let out = feedInto(this.bn1, this.conv1, x);
    out = this.bn2.forward(out);
    out = feedInto(this.prelu, this.conv2, out);
    out = this.bn3.forward(out);
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return add(out, identity);
  }

  private fusedForInference(x: Tensor): boolean {
    return fuses(this.conv1, this.bn2, this.prelu) && fuses(this.conv2, this.bn3, null) && gradientFree(x, this);
  }
}

export class IResNet extends Layer {
  readonly inputSize: [number, number];
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly prelu: PReLU;
  readonly stages: Sequential[];
  readonly bn2: BatchNorm2d;
  readonly flatten = new Flatten();
  readonly dropout: Dropout;
  readonly fc: Linear;
  readonly features: BatchNorm1d;

  constructor({ width = 1, inputSize = 112, numFeatures = 512, dropout = 0, layers = [2, 2, 2, 2], seed = 0 }: IResNetOptions = {}) {
    super();
    const [h, w] = typeof inputSize === 'number' ? [inputSize, inputSize] : inputSize;
    if (h % 16 !== 0 || w % 16 !== 0 || h <= 0 || w <= 0) throw new ShapeError(`iresnet: input size ${h}x${w} must be positive and divisible by 16`);
    this.inputSize = [h, w];
    const seeds = new Seeds(seed);
    const planes = [64, 128, 256, 512].map((c) => Math.max(1, Math.round(c * width)));
    this.conv1 = this.module('conv1', conv(3, planes[0]!, 3, 1, seeds));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes[0]!));
    this.prelu = this.module('prelu', new PReLU(planes[0]!));
    let inplanes = planes[0]!;
    this.stages = planes.map((p, s) => {
      const blocks: IBasicBlock[] = [];
      for (let b = 0; b < layers[s]!; b++) {
        blocks.push(new IBasicBlock(inplanes, p, b === 0 ? 2 : 1, seeds));
        inplanes = p;
      }
      return this.module(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.bn2 = this.module('bn2', new BatchNorm2d(inplanes));
    this.dropout = this.module('dropout', new Dropout(dropout, seeds.take()));
    this.fc = this.module('fc', new Linear(inplanes * (h / 16) * (w / 16), numFeatures, { seed: seeds.take() }));
    this.features = this.module('features', new BatchNorm1d(numFeatures));
    this.features.weight!.requiresGrad = false; // arcface_torch freezes the embedding BN's scale at 1
  }

  forward(x: Tensor): Tensor {
    const [h, w] = this.inputSize;
    if (x.shape.length !== 4 || x.shape[1] !== 3 || x.shape[2] !== h || x.shape[3] !== w) {
      throw new ShapeError(`iresnet: expected input [N, 3, ${h}, ${w}], got ${fmt(x.shape)}`);
    }
    let y = fuses(this.conv1, this.bn1, this.prelu) && gradientFree(x, this.conv1, this.prelu)
      ? convPrelu(this.conv1, this.prelu, x)                                // [N, 64w, h, w], folded
      : this.prelu.forward(this.bn1.forward(this.conv1.forward(x)));
    for (const stage of this.stages) y = stage.forward(y);                 // [N, 512w, h/16, w/16]
    y = this.flatten.forward(this.bn2.forward(y));                         // [N, 512w*h*w/256]
    y = this.fc.forward(this.dropout.forward(y));                          // [N, features]
    return this.features.forward(y);
  }
}

export const iresnet18 = (opts: IResNetOptions = {}): IResNet => new IResNet({ ...opts, layers: [2, 2, 2, 2] });
