// The matmul variants of the kernel lab, from naive to the production kernels. Each computes
// C = op(A) op(B) for batched A, B like kernels/matmul.ts and says which problems it cannot take.
// Shaders: shaders/lab/matmul/*.wgsl (lab only) and shaders/matmul*.wgsl (production, other tile sizes).
import { hasEightLaneSubgroups, matmulFlops, matmulRef, planMatmul, runMatmul, runMatmulKernel, type MatmulKernel, type MatmulOptions, type MatmulPlan } from '../../matmul.ts';
import { launch, Uniforms } from '../../../src/gpu/kernel.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf, type Shape } from '../../../src/shape.ts';
import { Tensor } from '../../../src/tensor.ts';
import { relErr, type Check } from '../lib.ts';

export interface LabVariant {
  name: string;
  /** What the variant tries, in a few words (printed by run.ts). */
  about: string;
  /** Why the variant cannot compute this problem (layout, alignment, adapter), or null. */
  unsupported(p: MatmulPlan, opts: MatmulOptions): string | null;
  run(a: Tensor, b: Tensor, opts: MatmulOptions): Tensor;
}

const subgroupsOnly = (): string | null => (hasEightLaneSubgroups() ? null : 'needs 8-lane subgroups');

/** A variant written as a lab shader: TRANS_A/TRANS_B pipeline constants, uniforms M, N, K, batch strides. */
function labShader(name: string, about: string, shader: string, defines: Record<string, number>,
                   grid: (p: MatmulPlan) => [number, number, number],
                   unsupported: (p: MatmulPlan, o: MatmulOptions) => string | null = () => null): LabVariant {
  return {
    name, about, unsupported,
    run(a, b, opts) {
      const p = planMatmul(a.shape, b.shape, opts, name);
      const c = Tensor.empty(p.outShape, name);
      launch({
        name: `lab.${name}`, shader: `lab/matmul/${shader}`, entry: 'matmul',
        constants: { TRANS_A: opts.transA ? 1 : 0, TRANS_B: opts.transB ? 1 : 0 },
        defines,
        uniforms: new Uniforms().u32(p.M, p.N, p.K, p.aBatchStride, p.bBatchStride),
        inputs: [a, b], outputs: [c], workgroups: grid(p), flops: matmulFlops(p), bytes: 4 * (a.size + b.size + c.size),
      });
      return c;
    },
  };
}

/** A variant that is a production shader with other tile sizes (kernels/matmul.ts launches it). The
 *  subgroup shader's vec4 entry point runs only where B's layout allows it: elsewhere the variant is n/a. */
function production(name: string, about: string, kernel: MatmulKernel, { vec4 = false } = {}): LabVariant {
  return {
    name, about,
    unsupported: (p, o) => (kernel.subgroups ? subgroupsOnly() : null) ?? (vec4 ? vec4Needs(p, o, { aAlongK: false }) : null),
    run: (a, b, opts) => runMatmulKernel(kernel, a, b, opts, { name: `lab.${name}`, vec4 }),
  };
}

const portable = (TM: number, TN: number, WG_X = 8, WG_Y = 8): MatmulKernel => ({ shader: 'matmul', defines: { TM, TN, WG_X, WG_Y }, subgroups: false });
const subgroup = (TM: number, TN: number, KU: number, WG = 16): MatmulKernel => ({ shader: 'matmul_subgroup', defines: { TM, TN, WG, KU }, subgroups: true });
const cdiv = (x: number, y: number): number => Math.ceil(x / y);

function vec4Needs(p: MatmulPlan, o: MatmulOptions, { aAlongK }: { aAlongK: boolean }): string | null {
  if (o.transB) return 'reads B along N (B must not be transposed)';
  if (aAlongK && o.transA) return 'reads A along K (A must not be transposed)';
  if (p.N % 4 !== 0) return 'N % 4 != 0';
  if (aAlongK && p.K % 4 !== 0) return 'K % 4 != 0';
  return null;
}

export const VARIANTS: LabVariant[] = [
  labShader('naive', 'one output per invocation', 'naive', {}, (p) => [cdiv(p.N, 8), cdiv(p.M, 8), p.batch]),
  labShader('tiled_4x4', 'workgroup-memory tiles 32x32x32, 4x4 per invocation', 'tiled', { TM: 4, TN: 4, BK: 32 },
    (p) => [cdiv(p.N, 32), cdiv(p.M, 32), p.batch]),
  production('reg_4x4', 'barrier-free, 4x4 per invocation (the old kernel)', portable(4, 4)),
  production('reg_8x4', 'barrier-free, 8x4 per invocation', portable(8, 4)),
  production('reg_8x8', 'barrier-free, 8x8 per invocation', portable(8, 8)),
  production('reg_row', 'barrier-free, 1x8 per invocation, 64 wide', portable(1, 8, 64, 1)),
  labShader('reg_vec4_8x8', 'barrier-free 8x8, vec4 A along K and B along N', 'reg_vec4', { TM: 8, TN4: 2 },
    (p) => [cdiv(p.N, 64), cdiv(p.M, 64), p.batch], (p, o) => vec4Needs(p, o, { aAlongK: true })),
  production('sg_8x8_ku1', 'A rows shared by subgroup broadcast, 8x8 per invocation', subgroup(8, 8, 1)),
  production('sg_8x8', 'subgroup broadcast, 8x8, K unrolled by 2', subgroup(8, 8, 2)),
  production('sg_8x8_vec4', 'subgroup broadcast, 8x8, K by 2, vec4 B along N', subgroup(8, 8, 2), { vec4: true }),
  production('sg_16x8_ku1', 'subgroup broadcast, 16x8', subgroup(16, 8, 1)),
  production('sg_16x8', 'subgroup broadcast, 16x8, K by 2', subgroup(16, 8, 2)),
  production('sg_16x8_wg8', 'subgroup broadcast, 16x8, K by 2, one subgroup per workgroup', subgroup(16, 8, 2, 8)),
  production('sg_16x8_vec4', 'subgroup broadcast, 16x8, K by 2, vec4 B along N', subgroup(16, 8, 2), { vec4: true }),
  production('sg_16x16_ku1', 'subgroup broadcast, 16x16: 256 accumulators, too big for NIR to unroll', subgroup(16, 16, 1)),
  { name: 'production', about: 'runMatmul: the table in kernels/matmul.ts', unsupported: () => null, run: (a, b, o) => runMatmul(a, b, o) },
];

// ---- validation against matmulRef (float64) -------------------------------------------------------

export interface Problem {
  id: string;
  a: Shape;
  b: Shape;
  opts: MatmulOptions;
}

/** A problem op(A) [M, K] x op(B) [K, N], with A and B stored transposed when asked. */
export function problem(id: string, M: number, K: number, N: number, transA = false, transB = false, batch: number[] = []): Problem {
  return { id, a: [...batch, ...(transA ? [K, M] : [M, K])], b: transB ? [N, K] : [K, N], opts: { transA, transB } };
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
// M, K, N, batch of A. N < M runs transposed in production; 68x132x136, 136x20x12 and the batched one suit
// the vec4 variants (K, N or M multiples of 4).
const CHECK_SHAPES: [number, number, number, number[]][] = [
  [37, 29, 41, []], [1, 19, 33, []], [130, 67, 150, []], [150, 67, 37, []], [68, 132, 136, []], [136, 20, 12, []], [12, 16, 20, [3]],
];
const checks = (shapes: [number, number, number, number[]][]): Problem[] => shapes.flatMap(([M, K, N, batch]) =>
  TRANSPOSES.map(([tA, tB]) => problem(`${batch.length ? `${batch}x` : ''}${M}x${K}x${N}${tA ? ' At' : ''}${tB ? ' Bt' : ''}`, M, K, N, tA, tB, batch)));
/** Odd shapes x all four transpose combinations, plus N < M and a batch broadcast. */
export const CHECKS: Problem[] = checks(CHECK_SHAPES);
/** The small set test/lab.test.ts runs: still every transpose, every variant at least once. */
export const QUICK_CHECKS: Problem[] = checks([[37, 29, 41, []], [20, 12, 16, [2]]]);

/** Largest |got - want| / (1 + |want|) of every supported (variant, problem); tolerance 1e-5. */
export async function validate(variants: readonly LabVariant[] = VARIANTS, problems: readonly Problem[] = CHECKS, seed = 17): Promise<Check[]> {
  const out: Check[] = [];
  for (const pr of problems) {
    const aData = normalArray(sizeOf(pr.a), seed, 0, 1);
    const bData = normalArray(sizeOf(pr.b), seed + 1, 0, 1);
    const want = matmulRef(aData, pr.a, bData, pr.b, pr.opts).data;
    const [a, b] = [fromArray(aData, pr.a), fromArray(bData, pr.b)];
    for (const v of variants) {
      if (v.unsupported(planMatmul(pr.a, pr.b, pr.opts), pr.opts)) continue;
      const c = v.run(a, b, pr.opts);
      out.push({ variant: v.name, problem: pr.id, err: relErr(await c.toArray(), want), tol: 1e-5 });
      c.dispose();
    }
    a.dispose();
    b.dispose();
  }
  return out;
}
