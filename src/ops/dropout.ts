// Dropout (torch.nn.functional.dropout): in training, zero each element with probability p and scale
// the rest by 1 / (1 - p); in eval, the identity. The mask comes from a counter-based hash of
// (seed, element index) on the GPU, so a seed reproduces it exactly and the backward needs no storage.
import { runDropout } from '../../kernels/dropout.ts';
import { record } from '../autograd.ts';
import { fmt } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat, mul } from './elementwise.ts';

export interface DropoutOptions {
  training: boolean;
  /** Picks the mask (an integer in [0, 2^32)); use a new one per step, the same one to reproduce a step. */
  seed: number;
}

export function dropout(x: Tensor, p: number, { training, seed }: DropoutOptions): Tensor {
  checkFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p} (input ${fmt(x.shape)})`);
  if (!training || p === 0) return x;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new RangeError(`dropout: seed must be an integer in [0, 2^32), got ${seed}`);
  if (p === 1) return mul(x, 0);   // everything dropped; 1 / (1 - p) would be infinite
  const y = runDropout(x, p, seed);
  return record(y, 'dropout', [x], (g) => [runDropout(g, p, seed, 'dropout_backward')]);
}
