// lowbit info: the adapter, its features and limits, and what lowbit's device enabled of them.
import { initGpu } from '../gpu/device.ts';
import { measurePeaks } from '../gpu/peaks.ts';
import { parse } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, peaks: { type: 'boolean' } });
  const g = await initGpu();
  const a = g.adapter;
  const deviceLimits = Object.fromEntries(Object.keys(a.limits).map((k) => [k, (g.limits as unknown as Record<string, number>)[k]!]));
  const peaks = values.peaks ? await measurePeaks() : undefined;
  if (values.json) {
    console.log(JSON.stringify({ vendor: a.vendor, architecture: a.architecture, description: a.description, device: a.device, features: a.features, limits: a.limits, enabled_features: [...g.features].sort(), device_limits: deviceLimits, ...(peaks && { peaks: { fma_gflops: peaks.gflops, copy_gbps: peaks.gbps } }) }, null, 2));
    return;
  }
  if (peaks) {
    console.log(`peak FMA      ${peaks.gflops.toFixed(1)} GFLOP/s (measured)`);
    console.log(`peak copy     ${peaks.gbps.toFixed(1)} GB/s (measured)`);
  }
  console.log(`adapter       ${a.description || '(no description)'}`);
  console.log(`vendor        ${a.vendor || '-'}`);
  console.log(`architecture  ${a.architecture || '-'}`);
  console.log(`features      ${a.features.join(', ')}`);
  console.log(`enabled       ${[...g.features].sort().join(', ')} (the optional features lowbit uses)`);
  console.log('limits (adapter; where lowbit\'s device differs, its value follows)');
  for (const [k, v] of Object.entries(a.limits)) console.log(`  ${k.padEnd(44)} ${v}${deviceLimits[k] !== v ? `  (device ${deviceLimits[k]})` : ''}`);
}
