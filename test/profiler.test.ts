import { describe, expect, it } from 'vitest';
import { matmulFlops, planMatmul } from '../kernels/matmul.ts';
import { gpu } from '../src/gpu/device.ts';
import { startProfiling, stopProfiling } from '../src/gpu/profiler.ts';
import { randn } from '../src/ops/creation.ts';
import { matmul } from '../src/ops/matmul.ts';
import { relu } from '../src/ops/elementwise.ts';
import { chromeTrace, summarize, totals } from '../src/profile/report.ts';
import { STEP_PRESETS } from '../src/profile/steps.ts';
import { dispose, keep, tidy } from '../src/tensor.ts';

const PEAKS = { gflops: 100, gbps: 10 };

describe('profiler', () => {
  it('per-kernel times add up to the GPU time of the step (within 25%), and the step fits in its wall time', async () => {
    const a = keep(randn([192, 160], { seed: 1 }));
    const b = keep(randn([160, 176], { seed: 2 }));
    const run = (): void => tidy(() => { for (let i = 0; i < 6; i++) relu(matmul(a, b)); });
    run(); // compile outside the timed region
    await gpu().recorder.sync();
    const profiler = startProfiling(gpu());
    const wallStart = performance.now();
    run();
    await gpu().recorder.sync();
    const wallMs = performance.now() - wallStart;
    const records = await stopProfiling(gpu(), profiler);
    expect(records.map((r) => r.name)).toEqual(Array.from({ length: 6 }, () => ['matmul', 'unary.relu']).flat());
    const { kernelNs, spanNs } = totals(records);
    // Kernels run back to back; what separates them is launch overhead (~15-70 µs each on lavapipe).
    expect(kernelNs / spanNs).toBeGreaterThan(0.75);
    expect(kernelNs).toBeLessThanOrEqual(spanNs);
    expect(spanNs / 1e6).toBeLessThanOrEqual(wallMs);
    dispose([a, b]);
  });

  it('records matmul FLOPs as 2*batch*M*N*K and names shapes and workgroups', async () => {
    const x = keep(randn([3, 7, 5], { seed: 1 }));
    const w = keep(randn([5, 9], { seed: 2 }));
    const profiler = startProfiling(gpu());
    tidy(() => matmul(x, w));
    const [record] = await stopProfiling(gpu(), profiler);
    expect(record!.flops).toBe(2 * 3 * 7 * 9 * 5);
    expect(record!.flops).toBe(matmulFlops(planMatmul([3, 7, 5], [5, 9], {})));
    expect(record!.shapes).toBe('[3,7,5] x [5,9]');
    expect(record!.workgroups.length).toBe(3);
    expect(record!.durationNs).toBeGreaterThan(0);
    dispose([x, w]);
  });

  it('never changes results: a profiled training step equals an unprofiled one bit for bit', async () => {
    const losses: number[][] = [];
    for (const profiled of [false, true]) {
      const train = STEP_PRESETS.tiny!();
      const profiler = profiled ? startProfiling(gpu()) : null;
      const values: number[] = [];
      for (let i = 0; i < 3; i++) {
        const loss = train.step();
        values.push(await loss.item());
        loss.dispose();
      }
      if (profiler) expect((await stopProfiling(gpu(), profiler)).length).toBeGreaterThan(20);
      train.dispose();
      losses.push(values);
    }
    expect(losses[1]).toEqual(losses[0]);
    expect(losses[0]![2]).toBeLessThan(losses[0]![0]!);
  });

  it('falls back to per-submit CPU timing and says so', async () => {
    const a = keep(randn([64, 64], { seed: 3 }));
    const profiler = startProfiling(gpu(), { cpuTiming: true });
    const submits = gpu().recorder.submits;
    tidy(() => relu(matmul(a, a)));
    const records = await stopProfiling(gpu(), profiler);
    expect(profiler.source).toBe('cpu-per-submit');
    expect(records.map((r) => r.name)).toEqual(['matmul', 'unary.relu']);
    expect(gpu().recorder.submits - submits).toBeGreaterThanOrEqual(2); // one dispatch per submit
    expect(records.every((r) => r.durationNs > 0)).toBe(true);
    expect(summarize(records, 1, PEAKS, profiler.source).timing).toBe('cpu-per-submit');
    a.dispose();
  });

  it('writes valid Chrome trace-event JSON', () => {
    const records = [
      { name: 'matmul', shapes: '[2,2] x [2,2]', workgroups: [1, 1, 1] as const, flops: 16, bytes: 48, startNs: 0, durationNs: 1500, submit: 0 },
      { name: 'unary.relu', shapes: '[2,2]', workgroups: [1, 1, 1] as const, flops: 4, bytes: 32, startNs: 2000, durationNs: 500, submit: 0 },
    ];
    const parsed = JSON.parse(JSON.stringify(chromeTrace(records))) as { traceEvents: Record<string, unknown>[] };
    const complete = parsed.traceEvents.filter((e) => e.ph === 'X');
    expect(complete).toHaveLength(2);
    for (const e of complete) {
      expect(typeof e.name).toBe('string');
      expect(e.ts).toBeTypeOf('number');
      expect(e.dur).toBeTypeOf('number');
      expect(e.pid).toBe(1);
    }
    expect(complete[1]).toMatchObject({ name: 'unary.relu', ts: 2, dur: 0.5 });
  });

  it('summarizes per kernel: calls, share of the step, rates and roofline fraction', () => {
    const rec = (name: string, ns: number, flops: number, bytes: number) => ({ name, shapes: '', workgroups: [1, 1, 1] as const, flops, bytes, startNs: 0, durationNs: ns, submit: 0 });
    const report = summarize([rec('mm', 3e6, 60e6, 1e6), rec('mm', 1e6, 20e6, 1e6), rec('add', 1e6, 1e3, 5e6)], 1, PEAKS, 'timestamp-query');
    expect(report.kernels.map((k) => k.kernel)).toEqual(['mm', 'add']);
    const [mm, add] = report.kernels;
    expect(mm).toMatchObject({ calls: 2, total_ms: 4, percent: 80, mean_us: 2000, gflops: 20, bound: 'compute' });
    expect(mm!.peak_fraction).toBeCloseTo(0.2);
    expect(add).toMatchObject({ calls: 1, gbps: 5, bound: 'memory' });
    expect(add!.peak_fraction).toBeCloseTo(0.5);
  });
});
