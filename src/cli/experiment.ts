// lowbit experiment --seeds N [--experiment demo|tiny] [--fp CHECKPOINT] [--out DIR] [--first-seed S]
import { join } from 'node:path';
import { initGpu } from '../gpu/device.ts';
import { EXPERIMENTS } from '../experiment/plan.ts';
import { formatSeeds, runSeeds } from '../experiment/seeds.ts';
import { intOption, parse, UsageError } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    seeds: { type: 'string', default: '3' },
    'first-seed': { type: 'string' },
    experiment: { type: 'string', default: 'demo' },
    fp: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  const plan = EXPERIMENTS[values.experiment!];
  if (!plan) throw new UsageError(`unknown experiment '${values.experiment}' (known: ${Object.keys(EXPERIMENTS).join(', ')})`);
  const count = intOption('seeds', values.seeds, 3, 2);
  const first = intOption('first-seed', values['first-seed'], 1, 0);
  await initGpu();
  const outDir = values.out ?? join('runs', `experiment-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  console.error(`lowbit experiment: ${plan.description}, seeds ${first}..${first + count - 1}, output in ${outDir}`);
  const report = await runSeeds(plan, outDir, Array.from({ length: count }, (_, i) => first + i), values.fp);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatSeeds(report, plan));
}
