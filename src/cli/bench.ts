// lowbit bench <suite|all> [--json]: runs the benchmark suites in bench/.
import { parse, UsageError } from './args.ts';

export const SUITES: Record<string, () => Promise<{ main: (opts: { json?: boolean }) => Promise<void> }>> = {
  matmul: () => import('../../bench/matmul.bench.ts'),
};

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(SUITES) : positionals;
  for (const name of names) {
    const suite = SUITES[name];
    if (!suite) throw new UsageError(`unknown benchmark suite '${name}' (known: ${Object.keys(SUITES).join(', ')}, all)`);
    if (!values.json) console.log(`# ${name}`);
    await (await suite()).main({ json: values.json });
  }
}
