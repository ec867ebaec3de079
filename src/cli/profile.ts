// lowbit profile --preset NAME --steps N [--trace FILE] [--json]: per-kernel GPU time of training steps.
import { writeFileSync } from 'node:fs';
import { initGpu } from '../gpu/device.ts';
import { measurePeaks } from '../gpu/peaks.ts';
import { startProfiling, stopProfiling } from '../gpu/profiler.ts';
import { STEP_PRESETS } from '../profile/steps.ts';
import { chromeTrace, formatTable, summarize } from '../profile/report.ts';
import { intOption, parse, UsageError } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    preset: { type: 'string', default: 'tiny' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    trace: { type: 'string' },
    json: { type: 'boolean' },
  });
  const builder = STEP_PRESETS[values.preset!];
  if (!builder) throw new UsageError(`unknown preset '${values.preset}' (known: ${Object.keys(STEP_PRESETS).join(', ')})`);
  const steps = intOption('steps', values.steps, 5);
  const warmup = intOption('warmup', values.warmup, 1, 0);
  const g = await initGpu();
  const peaks = await measurePeaks();
  const train = builder();
  // Warm-up steps compile the pipelines and fill the pool; they are not timed.
  for (let i = 0; i < warmup; i++) train.step().dispose();
  await g.recorder.sync();
  const profiler = startProfiling(g);
  for (let i = 0; i < steps; i++) {
    train.step().dispose();
    g.recorder.flush();
  }
  const records = await stopProfiling(g, profiler);
  train.dispose();
  const report = summarize(records, steps, peaks, profiler.source);
  if (values.trace) {
    writeFileSync(values.trace, JSON.stringify(chromeTrace(records)));
    if (!values.json) console.log(`trace: ${values.trace} (${records.length} kernel events; open in https://ui.perfetto.dev or chrome://tracing)`);
  }
  if (values.json) {
    console.log(JSON.stringify({ preset: values.preset, description: train.description, ...report }, null, 2));
  } else {
    console.log(`profile of '${values.preset}': ${train.description}\n`);
    console.log(formatTable(report));
  }
}
