// PReLU with a per-channel or shared slope (shaders/prelu.wgsl): dispatch, cost, CPU reference.
import { grid1d, launch, Uniforms } from '../src/gpu/kernel.ts';
import { fmt, ShapeError, sizeOf, type Shape } from '../src/shape.ts';
import { Tensor } from '../src/tensor.ts';
import type { ChannelView } from './batchnorm.ts';

/** [N, C, S] around axis 1; a tensor of rank < 2 has no channel axis and is one channel. */
export function preluView(shape: Shape): ChannelView {
  if (shape.length < 2) return { N: 1, C: 1, S: sizeOf(shape) };
  return { N: shape[0]!, C: shape[1]!, S: sizeOf(shape.slice(2)) };
}

/** Entry point and uniforms: the vec4 twin whenever a plane splits into vec4s (S / 4 of them). */
function kernelFor(entry: string, v: ChannelView, slopes: number, grid = { qmin: 0, qmax: 0 }): { entry: string; uniforms: Uniforms } {
  const vec4 = v.S % 4 === 0;
  return { entry: vec4 ? `${entry}_vec4` : entry, uniforms: new Uniforms().u32(v.N, v.C, vec4 ? v.S / 4 : v.S, slopes).f32(grid.qmin, grid.qmax) };
}

/** y = max(0, x) + slope[c] * min(0, x); slope is [C] or [1]. */
export function runPrelu(x: Tensor, slope: Tensor): Tensor {
  const v = preluView(x.shape);
  const y = Tensor.empty(x.shape, 'prelu');
  launch({
    name: 'prelu', shader: 'prelu', ...kernelFor('prelu_forward', v, slope.size), inputs: [x, slope], outputs: [y], workgroups: grid1d(v.C),
    flops: 2 * x.size, bytes: 4 * (2 * x.size + slope.size),
  });
  return y;
}

/** runPrelu, and in the same pass the next layer's activation fake quantization of y with one scale
 *  [1] on the grid [qmin, qmax] (no zero point, half to even, as runFakeQuant): y and q. */
export function runPreluFakeQuant(x: Tensor, slope: Tensor, scale: Tensor, grid: { qmin: number; qmax: number }): { y: Tensor; q: Tensor } {
  const v = preluView(x.shape);
  if (scale.size !== 1) throw new ShapeError(`prelu_fake_quant: the activation scale must be one value, got ${fmt(scale.shape)} (input ${fmt(x.shape)})`);
  const y = Tensor.empty(x.shape, 'prelu');
  const q = Tensor.empty(x.shape, 'fake_quant');
  launch({
    name: 'prelu_fq', shader: 'prelu', ...kernelFor('prelu_forward_fq', v, slope.size, grid), inputs: [x, slope, scale], outputs: [y, q], workgroups: grid1d(v.C),
    flops: 6 * x.size, bytes: 4 * (3 * x.size + slope.size + 1),
  });
  return { y, q };
}

/** dx, and the slope gradient per channel of the view ([C]; the caller sums it for a shared slope). */
export function runPreluBackward(x: Tensor, slope: Tensor, g: Tensor): { dx: Tensor; dslopePerChannel: Tensor } {
  const v = preluView(x.shape);
  const dx = Tensor.empty(x.shape, 'prelu_backward');
  const dslopePerChannel = Tensor.empty([v.C], 'prelu_backward'); // [C]
  launch({
    name: 'prelu_backward', shader: 'prelu', ...kernelFor('prelu_backward', v, slope.size), inputs: [x, slope, g], outputs: [dx, dslopePerChannel], workgroups: grid1d(v.C),
    flops: 4 * x.size, bytes: 4 * (3 * x.size + slope.size + v.C),
  });
  return { dx, dslopePerChannel };
}

// ---- CPU reference -------------------------------------------------------------------------------

export function preluRef(x: ArrayLike<number>, shape: Shape, slope: ArrayLike<number>): Float64Array {
  const { C, S } = preluView(shape);
  return Float64Array.from(x, (v, i) => {
    const a = slope.length === 1 ? slope[0]! : slope[Math.floor(i / S) % C]!;
    return Math.max(0, v) + a * Math.min(0, v);
  });
}
