// Measured device peaks (the roofline the profiler reports against): FMA throughput and copy bandwidth.
// Measured, never assumed: a CPU adapter and an H200 differ by four orders of magnitude.
import { gpu } from './device.ts';
import { grid1d, launch, Uniforms } from './kernel.ts';
import { Tensor } from '../tensor.ts';

export interface DevicePeaks {
  gflops: number;
  gbps: number;
}

let cached: DevicePeaks | undefined;

async function bestOf(runs: number, record: () => void): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    await gpu().recorder.sync();
    const start = performance.now();
    record();
    await gpu().recorder.sync();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** Runs both probes (about a second on a CPU adapter); the result is cached for the process. */
export async function measurePeaks(): Promise<DevicePeaks> {
  if (cached) return cached;
  const WG = 256;
  // FMA: enough invocations to fill every core, enough iterations to dwarf the launch.
  const invocations = 256 * WG;
  const iterations = 1024;
  const sink = Tensor.empty([1024], 'peaks');
  const fmaMs = await bestOf(3, () =>
    launch({
      name: 'fma_peak', shader: 'peaks', entry: 'fma_peak',
      uniforms: new Uniforms().u32(invocations, iterations).f32(0.999, 1e-3),
      inputs: [], outputs: [sink], workgroups: grid1d(invocations / WG),
      flops: invocations * iterations * 8 * 4 * 2, bytes: 0,
    }),
  );
  const flops = invocations * iterations * 8 * 4 * 2;
  // Copy: 32 MiB each way, well past any cache.
  const vec4s = (32 * 2 ** 20) / 16;
  const src = Tensor.empty([vec4s * 4], 'peaks');
  const dst = Tensor.empty([vec4s * 4], 'peaks');
  const copyMs = await bestOf(3, () =>
    launch({
      name: 'copy_peak', shader: 'peaks', entry: 'copy_peak',
      uniforms: new Uniforms().u32(vec4s, 0).f32(0, 0),
      inputs: [src], outputs: [dst], workgroups: grid1d(vec4s / WG),
      flops: 0, bytes: 2 * vec4s * 16,
    }),
  );
  for (const t of [sink, src, dst]) t.dispose();
  cached = { gflops: flops / (fmaMs * 1e6), gbps: (2 * vec4s * 16) / (copyMs * 1e6) };
  return cached;
}
