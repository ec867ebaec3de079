// lowbit analyze --checkpoint FP_DIR [--bits 8,6,4,3,2] [--compare LABEL=DIR ...] [--data SPEC]
//                [--max-images N] [--out DIR] [--json]
import { analyze } from '../analysis/run.ts';
import { initGpu } from '../gpu/device.ts';
import { intOption, parse, UsageError } from './args.ts';
import { parseDataSpec } from './dataspec.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    checkpoint: { type: 'string' },
    bits: { type: 'string' },
    compare: { type: 'string', multiple: true },
    qat: { type: 'string' },
    rcm: { type: 'string' },
    data: { type: 'string' },
    'max-images': { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.checkpoint) throw new UsageError('--checkpoint FP_DIR is required (a full-precision run)');
  const bits = (values.bits ?? '8,6,4,3,2').split(',').map((b) => {
    const n = Number(b);
    if (!Number.isInteger(n) || n < 2 || n > 8) throw new UsageError(`--bits: each bit width must be an integer in 2..8, got '${b}'`);
    return n;
  });
  const compare: Record<string, string> = {};
  for (const entry of values.compare ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--compare: expected LABEL=CHECKPOINT, got '${entry}'`);
    compare[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  if (values.qat) compare['QAT'] = values.qat;
  if (values.rcm) compare['RCM'] = values.rcm;
  await initGpu();
  const result = await analyze({
    checkpoint: values.checkpoint,
    bits,
    compare,
    data: values.data ? parseDataSpec(values.data) : undefined,
    maxImages: values['max-images'] ? intOption('max-images', values['max-images'], 2000, 20) : undefined,
    outDir: values.out,
    onProgress: values.json ? undefined : (m) => console.error(m),
  });
  if (values.json) {
    console.log(JSON.stringify({ out: result.outDir, plots: result.plots, rows: result.rows }, null, 2));
    return;
  }
  console.log(result.table);
  console.log(`\nwritten to ${result.outDir}: analysis.md, analysis.json, ${result.plots.map((p) => p.slice(result.outDir.length + 1)).join(', ')}`);
}
