// BatchNorm2d / BatchNorm1d modules over ops/batchnorm.ts, with PyTorch's parameter and buffer names
// (weight, bias, running_mean, running_var, num_batches_tracked).
import { batchNorm, type Normalize } from '../ops/batchnorm.ts';
import type { Tensor } from '../tensor.ts';
import { constant } from './init.ts';
import { Layer } from './layers.ts';

export class BatchNorm extends Layer {
  readonly weight: Tensor | null; // gamma [C]
  readonly bias: Tensor | null; // beta [C]
  readonly runningMean: Tensor; // [C]
  readonly runningVar: Tensor; // [C]
  readonly eps: number;
  readonly momentum: number;
  constructor(readonly numFeatures: number, { eps = 1e-5, momentum = 0.1, affine = true }: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super();
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? this.parameter('weight', constant([numFeatures], 1)) : null;
    this.bias = affine ? this.parameter('bias', constant([numFeatures], 0)) : null;
    this.runningMean = this.buffer('running_mean', constant([numFeatures], 0));
    this.runningVar = this.buffer('running_var', constant([numFeatures], 1));
    this.counters.set('num_batches_tracked', 0);
  }

  forward(x: Tensor, normalize?: Normalize): Tensor {
    if (this.training) this.counters.set('num_batches_tracked', this.counters.get('num_batches_tracked')! + 1);
    return batchNorm(x, this.weight, this.bias, { mean: this.runningMean, var: this.runningVar }, { training: this.training, momentum: this.momentum, eps: this.eps }, normalize);
  }
}

/** Over (N, H, W) of [N, C, H, W]. */
export class BatchNorm2d extends BatchNorm {}
/** Over N of [N, C]. */
export class BatchNorm1d extends BatchNorm {}
