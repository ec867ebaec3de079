// lowbit info: the adapter, its features and limits.
import { initGpu } from '../gpu/device.ts';
import { measurePeaks } from '../gpu/peaks.ts';
import { parse } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, peaks: { type: 'boolean' } });
  const g = await initGpu();
  const a = g.adapter;
  const peaks = values.peaks ? await measurePeaks() : undefined;
  if (values.json) {
    console.log(JSON.stringify({ vendor: a.vendor, architecture: a.architecture, description: a.description, device: a.device, features: a.features, limits: a.limits, ...(peaks && { peaks: { fma_gflops: peaks.gflops, copy_gbps: peaks.gbps } }) }, null, 2));
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
  console.log('limits');
  for (const [k, v] of Object.entries(a.limits)) console.log(`  ${k.padEnd(44)} ${v}`);
}
