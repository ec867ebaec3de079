// The fused path of issue 6, as lab variants: batch norm's normalization followed by the next quantized
// layer's activation fake quantization (per tensor, symmetric; what an IR block's bn1 -> conv1 runs in
// QAT), unfused as production runs it, and fused into the normalization's epilogue.
//   unfused       kernels/batchnorm.ts runBatchNormNormalize, then kernels/fake_quant.ts runFakeQuant:
//                 two dispatches, y written and read back (4 passes over the activation)
//   fused_y_q     production since this lab measured it (kernels/batchnorm.ts runBatchNormNormalizeFakeQuant,
//                 bn_normalize_fq in shaders/batchnorm.wgsl): one dispatch writing y and q (3 passes);
//                 a drop-in fusion, since the STE backward reads y
//   fused_q_only  shaders/lab/fake_quant/bn_fq.wgsl bn_fq_q_only_vec4: one dispatch writing q only (2
//                 passes); a backward would then have to recompute y from x inside batch norm's backward
import { grid1d, launch, Uniforms } from '../../../src/gpu/kernel.ts';
import { fmt, ShapeError } from '../../../src/shape.ts';
import { Tensor } from '../../../src/tensor.ts';
import { channelView, runBatchNormNormalize, runBatchNormNormalizeFakeQuant } from '../../batchnorm.ts';
import { runFakeQuant } from '../../fake_quant.ts';

/** What the variants read: x [N, C, H, W] with H*W % 4 == 0, per-channel [C] statistics and affine,
 *  and the activation quantizer's scale [1] on the grid [qmin, qmax]. */
export interface Operands {
  x: Tensor;
  mean: Tensor;
  variance: Tensor;
  gamma: Tensor;
  beta: Tensor;
  scale: Tensor;
  eps: number;
  qmin: number;
  qmax: number;
}

export interface Variant {
  name: string;
  /** Returns q, and y when the variant writes it. */
  run: (o: Operands) => { y?: Tensor; q: Tensor };
}

function qOnly(o: Operands): { q: Tensor } {
  const v = channelView(o.x.shape, 'bn_fq');
  if (v.S % 4 !== 0) throw new ShapeError(`bn_fq: the lab kernel reads vec4s; H*W of ${fmt(o.x.shape)} is not a multiple of 4`);
  const q = Tensor.empty(o.x.shape, 'bn_fq');
  launch({
    name: 'bn_fq_q_only_vec4', shader: 'lab/fake_quant/bn_fq', entry: 'bn_fq_q_only_vec4',
    uniforms: new Uniforms().u32(v.N, v.C, v.S / 4).f32(o.eps, o.qmin, o.qmax),
    inputs: [o.x, o.mean, o.variance, o.gamma, o.beta, o.scale], outputs: [q], workgroups: grid1d(v.C),
    flops: 9 * o.x.size, bytes: 4 * (2 * o.x.size + 4 * v.C),
  });
  return { q };
}

export const VARIANTS: Variant[] = [
  {
    name: 'unfused',
    run: (o) => {
      const y = runBatchNormNormalize(o.x, o.mean, o.variance, o.gamma, o.beta, o.eps);
      return { y, q: runFakeQuant(y, o.scale, null, { qmin: o.qmin, qmax: o.qmax }) };
    },
  },
  { name: 'fused_y_q', run: (o) => runBatchNormNormalizeFakeQuant(o.x, o.mean, o.variance, o.gamma, o.beta, o.eps, o.scale, o) },
  { name: 'fused_q_only', run: qOnly },
];
