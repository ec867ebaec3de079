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
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { fmt, ShapeError, sizeOf, type Shape } from '../../../src/shape.ts';
import { dispose, keep, tidy, Tensor } from '../../../src/tensor.ts';
import { batchNormRef, batchNormStatsRef, channelView, runBatchNormNormalize, runBatchNormNormalizeFakeQuant } from '../../batchnorm.ts';
import { fakeQuantRef, quantRange, runFakeQuant } from '../../fake_quant.ts';
import { relErr, type Check } from '../lib.ts';

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
  about: string;
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
  { name: 'fused_q_only', about: 'lab kernel writing q only (2 passes); needs a backward that recomputes y', run: qOnly },
  {
    name: 'unfused', about: 'bn_normalize, then fq_forward_tensor: two dispatches (4 passes)',
    run: (o) => {
      const y = runBatchNormNormalize(o.x, o.mean, o.variance, o.gamma, o.beta, o.eps);
      return { y, q: runFakeQuant(y, o.scale, null, { qmin: o.qmin, qmax: o.qmax }) };
    },
  },
  { name: 'fused_y_q', about: 'production: bn_normalize_fq writes y and q in one dispatch (3 passes)', run: (o) => runBatchNormNormalizeFakeQuant(o.x, o.mean, o.variance, o.gamma, o.beta, o.eps, o.scale, o) },
];

const EPS = 1e-5;

/** Seeded operands for x of `shape`: batch statistics of x, gamma ~ 1, beta ~ 0, W4A4's signed grid
 *  with LSQ's initial step 2 E|y| / sqrt(Qp) (E|y| ~ 0.8 for unit-normal y). Kept until `dispose`. */
export function operands(shape: Shape, seed: number): { o: Operands; x: Float32Array; stats: { mean: Float64Array; var: Float64Array }; gamma: Float32Array; beta: Float32Array; dispose: () => void } {
  const C = shape[1]!;
  const x = normalArray(sizeOf(shape), seed, 0.3, 1.7);
  const stats = batchNormStatsRef(x, shape);
  const gamma = normalArray(C, seed + 1, 1, 0.1);
  const beta = normalArray(C, seed + 2, 0, 0.1);
  const { qmin, qmax } = quantRange(4, true);
  const o: Operands = {
    x: keep(fromArray(x, shape)), mean: keep(fromArray(Float32Array.from(stats.mean), [C])), variance: keep(fromArray(Float32Array.from(stats.var), [C])),
    gamma: keep(fromArray(gamma, [C])), beta: keep(fromArray(beta, [C])), scale: keep(fromArray([(2 * 0.8) / Math.sqrt(qmax)], [1])), eps: EPS, qmin, qmax,
  };
  return { o, x, stats, gamma, beta, dispose: () => dispose([o.x, o.mean, o.variance, o.gamma, o.beta, o.scale]) };
}

/**
 * Every variant on an odd-channel shape with a plane of 4 x 6 (vec4 rows, no tile multiple), two checks
 * each: 'y', max |y - float64 reference| / (1 + |ref|) (variants that write y); 'q', the elements whose
 * q is not the float32-exact fake quantization of the variant's own y (without y: of the production
 * variant's y), which must be none.
 */
export async function validate(shape: Shape = [3, 5, 4, 6]): Promise<Check[]> {
  const { o, x, stats, gamma, beta, dispose: release } = operands(shape, 21);
  const yRef = batchNormRef(x, shape, gamma, beta, { mean: Float32Array.from(stats.mean), var: Float32Array.from(stats.var) }, EPS);
  const scale = Float32Array.from(await o.scale.toArray());
  const qOf = (y: Float32Array): Float64Array => fakeQuantRef(y, shape, scale, null, { qmin: o.qmin, qmax: o.qmax });
  let productionQ: Float64Array | undefined;
  const outputs: { name: string; y?: Float32Array; q: Float32Array }[] = [];
  for (const v of VARIANTS) {
    const out = tidy(() => v.run(o));
    const y = out.y ? (await out.y.toArray()) as Float32Array : undefined;
    outputs.push({ name: v.name, y, q: (await out.q.toArray()) as Float32Array });
    if (y && v.name === 'fused_y_q') productionQ = qOf(y);
    dispose([out.q, ...(out.y ? [out.y] : [])]);
  }
  release();
  return outputs.flatMap(({ name, y, q }) => {
    const want = y ? qOf(y) : productionQ!;
    const checks: Check[] = [{ variant: name, problem: 'q', err: q.filter((value, i) => value !== want[i]).length, tol: 0 }];
    if (y) checks.push({ variant: name, problem: 'y', err: relErr(y, yRef), tol: 1e-4 });
    return checks;
  });
}
