// Seeded parameter initialization (PyTorch's defaults and the ones insightface uses).
import { fromArray } from '../ops/creation.ts';
import { normalArray, rng, uniformArray } from '../random.ts';
import { sizeOf, type Shape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/** Derives independent seeds for the layers of a model from one seed. */
export class Seeds {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed ^ 0x9e3779b9);
  }
  take(): number {
    return Math.floor(this.next() * 2 ** 31);
  }
}

/** PyTorch's default for conv and linear weights: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function defaultWeight(shape: Shape, fanIn: number, seed: number): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return fromArray(uniformArray(sizeOf(shape), seed, -bound, bound), shape);
}

export function normalWeight(shape: Shape, std: number, seed: number): Tensor {
  return fromArray(normalArray(sizeOf(shape), seed, 0, std), shape);
}

export function constant(shape: Shape, value: number): Tensor {
  return fromArray(new Float32Array(sizeOf(shape)).fill(value), shape);
}
