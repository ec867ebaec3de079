// Fake-quant lab runner: validates the variants of variants.ts (batch norm + activation fake quant,
// unfused and fused) against the float64 batch-norm reference and the float32-exact fake-quant
// reference, then times them interleaved on the activations of iresnet18's IR blocks.
//   npx tsx kernels/lab/fake_quant/run.ts [--json] [--rounds 12]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compareInterleaved } from '../../../bench/lib.ts';
import { initGpu } from '../../../src/gpu/device.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf, type Shape } from '../../../src/shape.ts';
import { dispose, keep, tidy } from '../../../src/tensor.ts';
import { batchNormRef, batchNormStatsRef } from '../../batchnorm.ts';
import { fakeQuantRef, quantRange } from '../../fake_quant.ts';
import { VARIANTS, type Operands } from './variants.ts';

const EPS = 1e-5;

/** Seeded operands for x of `shape`: batch statistics of x, gamma ~ 1, beta ~ 0, W4A4's signed grid
 *  with LSQ's initial step 2 E|y| / sqrt(Qp) (E|y| ~ 0.8 for unit-normal y). */
function operands(shape: Shape, seed: number): { o: Operands; x: Float32Array; stats: { mean: Float64Array; var: Float64Array }; gamma: Float32Array; beta: Float32Array } {
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
  return { o, x, stats, gamma, beta };
}

const disposeOperands = (o: Operands): void => dispose([o.x, o.mean, o.variance, o.gamma, o.beta, o.scale]);

export interface Check {
  variant: string;
  /** max |y - reference| (variants that write y). */
  yError?: number;
  /** Elements whose q is not the exact fake quantization of the variant's own y (or, without y, differs
   *  from the unfused variant's q). */
  qMismatches: number;
}

/** Every variant on an odd-channel shape with a plane of 4 x 6 (vec4 rows, no tile multiple). */
export async function validateVariants(shape: Shape = [3, 5, 4, 6]): Promise<Check[]> {
  const { o, x, stats, gamma, beta } = operands(shape, 21);
  const yRef = batchNormRef(x, shape, gamma, beta, { mean: Float32Array.from(stats.mean), var: Float32Array.from(stats.var) }, EPS);
  const scale = Float32Array.from(await o.scale.toArray());
  let reference: Float32Array | undefined;
  const checks: Check[] = [];
  for (const v of VARIANTS) {
    const out = tidy(() => v.run(o));
    const q = (await out.q.toArray()) as Float32Array;
    const check: Check = { variant: v.name, qMismatches: 0 };
    if (out.y) {
      const y = (await out.y.toArray()) as Float32Array;
      check.yError = Math.max(...y.map((value, i) => Math.abs(value - yRef[i]!)));
      const want = fakeQuantRef(y, shape, scale, null, { qmin: o.qmin, qmax: o.qmax });
      check.qMismatches = q.filter((value, i) => value !== want[i]).length;
      reference ??= q;
    } else {
      check.qMismatches = q.filter((value, i) => value !== reference![i]).length;
    }
    dispose([out.q, ...(out.y ? [out.y] : [])]);
    checks.push(check);
  }
  disposeOperands(o);
  return checks;
}

/** iresnet18's IR-block activations at 112x112, batch 8, and at the tiny preset (width 1/4, 32x32, batch 32). */
const SHAPES: [string, Shape][] = [['8x64x56x56', [8, 64, 56, 56]], ['8x128x28x28', [8, 128, 28, 28]], ['8x256x14x14', [8, 256, 14, 14]], ['32x16x32x32', [32, 16, 32, 32]]];

export async function main(opts: { json?: boolean; rounds?: number } = {}): Promise<void> {
  await initGpu();
  for (const c of await validateVariants()) {
    const ok = c.qMismatches === 0 && (c.yError ?? 0) < 1e-4;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${c.variant}: q mismatches ${c.qMismatches}${c.yError === undefined ? '' : `, max |y - ref| ${c.yError.toExponential(1)}`}`);
    if (!ok) process.exitCode = 1;
  }
  for (const [tag, shape] of SHAPES) {
    const { o } = operands(shape, 5);
    // the production pair last: every ratio is against it
    await compareInterleaved([...VARIANTS.slice(1), VARIANTS[0]!].map((v) => [`bn_fq_${v.name}_${tag}`, () => { const r = v.run(o); return r.q; }] as [string, () => unknown]), opts.rounds ?? 12, opts.json);
    disposeOperands(o);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, rounds: { type: 'string' } } });
  await main({ json: values.json, rounds: values.rounds ? Number(values.rounds) : undefined });
  process.exit(process.exitCode ?? 0);
}
