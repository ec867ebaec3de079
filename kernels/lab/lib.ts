// Helpers every kernel lab shares. validate() in each lab returns one Check per variant and problem: the
// variant's error against the family's float64 CPU reference (kernels/<family>.ts); test/lab.test.ts runs
// each lab's validate() on small shapes and fails on any Check over its tolerance.
import { parseArgs } from 'node:util';
import { compareInterleaved } from '../../bench/lib.ts';
import { gpu, initGpu } from '../../src/gpu/device.ts';


export interface Check {
  variant: string;
  problem: string;
  /** The error measure the lab states (usually max |got - want| / (1 + |want|)); Infinity: wrong size. */
  err: number;
  tol: number;
}

export const failures = (checks: readonly Check[]): Check[] => checks.filter((c) => !(c.err <= c.tol));

/** max |got - want| / (1 + |want|), Infinity when the lengths differ or a value is NaN. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** One line per variant: ok or FAIL, how many problems it ran, the failing ones with their errors. */
export function printChecks(variants: readonly string[], checks: readonly Check[], log: (line: string) => void = console.log): void {
  const width = Math.max(14, ...variants.map((v) => v.length));
  for (const v of variants) {
    const mine = checks.filter((c) => c.variant === v);
    const bad = failures(mine);
    const worst = Math.max(0, ...mine.map((c) => c.err));
    log(`  ${v.padEnd(width)} ${bad.length ? 'FAIL' : mine.length ? 'ok  ' : 'n/a '} ${mine.length} problems, worst error ${worst.toExponential(1)}`
      + (bad.length ? `  ${bad.map((c) => `${c.problem}: ${c.err.toExponential(2)}`).join('; ')}` : ''));
  }
}

export interface Timed {
  variant: string;
  problem: string;
  median_ms: number;
  /** The production variant's median over this one's: above 1, this variant is faster. */
  vs_production: number;
}

/**
 * Times `runs` (one per variant; each records its work synchronously, as bench/lib.ts's cases) on one
 * problem with compareInterleaved: sample by sample round-robin, so a job that takes a core slows every
 * variant alike. The production variant must be the last (compareInterleaved's baseline).
 */
export async function timeProblem(problem: string, runs: readonly [string, () => unknown][], rounds: number, json: boolean): Promise<Timed[]> {
  if (!json) console.log(`\n## ${problem}`);
  const results = await compareInterleaved(runs.map(([v, run]) => [`${v}`, run] as [string, () => unknown]), rounds, json);
  return results.map((r) => ({ variant: r.case, problem, median_ms: r.median_ms, vs_production: r.speedup as number }));
}

/** The table the labs' READMEs carry: median ms (x speedup over production) per variant and problem. */
export function printTable(variants: readonly string[], problems: readonly string[], timed: readonly Timed[]): void {
  console.log(`\n| variant | ${problems.join(' | ')} |`);
  console.log(`| --- | ${problems.map(() => '---:').join(' | ')} |`);
  for (const v of variants) {
    const cells = problems.map((p) => {
      const t = timed.find((x) => x.variant === v && x.problem === p);
      return t ? `${t.median_ms.toFixed(2)} (x${t.vs_production.toFixed(2)})` : '-';
    });
    console.log(`| ${v} | ${cells.join(' | ')} |`);
  }
}

/** A lab's run.ts: what it validates and what it times. */
export interface Lab<P extends { id: string }> {
  title: string;
  variants: readonly { name: string; about: string }[];
  validate: () => Promise<Check[]>;
  problems: readonly P[];
  /** The operands of one problem (kept alive until dispose) and one run per variant that takes it,
   *  the production variant last. */
  prepare: (pr: P) => { runs: [string, () => unknown][]; dispose: () => void };
}

/**
 * The runner the elementwise, reduce, batchnorm and optimizer labs share:
 *   npx tsx kernels/lab/<family>/run.ts [--json] [--rounds N] [--no-validate]
 * validates every variant (exit code 1 on any failure), then times them interleaved per problem and
 * prints a table of median ms and the speedup over production (JSON lines with --json).
 */
export async function runLab<P extends { id: string }>(lab: Lab<P>, defaultRounds: number): Promise<never> {
  const { values: args } = parseArgs({
    options: { json: { type: 'boolean', default: false }, rounds: { type: 'string', default: String(defaultRounds) }, 'no-validate': { type: 'boolean', default: false } },
  });
  const log = (line: string): void => { if (!args.json) console.log(line); };
  await initGpu();
  let bad: Check[] = [];
  if (!args['no-validate']) {
    log(`${lab.title}: validating ${lab.variants.length} variants against the float64 CPU reference`);
    const checks = await lab.validate();
    printChecks(lab.variants.map((v) => v.name), checks, log);
    bad = failures(checks);
    if (args.json) for (const c of checks) console.log(JSON.stringify({ check: c.variant, problem: c.problem, err: c.err, ok: c.err <= c.tol }));
  }
  const timed: Timed[] = [];
  for (const pr of lab.problems) {
    const { runs, dispose } = lab.prepare(pr);
    timed.push(...await timeProblem(pr.id, runs, Number(args.rounds), args.json));
    dispose();
    gpu().pool.trim();
  }
  if (!args.json) {
    console.log(`\nmedian ms of ${args.rounds} interleaved samples (x speedup over production; above 1 = faster)`);
    printTable(lab.variants.map((v) => v.name), lab.problems.map((p) => p.id), timed);
    console.log('\nvariants:');
    for (const v of lab.variants) console.log(`  ${v.name.padEnd(16)} ${v.about}`);
  }
  if (bad.length) console.error(`${bad.length} validation failure(s)`);
  process.exit(bad.length ? 1 : 0);
}
