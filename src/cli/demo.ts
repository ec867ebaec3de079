// npm run demo (lowbit demo [--preset demo|tiny|faces112|casia] [--out DIR] [--seed N]): the paper's
// experiment end to end, on synthetic faces by default. See src/experiment/demo.ts and plan.ts. Given
// the --out of an interrupted run, it reuses the finished runs and resumes the interrupted one.
import { join } from 'node:path';
import { initGpu } from '../gpu/device.ts';
import { runDemo } from '../experiment/demo.ts';
import { planNamed } from '../experiment/plan.ts';
import { intOption, parse } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, { preset: { type: 'string', default: 'demo' }, out: { type: 'string' }, seed: { type: 'string' } });
  const plan = planNamed(values.preset!);
  const g = await initGpu();
  const outDir = values.out ?? join('runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  console.log(`lowbit demo on ${g.adapter.description || g.adapter.vendor}: ${plan.description}`);
  console.log(`output folder: ${outDir}`);
  const result = await runDemo(plan, outDir, intOption('seed', values.seed, 1, 0));
  console.log(`\n${result.table}\n`);
  const total = Object.values(result.seconds).reduce((a, b) => a + b, 0);
  console.log(`done in ${(total / 60).toFixed(1)} min; everything (checkpoints, logs, ROC and analysis plots, demo.md) is in ${outDir}`);
}
