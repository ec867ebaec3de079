// 2-D max pooling (torch.nn.functional.max_pool2d, ceil_mode false, dilation 1). Global average pooling
// needs no kernel of its own: it is mean(x, [2, 3]).
import { poolOutputSize, runMaxPool2d, runMaxPool2dBackward, type Pool2d } from '../../kernels/pool.ts';
import { record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { checkFloat } from './elementwise.ts';

type Pair = number | readonly [number, number];

export interface MaxPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  /** Implicit -inf padding on each side, at most half the kernel (default 0). */
  padding?: Pair;
}

/** Max over each kernel window of x [N, C, H, W]; the gradient goes to the first maximum of each window. */
export function maxPool2d(x: Tensor, kernel: Pair, opts: MaxPool2dOptions = {}): Tensor {
  checkFloat('max_pool2d', x);
  const geometry = checkPoolArgs(x, kernel, opts);
  const { y, argmax } = runMaxPool2d(x, geometry);
  record(y, 'max_pool2d', [x], (g) => [runMaxPool2dBackward(g, argmax, x.shape, geometry)]);
  if (!y.node) argmax.dispose();
  return y;
}

function checkPoolArgs(x: Tensor, kernel: Pair, opts: MaxPool2dOptions): Pool2d {
  if (x.shape.length !== 4) throw new ShapeError(`max_pool2d: expected an input of rank 4 [N, C, H, W], got ${fmt(x.shape)}`);
  const pair = (what: string, v: Pair, min: number): [number, number] => {
    const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
    if (!p.every((d) => Number.isInteger(d) && d >= min)) throw new RangeError(`max_pool2d: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
    return p;
  };
  const g: Pool2d = { kernel: pair('kernel', kernel, 1), stride: pair('stride', opts.stride ?? kernel, 1), padding: pair('padding', opts.padding ?? 0, 0) };
  if (g.padding.some((p, i) => 2 * p > g.kernel[i]!)) {
    throw new RangeError(`max_pool2d: padding ${fmt(g.padding)} must be at most half the kernel ${fmt(g.kernel)}`);
  }
  const [Ho, Wo] = poolOutputSize(x.shape[2]!, x.shape[3]!, g);
  if (Ho < 1 || Wo < 1) {
    throw new ShapeError(`max_pool2d: input ${fmt(x.shape)} is smaller than the kernel ${fmt(g.kernel)} with padding ${fmt(g.padding)} (output ${Ho}x${Wo})`);
  }
  return g;
}
