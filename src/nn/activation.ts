// Activation modules with learnable state.
import { prelu, type PreluKernel } from '../ops/prelu.ts';
import type { Tensor } from '../tensor.ts';
import { constant } from './init.ts';
import { Layer } from './layers.ts';

/** Per-channel learnable slope for negative inputs (torch.nn.PReLU(numParameters), init 0.25). */
export class PReLU extends Layer {
  readonly weight: Tensor; // [C] (or [1]: one slope shared by all channels)
  constructor(numParameters = 1, init = 0.25) {
    super();
    this.weight = this.parameter('weight', constant([numParameters], init));
  }
  forward(x: Tensor, kernel?: PreluKernel): Tensor {
    return prelu(x, this.weight, kernel);
  }
}
