// resnet18 in torchvision's layout (torchvision/models/resnet.py) with its parameter names:
//   conv1 7x7/2 -> bn1 -> relu -> maxpool 3x3/2 -> layer1..4 (BasicBlock x2, stride 2 from layer2)
//   -> global average pool -> fc (512w -> numFeatures)
// For faces, fc produces the embedding. Any input size divisible by 16 works (the pool is global).
import { add, relu } from '../ops/elementwise.ts';
import { mean } from '../ops/reduce.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { Seeds } from './init.ts';
import { Conv2d, Layer, Linear, MaxPool2d, Sequential } from './layers.ts';
import { BatchNorm2d } from './norm.ts';

export interface ResNetOptions {
  width?: number;
  numFeatures?: number;
  layers?: [number, number, number, number];
  seed?: number;
}

/** conv3x3 -> BN -> ReLU -> conv3x3 -> BN, plus the (downsampled) input, then ReLU. */
export class BasicBlock extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inplanes: number, planes: number, stride: number, seeds: Seeds) {
    super();
    this.conv1 = this.module('conv1', new Conv2d(inplanes, planes, 3, { stride, padding: 1, bias: false, seed: seeds.take() }));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.conv2 = this.module('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, seed: seeds.take() }));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inplanes !== planes
      ? this.module('downsample', new Sequential(new Conv2d(inplanes, planes, 1, { stride, bias: false, seed: seeds.take() }), new BatchNorm2d(planes)))
      : null;
  }
  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    return relu(add(out, this.downsample ? this.downsample.forward(x) : x));
  }
}

export class ResNet extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool = new MaxPool2d(3, 2, 1);
  readonly stages: Sequential[];
  readonly fc: Linear;

  constructor({ width = 1, numFeatures = 512, layers = [2, 2, 2, 2], seed = 0 }: ResNetOptions = {}) {
    super();
    const seeds = new Seeds(seed);
    const planes = [64, 128, 256, 512].map((c) => Math.max(1, Math.round(c * width)));
    this.conv1 = this.module('conv1', new Conv2d(3, planes[0]!, 7, { stride: 2, padding: 3, bias: false, seed: seeds.take() }));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes[0]!));
    let inplanes = planes[0]!;
    this.stages = planes.map((p, s) => {
      const blocks: BasicBlock[] = [];
      for (let b = 0; b < layers[s]!; b++) {
        blocks.push(new BasicBlock(inplanes, p, b === 0 && s > 0 ? 2 : 1, seeds));
        inplanes = p;
      }
      return this.module(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.fc = this.module('fc', new Linear(inplanes, numFeatures, { seed: seeds.take() }));
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4 || x.shape[1] !== 3 || x.shape[2]! % 16 !== 0 || x.shape[3]! % 16 !== 0) {
      throw new ShapeError(`resnet18: expected input [N, 3, H, W] with H, W divisible by 16, got ${fmt(x.shape)}`);
    }
    let y = this.maxpool.forward(relu(this.bn1.forward(this.conv1.forward(x))));
    for (const stage of this.stages) y = stage.forward(y);
    return this.fc.forward(mean(y, [2, 3]));  // [N, 512w] -> [N, features]
  }
}

export const resnet18 = (opts: ResNetOptions = {}): ResNet => new ResNet({ ...opts, layers: [2, 2, 2, 2] });
