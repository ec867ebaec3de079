// lowbit bench <suite|all> [--json] [--vs tfjs]: runs the benchmark suites in bench/, or compares
// our kernels with tfjs-backend-webgpu's in the same run.
import { parse, UsageError } from './args.ts';

export const SUITES: Record<string, () => Promise<{ main: (opts: { json?: boolean }) => Promise<void> }>> = {
  matmul: () => import('../../bench/matmul.bench.ts'),
  batchnorm: () => import('../../bench/batchnorm.bench.ts'),
  elementwise: () => import('../../bench/elementwise.bench.ts'),
  pool: () => import('../../bench/pool.bench.ts'),
  profiler: () => import('../../bench/profiler.bench.ts'),
  loader: () => import('../../bench/loader.bench.ts'),
  train: () => import('../../bench/train.bench.ts'),
  memory: () => import('../../bench/memory.bench.ts'),
  reduce: () => import('../../bench/reduce.bench.ts'),
  rcm: () => import('../../bench/rcm.bench.ts'),
  conv: () => import('../../bench/conv.bench.ts'),
  quant: () => import('../../bench/quant.bench.ts'),
  optim: () => import('../../bench/optim.bench.ts'),
};

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, vs: { type: 'string' } }, true);
  if (values.vs !== undefined) {
    if (values.vs !== 'tfjs') throw new UsageError(`--vs: the only peer is 'tfjs', got '${values.vs}'`);
    const { compareWithTfjs, PEER_PAIRS } = await import('../../bench/compare.ts');
    const suites = positionals.length === 0 || positionals.includes('all') ? Object.keys(PEER_PAIRS) : positionals;
    for (const s of suites) if (!PEER_PAIRS[s]) throw new UsageError(`no tfjs comparison for suite '${s}' (comparable: ${Object.keys(PEER_PAIRS).join(', ')})`);
    await compareWithTfjs(suites, { json: values.json });
    return;
  }
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(SUITES) : positionals;
  for (const name of names) if (!SUITES[name]) throw new UsageError(`unknown benchmark suite '${name}' (known: ${Object.keys(SUITES).join(', ')}, all)`);
  const log = console.log;
  // --json promises every case object `case`, `median_ms` and `gflops`: the suites print what they
  // measure, and this fills what does not apply to a case (a ratio, a memory count) with null.
  if (values.json) console.log = (...args: unknown[]) => log(args.length === 1 && typeof args[0] === 'string' ? withRequiredFields(args[0]) : args.join(' '));
  try {
    for (const name of names) {
      if (!values.json) console.log(`# ${name}`);
      await (await SUITES[name]!()).main({ json: values.json });
    }
  } finally {
    console.log = log;
  }
}

/** A JSON case line with `median_ms` and `gflops` present (null where the case has none); other lines
 *  unchanged. */
export function withRequiredFields(line: string): string {
  if (!line.startsWith('{')) return line;
  const r = JSON.parse(line) as Record<string, unknown>;
  if (typeof r.case !== 'string') return line;
  return JSON.stringify({ case: r.case, median_ms: r.median_ms ?? null, gflops: r.gflops ?? null, ...r });
}
