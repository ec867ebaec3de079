// conv2d kernel lab runner: validates every variant against the float64 CPU reference (on the shape
// with batch 1), then times them on the ResNet18 shapes and prints GFLOP/s (median of interleaved
// rounds: the CPU is shared, so variants of one op are timed round-robin, not one after another).
//   npx tsx kernels/lab/conv2d/run.ts [--op fwd,dx,dw] [--shape 56,14_s2,t32|all|tiny] [--variant 'regexp'] [--rounds 5]
// The default is the 56x56 layer (a few minutes); `--shape all` sweeps bench/conv.bench.ts's shapes (an
// hour), `--shape tiny` the shapes of the tiny training preset (TINY_CONV_SHAPES, batch 32).
import { parseArgs } from 'node:util';
import { conv2dFlops, type Conv2dPlan } from '../../conv2d.ts';
import { CONV_SHAPES, planOf, TINY_CONV_SHAPES } from '../../../bench/conv.bench.ts';
import { gpu, initGpu } from '../../../src/gpu/device.ts';
import { tidy, type Tensor } from '../../../src/tensor.ts';
import { operands, validate, VARIANTS, type Op, type Operands, type Variant } from './variants.ts';

const { values: args } = parseArgs({
  options: {
    op: { type: 'string', default: 'fwd,dx,dw' },
    shape: { type: 'string', default: '56' },
    variant: { type: 'string', default: '' },
    rounds: { type: 'string', default: '5' },
  },
});
const ops = args.op.split(',') as Op[];
const known = [...CONV_SHAPES, ...TINY_CONV_SHAPES];
const ids = args.shape === 'all' ? CONV_SHAPES.map((s) => s.id) : args.shape === 'tiny' ? TINY_CONV_SHAPES.map((s) => s.id) : args.shape.split(',');
const shapes = ids.map((id) => {
  const s = known.find((c) => c.id === id);
  if (!s) throw new Error(`unknown shape '${id}' (known: ${known.map((c) => c.id).join(', ')})`);
  return s;
});
const rounds = Number(args.rounds);
await initGpu();

/** Wall ms and process CPU ms (lavapipe's worker threads included) of one run. On a shared machine
 *  the CPU time is the steadier measure of a kernel's cost; the wall time is what a user sees. */
async function time(v: Variant, t: Operands, p: Conv2dPlan): Promise<[number, number]> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  tidy(() => v.run(t, p));
  await gpu().recorder.sync();
  const used = process.cpuUsage(cpu);
  return [performance.now() - start, (used.user + used.system) / 1000];
}

let failed = 0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`conv2d lab: GFLOP/s (wall, median of ${rounds} interleaved rounds) | best: of the fastest round | per CPU-second of the process (2 busy cores show half the wall figure; on a shared CPU both are steadier than the median) | err = max|gpu - ref| / max|ref| on batch 1`);
for (const s of shapes) {
  const p = planOf(s);
  const flops = conv2dFlops(p);
  console.log(`\n## ${s.id}: x[${s.x}] w[${s.w}] stride ${s.stride} pad ${s.padding}  (${(flops / 1e9).toFixed(3)} GFLOP per op)`);
  for (const op of ops) {
    const variants = VARIANTS.filter((v) => v.op === op && new RegExp(args.variant).test(v.name) && (v.applies?.(p) ?? true));
    const checks = await validate([s], { ops: [op], variants, batch1: true });
    const errors = new Map<Variant, number>(variants.map((v) => [v, checks.find((c) => c.variant === v.name)!.err]));
    const { tensors } = operands(s, p, 1);
    const times = new Map<Variant, [number, number][]>(variants.map((v) => [v, []]));
    for (const v of variants) await time(v, tensors, p); // warm-up: pipeline compile, pool buffers
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) if (!(v.slow && r > 0)) times.get(v)!.push(await time(v, tensors, p));
    }
    failed += checks.filter((c) => !(c.err <= c.tol)).length;
    for (const v of variants) {
      const ms = median(times.get(v)!.map(([wall]) => wall));
      const best = Math.min(...times.get(v)!.map(([wall]) => wall));
      const cpuMs = median(times.get(v)!.map(([, cpu]) => cpu));
      const err = errors.get(v)!;
      const gflops = (t: number): string => (flops / t / 1e6).toFixed(2).padStart(6);
      console.log(`${v.name.padEnd(44)} ${gflops(ms)} GFLOP/s ${ms.toFixed(1).padStart(7)} ms | best ${gflops(best)} | ${gflops(cpuMs)} GFLOP/cpu-s | err ${err.toExponential(1)}${err > 1e-4 ? '  FAILED' : ''}`);
    }
    Object.values(tensors).forEach((t: Tensor) => t.dispose());
    gpu().pool.trim();
  }
}
if (failed) console.error(`${failed} validation failure(s)`);
process.exit(failed ? 1 : 0);
