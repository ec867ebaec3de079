// matmul kernel lab, in the spirit of llm.c's dev/cuda: every variant of kernels/lab/matmul/variants.ts is
// checked against the float64 CPU reference on odd shapes with every transpose combination, then timed with
// tinybench (bench/lib.ts) on the benchmark shapes and the shape classes the production table
// distinguishes. The CPU is shared with other jobs, so timing runs in rounds: each round measures every
// variant on a shape back to back, and a variant's figure is the median of its per-round medians. A second
// table divides FLOPs by the process's CPU time instead of wall time: lavapipe's worker threads only count
// while they run, so it moves less when other jobs take the cores (x2 = GFLOP/s on two idle cores).
//   npx tsx kernels/lab/matmul/run.ts [--json] [--rounds 3] [--variant sg_,reg_] [--shape 1024,gemv] [--no-validate]
//                                     [--disable-robustness]  (Dawn toggle: drops Tint's loop-termination guards)
import { parseArgs } from 'node:util';
import { measure, median, type BenchResult } from '../../../bench/lib.ts';
import { gpu, initGpu } from '../../../src/gpu/device.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { sizeOf } from '../../../src/shape.ts';
import { keep, tidy, type Tensor } from '../../../src/tensor.ts';
import { planMatmul } from '../../matmul.ts';
import { failures as failed, printChecks } from '../lib.ts';
import { CHECKS, problem, validate, VARIANTS, type Problem } from './variants.ts';

const BENCH_PROBLEMS: Problem[] = [
  problem('256', 256, 256, 256),
  problem('512', 512, 512, 512),
  problem('1024', 1024, 1024, 1024),
  problem('1000x999x1001', 1000, 999, 1001),
  // shape classes of the table in kernels/matmul.ts (M x K x N)
  problem('gemv', 1, 1024, 1024),
  problem('rows4', 4, 1024, 1024),
  problem('rows8', 8, 1024, 1024),
  problem('rows16', 16, 1024, 1024),
  problem('cols8', 1024, 1024, 8),
  problem('512_At', 512, 512, 512, true, false),
  problem('512_Bt', 512, 512, 512, false, true),
  problem('512_AtBt', 512, 512, 512, true, true),
];

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    variant: { type: 'string', default: '' },
    shape: { type: 'string', default: '' },
    'no-validate': { type: 'boolean', default: false },
    'disable-robustness': { type: 'boolean', default: false },
  },
});
const pick = <T extends { name?: string; id?: string }>(all: T[], list: string): T[] =>
  list ? all.filter((x) => list.split(',').some((s) => (x.name ?? x.id)!.startsWith(s))) : all;
const variants = pick(VARIANTS, args.variant);
const problems = pick(BENCH_PROBLEMS, args.shape);
const log = (line: string): void => {
  if (!args.json) console.log(line);
};

await initGpu({ dawnFlags: args['disable-robustness'] ? ['enable-dawn-features=disable_robustness'] : [] });

let failures = 0;
if (!args['no-validate']) {
  log(`validating ${variants.length} variants on ${CHECKS.length} problems (odd shapes x transposes; B broadcast over a batch)`);
  const checks = await validate(variants);
  printChecks(variants.map((v) => v.name), checks, log);
  failures = failed(checks).length;
}

const rounds = Number(args.rounds);
const results = new Map<string, BenchResult[]>(); // `${variant}|${problem}` -> one result per round
const cpuGflops = new Map<string, number[]>(); // the same key -> GFLOP per CPU-second, one per sample
for (let round = 0; round < rounds; round++) {
  log(`round ${round + 1}/${rounds}`);
  for (const pr of problems) {
    const plan = planMatmul(pr.a, pr.b, pr.opts);
    let a!: Tensor;
    let b!: Tensor;
    const flops = 2 * plan.batch * plan.M * plan.N * plan.K;
    for (const v of variants) {
      if (v.unsupported(plan, pr.opts)) continue;
      const id = `${v.name}|${pr.id}`;
      const perCpu = cpuGflops.get(id) ?? [];
      cpuGflops.set(id, perCpu);
      const firstSample = perCpu.length;
      const r = await measure({
        id,
        flops,
        setup: () => {
          a = keep(fromArray(normalArray(sizeOf(pr.a), 1, 0, 1), pr.a));
          b = keep(fromArray(normalArray(sizeOf(pr.b), 2, 0, 1), pr.b));
        },
        run: () => tidy(() => v.run(a, b, pr.opts)),
        runAsync: async () => {
          const before = process.cpuUsage();
          tidy(() => v.run(a, b, pr.opts));
          await gpu().recorder.sync();
          const used = process.cpuUsage(before);
          perCpu.push(flops / ((used.user + used.system) * 1e3));
        },
        teardown: () => {
          a.dispose();
          b.dispose();
        },
      }, { timeMs: 300, iterations: 3 });
      r.gflop_per_cpu_s = median(perCpu.slice(firstSample));
      const list = results.get(r.case) ?? [];
      list.push(r);
      results.set(r.case, list);
      if (args.json) console.log(JSON.stringify({ ...r, round }));
    }
  }
}

function table(title: string, value: (key: string) => number | undefined): void {
  console.log(`\n${title}; '-' = not supported`);
  console.log(['variant'.padEnd(14), ...problems.map((p) => p.id.padStart(Math.max(7, p.id.length)))].join(' '));
  for (const v of variants) {
    const cells = problems.map((p) => (value(`${v.name}|${p.id}`)?.toFixed(2) ?? '-').padStart(Math.max(7, p.id.length)));
    console.log([v.name.padEnd(14), ...cells].join(' '));
  }
}
if (!args.json && rounds > 0) {
  table(`GFLOP/s, median of ${rounds} rounds (each round: tinybench median of >= 3 samples)`, (key) => {
    const rs = results.get(key);
    return rs ? median(rs.map((r) => r.gflops!)) : undefined;
  });
  table('GFLOP per CPU-second of the process, median of all samples', (key) => {
    const xs = cpuGflops.get(key);
    return xs?.length ? median(xs) : undefined;
  });
  console.log('\nvariants:');
  for (const v of variants) console.log(`  ${v.name.padEnd(14)} ${v.about}`);
}
if (failures > 0) console.error(`${failures} validation failure(s)`);
process.exit(failures > 0 ? 1 : 0);
