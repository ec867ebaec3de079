// lowbit command line: `lowbit <command> [options]`. Each command lives in its own module.
export {};

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<void> }> }> = {
  info: { summary: 'adapter, features, limits [--json] [--peaks]', load: () => import('./info.ts') },
  bench: { summary: 'benchmarks: lowbit bench <suite|all> [--json]', load: () => import('./bench.ts') },
  profile: { summary: 'per-kernel GPU time of a train step: --preset NAME --steps N [--trace FILE] [--json]', load: () => import('./profile.ts') },
  train: { summary: 'train: --config FILE.json | --preset NAME [--out DIR] [--resume] [--init CKPT] [--quant W4A4] [--loss rcm --lambda L]', load: () => import('./train.ts') },
  eval: { summary: 'verification: --checkpoint DIR [--data SPEC] [--pairs N] [--json]', load: () => import('./eval.ts') },
  analyze: { summary: 'quantization-error analysis: --checkpoint FP_DIR [--bits 8,6,4,3,2] [--compare LABEL=DIR]', load: () => import('./analyze.ts') },
  experiment: { summary: 'QAT vs RCM over seeds: --seeds N [--preset demo|tiny|faces112|casia] [--fp CKPT] [--out DIR]', load: () => import('./experiment.ts') },
  demo: { summary: 'the default run (npm run demo): FP, PTQ analysis, QAT-4 and RCM-4 [--preset tiny|faces112|casia] [--out DIR]', load: () => import('./demo.ts') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: lowbit <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

const [command, ...rest] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(usage());
  process.exit(command ? 0 : 1);
}
const entry = COMMANDS[command];
if (!entry) {
  process.stderr.write(`lowbit: unknown command '${command}'\n\n${usage()}`);
  process.exit(2);
}
try {
  await (await entry.load()).run(rest);
  process.exit(0);
} catch (error) {
  const e = error as Error;
  process.stderr.write(`lowbit ${command}: ${e.name === 'UsageError' ? '' : `${e.name}: `}${e.message}\n`);
  if (process.env.LOWBIT_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
