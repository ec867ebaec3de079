// Images per second of full training steps (forward, backward, optimizer): the MLP of the foundation,
// the tiny training preset's iresnet18, and iresnet18 at 112x112 with batch 8.
// Run: npx tsx bench/train.bench.ts  (or `lowbit bench train [--json]`)
import { pathToFileURL } from 'node:url';
import { gpu } from '../src/gpu/device.ts';
import { STEP_PRESETS, type TrainStep } from '../src/profile/steps.ts';
import { measure, formatResult, type BenchCase, type BenchOptions } from './lib.ts';

export const TRAIN_CASES: [string, string][] = [
  ['train_mlp_b64', 'tiny'],
  ['train_iresnet18_tiny_b32', 'iresnet18-tiny'],
  ['train_iresnet18_112_b8', 'iresnet18-112'],
];

export function trainCase(id: string, preset: string): BenchCase {
  let step: TrainStep;
  return {
    id,
    setup: () => {
      step = STEP_PRESETS[preset]!();
    },
    run: () => undefined,
    runAsync: async () => {
      step.step().dispose();
      await gpu().recorder.sync();
    },
    teardown: () => step.dispose(),
  };
}

export async function main(opts: BenchOptions = {}): Promise<void> {
  for (const [id, preset] of TRAIN_CASES) {
    const c = trainCase(id, preset);
    // The 112x112 step takes seconds on a CPU adapter: a few samples are all that fit.
    const r = await measure(c, { ...opts, timeMs: id.includes('112') ? 1 : opts.timeMs, iterations: id.includes('112') ? 3 : opts.iterations });
    const images = Number(/_b(\d+)$/.exec(id)![1]);
    r.img_per_s = images / (r.median_ms / 1000);
    console.log(opts.json ? JSON.stringify(r) : `${formatResult(r)}  ${(r.img_per_s as number).toFixed(2)} img/s`);
    gpu().pool.trim();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ json: process.argv.includes('--json') });
  process.exit(0);
}
