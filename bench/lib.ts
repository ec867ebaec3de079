// Shared benchmark harness (tinybench). A case records GPU work synchronously; each sample records
// it inside tidy() and waits for the GPU, so a sample is the wall time of submit + execution.
import { Bench } from 'tinybench';
import { gpu, initGpu } from '../src/gpu/device.ts';
import { tidy } from '../src/tensor.ts';

export interface BenchCase {
  /** Stable id, e.g. 'matmul_1024'. */
  id: string;
  /** Floating-point operations of one run (for GFLOP/s). */
  flops?: number;
  /** Bytes moved by one run (for GB/s). */
  bytes?: number;
  /** Records the work (synchronous; tensors made here are freed after each sample). */
  run: () => unknown;
  /** Work to wait on asynchronously instead of `run` (e.g. a peer library's own sync). */
  runAsync?: () => Promise<unknown>;
  setup?: () => void | Promise<void>;
  teardown?: () => void | Promise<void>;
}

export interface BenchResult {
  case: string;
  median_ms: number;
  /** Median absolute deviation, ms. */
  mad_ms: number;
  min_ms: number;
  samples: number;
  gflops?: number;
  gbps?: number;
  [extra: string]: unknown;
}

export interface BenchOptions {
  /** Minimum sampling time per case, ms. */
  timeMs?: number;
  /** Minimum samples per case. */
  iterations?: number;
  json?: boolean;
}

export async function measure(c: BenchCase, opts: BenchOptions = {}): Promise<BenchResult> {
  await initGpu();
  await c.setup?.();
  const fn = c.runAsync ?? (async () => {
    tidy(() => { c.run(); });   // not tidy(c.run): what run returns would survive the scope, a leak per sample
    await gpu().recorder.sync();
  });
  const bench = new Bench({ time: opts.timeMs ?? 1000, iterations: opts.iterations ?? 5, warmupIterations: 2, warmupTime: 0, throws: true });
  bench.add(c.id, fn);
  await bench.run();
  await c.teardown?.();
  const task = bench.tasks[0]!;
  const result = task.result as unknown as { latency: { p50: number; mad: number; min: number; samplesCount: number } };
  const p50 = result.latency.p50;
  const out: BenchResult = { case: c.id, median_ms: p50, mad_ms: result.latency.mad, min_ms: result.latency.min, samples: result.latency.samplesCount };
  if (c.flops) out.gflops = c.flops / (p50 * 1e6);
  if (c.bytes) out.gbps = c.bytes / (p50 * 1e6);
  return out;
}

export function formatResult(r: BenchResult): string {
  const rate = [r.gflops !== undefined ? `${r.gflops.toFixed(2)} GFLOP/s` : '', r.gbps !== undefined ? `${r.gbps.toFixed(2)} GB/s` : ''].filter(Boolean).join('  ');
  return `${r.case.padEnd(34)} median ${r.median_ms.toFixed(3).padStart(10)} ms  ±${r.mad_ms.toFixed(3)} (MAD, n=${r.samples})  ${rate}`;
}

/** Measures cases one after another, printing each result as it lands (a JSON line with --json). */
export async function runCases(cases: readonly BenchCase[], opts: BenchOptions = {}): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of cases) {
    const r = await measure(c, opts);
    results.push(r);
    console.log(opts.json ? JSON.stringify(r) : formatResult(r));
    gpu().pool.trim();
  }
  return results;
}

/**
 * Variants of one job timed round-robin, sample by sample (2 warm-up rounds, then `rounds`), so that
 * another job on the shared CPU slows them all alike; prints each median and its speedup over the
 * last variant (the baseline).
 */
export async function compareInterleaved(variants: readonly [string, () => unknown][], rounds: number, json?: boolean): Promise<(BenchResult & { times_ms: number[] })[]> {
  await initGpu();
  const samples = variants.map((): number[] => []);
  for (let r = 0; r < 2 + rounds; r++) {
    for (const [v, [, run]] of variants.entries()) {
      await gpu().recorder.sync();
      const start = performance.now();
      tidy(() => { run(); });
      await gpu().recorder.sync();
      if (r >= 2) samples[v]!.push(performance.now() - start);
    }
  }
  const base = median(samples[variants.length - 1]!);
  return variants.map(([id], v) => {
    const ms = median(samples[v]!);
    const r: BenchResult = { case: id, median_ms: ms, mad_ms: median(samples[v]!.map((t) => Math.abs(t - ms))), min_ms: Math.min(...samples[v]!), samples: rounds, speedup: base / ms };
    console.log(json ? JSON.stringify(r) : `${id.padEnd(44)} median ${ms.toFixed(3).padStart(9)} ms ± ${r.mad_ms.toFixed(3)} (MAD)  min ${r.min_ms.toFixed(3).padStart(9)}  x${(base / ms).toFixed(2)} vs ${variants.at(-1)![0]}`);
    return { ...r, times_ms: samples[v]! };
  });
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** The median of `xs` with a distribution-free 95% confidence interval: the order statistics whose
 *  ranks bound the median with probability >= 0.95 under Binomial(n, 1/2) (n >= 6). For paired
 *  per-round statistics of an interleaved run, where a slow round slows every variant alike. */
export function medianWithCi(xs: readonly number[]): { median: number; low: number; high: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  if (n < 6) throw new RangeError(`medianWithCi: a 95% interval needs at least 6 values, got ${n}`);
  // the largest k with P(Binomial(n, 1/2) < k) <= 0.025; the interval is [x_(k), x_(n+1-k)] (1-based)
  let k = 0;
  let below = 0;                                        // P(B < k + 1) as k grows
  let term = 0.5 ** n;                                  // P(B = j), starting at j = 0
  for (let j = 0; j < n; j++) {
    below += term;
    if (below > 0.025) break;
    k = j + 1;
    term *= (n - j) / (j + 1);
  }
  return { median: median(sorted), low: sorted[k - 1]!, high: sorted[n - k]! };   // n >= 6: k >= 1
}
