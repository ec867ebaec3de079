// Layers as modules. Parameter names and layouts follow PyTorch (Linear weight [out, in], Conv2d weight
// [O, C, kh, kw]) so state dicts load from PyTorch checkpoints without renaming.
import { conv2d, type Conv2dOptions } from '../ops/conv.ts';
import { dropout } from '../ops/dropout.ts';
import { add, relu } from '../ops/elementwise.ts';
import { maxPool2d } from '../ops/pool.ts';
import { reshape } from '../ops/layout.ts';
import { matmul } from '../ops/matmul.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { defaultWeight, normalWeight } from './init.ts';
import { Module } from './module.ts';

/** Something that maps one tensor to one tensor. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

export class Linear extends Layer {
  readonly weight: Tensor; // [out, in]
  readonly bias: Tensor | null; // [out]
  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true, seed = 0 }: { bias?: boolean; seed?: number } = {}) {
    super();
    this.weight = this.parameter('weight', defaultWeight([outFeatures, inFeatures], inFeatures, seed));
    this.bias = bias ? this.parameter('bias', defaultWeight([outFeatures], inFeatures, seed + 1)) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures}, ${this.outFeatures}): expected input [N, ${this.inFeatures}], got ${fmt(x.shape)}`);
    }
    const y = matmul(x, this.weight, { transB: true }); // [N, out]
    return this.bias ? add(y, this.bias) : y;
  }
}

export class Conv2d extends Layer {
  readonly weight: Tensor; // [O, C, k, k]
  readonly bias: Tensor | null; // [O]
  readonly options: Conv2dOptions;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    { stride = 1, padding = 0, bias = true, seed = 0, weightStd }: { stride?: number; padding?: number; bias?: boolean; seed?: number; weightStd?: number } = {},
  ) {
    super();
    const fanIn = inChannels * kernelSize * kernelSize;
    const shape = [outChannels, inChannels, kernelSize, kernelSize];
    // weightStd: normal(0, std) init (arcface_torch uses 0.1); otherwise PyTorch's default uniform.
    this.weight = this.parameter('weight', weightStd === undefined ? defaultWeight(shape, fanIn, seed) : normalWeight(shape, weightStd, seed));
    this.bias = bias ? this.parameter('bias', defaultWeight([outChannels], fanIn, seed + 1)) : null;
    this.options = { stride, padding };
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** [N, ...] -> [N, prod(...)]. */
export class Flatten extends Layer {
  forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0]!, -1]);
  }
}

/**
 * Dropout with a seeded GPU mask. The mask of a call depends on (seed, step); `step` advances after
 * each training call, and a trainer that resumes sets it back, so a resumed run draws the same masks.
 */
export class Dropout extends Layer {
  step = 0;
  constructor(readonly p: number, readonly seed = 0) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const stepSeed = (Math.imul(this.seed ^ 0x85ebca6b, 0x9e3779b1) + Math.imul(this.step++, 0xc2b2ae35)) >>> 0;
    return dropout(x, this.p, { training: true, seed: stepSeed });
  }
}

export class MaxPool2d extends Layer {
  constructor(readonly kernel: number, readonly stride = kernel, readonly padding = 0) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernel, { stride: this.stride, padding: this.padding });
  }
}

export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Children named "0", "1", ... as torch.nn.Sequential. */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers.map((l, i) => this.module(String(i), l));
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }
}

/** A layer that can take its producer's output fused into the producer's kernel: a quantized conv
 *  fake-quantizes its input in a batch norm's or a PReLU's epilogue (src/quant/layers.ts). */
export interface FusesWithProducer {
  forwardAfter(producer: Layer, x: Tensor): Tensor;
}

/** next(producer(x)), through next's fused path when it has one. A layer whose forward is wrapped by an
 *  instance property (a capture hook: src/quant/report.ts) takes the unfused path, so the hook runs. */
export function feedInto(producer: Layer, next: Layer, x: Tensor): Tensor {
  const fusing = next as Layer & Partial<FusesWithProducer>;
  return fusing.forwardAfter && !Object.hasOwn(next, 'forward') ? fusing.forwardAfter(producer, x) : next.forward(producer.forward(x));
}
