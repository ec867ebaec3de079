// Memory of the full iresnet18 training step at 112x112, batch 8: every tensor within one storage
// binding, and the pool's live bytes flat across steps. Run: npx tsx bench/memory.bench.ts [--steps 50]
// (or `lowbit bench memory`). Fails (an error, exit 1) if the live bytes change after the first step.
import { pathToFileURL } from 'node:url';
import { gpu, initGpu } from '../src/gpu/device.ts';
import { STEP_PRESETS } from '../src/profile/steps.ts';

export interface MemoryReport {
  case: string;
  steps: number;
  live_bytes_after_first: number;
  live_bytes_after_last: number;
  largest_tensor_bytes: number;
  binding_limit_bytes: number;
  allocations_after_first: number;
  seconds_per_step: number;
}

export async function measureMemory(steps: number, preset = 'iresnet18-112'): Promise<MemoryReport> {
  const g = await initGpu();
  const train = STEP_PRESETS[preset]!();
  const run = async (): Promise<void> => {
    train.step().dispose();
    await g.recorder.sync();
  };
  await run();
  const first = g.pool.snapshot();
  const start = performance.now();
  for (let i = 1; i < steps; i++) await run();
  const last = g.pool.snapshot();
  train.dispose();
  return {
    case: `memory_${preset}`,
    steps,
    live_bytes_after_first: first.liveBytes,
    live_bytes_after_last: last.liveBytes,
    largest_tensor_bytes: last.largestRequest,
    binding_limit_bytes: g.maxBindingBytes,
    allocations_after_first: last.allocations - first.allocations,
    seconds_per_step: (performance.now() - start) / 1000 / Math.max(steps - 1, 1),
  };
}

export async function main(opts: { json?: boolean; steps?: number } = {}): Promise<void> {
  const r = await measureMemory(opts.steps ?? 50);
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(opts.json ? JSON.stringify(r) : `${r.case}: ${r.steps} steps, live ${mib(r.live_bytes_after_first)} after the first and ${mib(r.live_bytes_after_last)} after the last; largest tensor ${mib(r.largest_tensor_bytes)} (binding limit ${mib(r.binding_limit_bytes)}); ${r.allocations_after_first} buffer allocations after the first step; ${r.seconds_per_step.toFixed(2)} s/step`);
  gpu().pool.trim();
  if (r.live_bytes_after_last !== r.live_bytes_after_first) {
    throw new Error(`${r.case}: the pool's live bytes changed from ${r.live_bytes_after_first} after the first step to ${r.live_bytes_after_last} after step ${r.steps}: a tensor leaks`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--steps');
  await main({ json: process.argv.includes('--json'), steps: at > 0 ? Number(process.argv[at + 1]) : undefined });
  process.exit(0);
}
