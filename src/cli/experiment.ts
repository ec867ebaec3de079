// lowbit experiment --seeds N [--preset demo|tiny|faces112|casia] [--fp CHECKPOINT] [--out DIR] [--first-seed S]
//                   [--policy W3A3] [--lambda L] [--steps N]   (override the plan's quantized runs)
import { join } from 'node:path';
import { initGpu } from '../gpu/device.ts';
import { planNamed } from '../experiment/plan.ts';
import { formatSeeds, runSeeds } from '../experiment/seeds.ts';
import { intOption, parse, UsageError } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    seeds: { type: 'string', default: '3' },
    'first-seed': { type: 'string' },
    preset: { type: 'string', default: 'demo' },
    fp: { type: 'string' },
    out: { type: 'string' },
    policy: { type: 'string' },
    lambda: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'boolean' },
  });
  const base = planNamed(values.preset!);
  const plan = { ...base };
  if (values.policy) {
    if (!/^W[2-8]A[2-8]$/.test(values.policy)) throw new UsageError(`--policy: expected W<bits>A<bits> with 2..8 bits, got '${values.policy}'`);
    plan.policy = values.policy;
  }
  if (values.lambda !== undefined) {
    plan.lambda = Number(values.lambda);
    if (!Number.isFinite(plan.lambda) || plan.lambda < 0) throw new UsageError(`--lambda must be a number >= 0, got '${values.lambda}'`);
  }
  if (values.steps) plan.quantSteps = intOption('steps', values.steps, plan.quantSteps);
  if (values.policy || values.lambda !== undefined || values.steps) plan.description = `${base.description}; ${plan.policy}, lambda ${plan.lambda}, ${plan.quantSteps} quantized steps`;
  const count = intOption('seeds', values.seeds, 3, 2);
  const first = intOption('first-seed', values['first-seed'], 1, 0);
  await initGpu();
  const outDir = values.out ?? join('runs', `experiment-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  console.error(`lowbit experiment: ${plan.description}, seeds ${first}..${first + count - 1}, output in ${outDir}`);
  const report = await runSeeds(plan, outDir, Array.from({ length: count }, (_, i) => first + i), values.fp);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatSeeds(report, plan));
}
