// Turns kernel records into the per-kernel table, JSON, and Chrome trace-event files.
import type { DevicePeaks } from '../gpu/peaks.ts';
import type { KernelRecord, TimingSource } from '../gpu/profiler.ts';

export interface KernelRow {
  kernel: string;
  calls: number;
  total_ms: number;
  percent: number;
  mean_us: number;
  gflops: number;
  gbps: number;
  /** Fraction of the measured device peak on the binding side of the roofline (compute or memory). */
  peak_fraction: number;
  bound: 'compute' | 'memory';
}

export interface ProfileReport {
  timing: TimingSource;
  steps: number;
  /** Sum of all kernel times per step, ms. */
  kernel_ms_per_step: number;
  /** GPU time per step from the first kernel start to the last kernel end, ms. */
  span_ms_per_step: number;
  peaks: DevicePeaks;
  kernels: KernelRow[];
}

/** Summed duration and span of a set of records. */
export function totals(records: readonly KernelRecord[]): { kernelNs: number; spanNs: number } {
  let kernelNs = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const r of records) {
    kernelNs += r.durationNs;
    first = Math.min(first, r.startNs);
    last = Math.max(last, r.startNs + r.durationNs);
  }
  return { kernelNs, spanNs: records.length ? last - first : 0 };
}

export function summarize(records: readonly KernelRecord[], steps: number, peaks: DevicePeaks, timing: TimingSource): ProfileReport {
  const byKernel = new Map<string, { calls: number; ns: number; flops: number; bytes: number }>();
  for (const r of records) {
    const row = byKernel.get(r.name) ?? { calls: 0, ns: 0, flops: 0, bytes: 0 };
    row.calls++;
    row.ns += r.durationNs;
    row.flops += r.flops;
    row.bytes += r.bytes;
    byKernel.set(r.name, row);
  }
  const { kernelNs, spanNs } = totals(records);
  const kernels: KernelRow[] = [...byKernel.entries()].map(([kernel, k]) => {
    const seconds = k.ns / 1e9;
    const gflops = seconds > 0 ? k.flops / seconds / 1e9 : 0;
    const gbps = seconds > 0 ? k.bytes / seconds / 1e9 : 0;
    const computeFraction = gflops / peaks.gflops;
    const memoryFraction = gbps / peaks.gbps;
    return {
      kernel,
      calls: k.calls,
      total_ms: k.ns / 1e6,
      percent: kernelNs > 0 ? (100 * k.ns) / kernelNs : 0,
      mean_us: k.ns / k.calls / 1e3,
      gflops,
      gbps,
      peak_fraction: Math.max(computeFraction, memoryFraction),
      bound: computeFraction >= memoryFraction ? 'compute' : 'memory',
    };
  });
  kernels.sort((a, b) => b.total_ms - a.total_ms);
  return { timing, steps, kernel_ms_per_step: kernelNs / 1e6 / steps, span_ms_per_step: spanNs / 1e6 / steps, peaks, kernels };
}

export function formatTable(report: ProfileReport): string {
  const header = ['kernel', 'calls', 'total ms', '% step', 'mean µs', 'GFLOP/s', 'GB/s', '% peak'];
  const rows = report.kernels.map((k) => [
    k.kernel, String(k.calls), k.total_ms.toFixed(2), k.percent.toFixed(1), k.mean_us.toFixed(1),
    k.gflops.toFixed(2), k.gbps.toFixed(2), `${(100 * k.peak_fraction).toFixed(1)} ${k.bound === 'compute' ? 'C' : 'M'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const timingNote = report.timing === 'timestamp-query'
    ? 'timing: GPU timestamp queries, one compute pass per dispatch'
    : 'timing: per-submit CPU timing (this adapter has no timestamp-query): one dispatch per submit, coarser';
  return [
    timingNote,
    `device peaks (measured): ${report.peaks.gflops.toFixed(1)} GFLOP/s FMA, ${report.peaks.gbps.toFixed(1)} GB/s copy; % peak: C = of compute, M = of bandwidth`,
    `per step: ${report.kernel_ms_per_step.toFixed(2)} ms in kernels, ${report.span_ms_per_step.toFixed(2)} ms GPU span (${report.steps} steps)`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

/** Chrome trace-event JSON (opens in Perfetto and chrome://tracing); one complete event per kernel. */
export function chromeTrace(records: readonly KernelRecord[]): { traceEvents: object[]; displayTimeUnit: string } {
  return {
    displayTimeUnit: 'ms',
    traceEvents: [
      { name: 'process_name', ph: 'M', pid: 1, tid: 1, args: { name: 'lowbit GPU' } },
      ...records.map((r) => ({
        name: r.name,
        cat: 'kernel',
        ph: 'X',
        pid: 1,
        tid: 1,
        ts: r.startNs / 1e3,
        dur: r.durationNs / 1e3,
        args: { shapes: r.shapes, workgroups: r.workgroups.join('x'), flops: r.flops, bytes: r.bytes, submit: r.submit },
      })),
    ],
  };
}
