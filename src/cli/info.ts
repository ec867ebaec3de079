// lowbit info: the adapter, its features and limits.
import { initGpu } from '../gpu/device.ts';
import { parse } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const g = await initGpu();
  const a = g.adapter;
  if (values.json) {
    console.log(JSON.stringify({ vendor: a.vendor, architecture: a.architecture, description: a.description, device: a.device, features: a.features, limits: a.limits }, null, 2));
    return;
  }
  console.log(`adapter       ${a.description || '(no description)'}`);
  console.log(`vendor        ${a.vendor || '-'}`);
  console.log(`architecture  ${a.architecture || '-'}`);
  console.log(`features      ${a.features.join(', ')}`);
  console.log('limits');
  for (const [k, v] of Object.entries(a.limits)) console.log(`  ${k.padEnd(44)} ${v}`);
}
