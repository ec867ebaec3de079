// What profiling costs: the tiny train step with the profiler off (the default) and on, same run.
// Off, the recorder's only extra work is one null check per dispatch; on, every dispatch gets its own
// compute pass with two timestamp writes and the records are read back after each submit.
import { pathToFileURL } from 'node:url';
import { gpu } from '../src/gpu/device.ts';
import { startProfiling, stopProfiling, type Profiler } from '../src/gpu/profiler.ts';
import { STEP_PRESETS, type TrainStep } from '../src/profile/steps.ts';
import { runCases, type BenchCase, type BenchOptions } from './lib.ts';

function stepCase(id: string, profiled: boolean): BenchCase {
  let train: TrainStep;
  let profiler: Profiler | null = null;
  return {
    id,
    setup: () => {
      train = STEP_PRESETS.tiny!();
      if (profiled) profiler = startProfiling(gpu());
    },
    run: () => train.step(),
    runAsync: async () => {
      train.step().dispose();
      await gpu().recorder.sync();
      if (profiler) {
        await profiler.collect();
        profiler.clear();
      }
    },
    teardown: async () => {
      if (profiler) await stopProfiling(gpu(), profiler);
      profiler = null;
      train.dispose();
    },
  };
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  const [off, on] = await runCases([stepCase('step_tiny_profiler_off', false), stepCase('step_tiny_profiler_on', true)], opts);
  if (!opts.json) console.log(`profiler on / off: ${(on!.median_ms / off!.median_ms).toFixed(3)}x`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
