// lowbit train --config FILE.json | --preset NAME [--out DIR] [--resume] [--init CHECKPOINT] [--steps N] [--seed N]
// lowbit train --resume --out DIR    continues an interrupted run with the config saved in DIR
//              [--quant W4A4]              quantization-aware training (usually with --init FP_CHECKPOINT)
//              [--loss rcm --lambda L]     RCM: the --init checkpoint is the frozen full-precision teacher
//              [--loss arcface|cosface]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, PRESETS } from '../train/config.ts';
import { train } from '../train/trainer.ts';
import { intOption, parse, UsageError } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    config: { type: 'string' },
    preset: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    init: { type: 'string' },
    steps: { type: 'string' },
    quant: { type: 'string' },
    loss: { type: 'string' },
    lambda: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.config && values.preset) throw new UsageError('give --config or --preset, not both (a config file may name its preset)');
  const savedConfig = values.out && join(values.out, 'config.json');
  const changesConfig = ['config', 'preset', 'steps', 'seed', 'quant', 'loss', 'lambda'].some((k) => values[k as keyof typeof values] !== undefined);
  if (values.resume && !values.out) throw new UsageError('--resume continues the run in a folder: give --out DIR');
  let over: Record<string, unknown> = { preset: values.preset ?? 'tiny' };
  if (values.resume && !changesConfig) {
    // `lowbit train --resume --out DIR` continues with the config the run was started with.
    if (!existsSync(savedConfig!)) throw new UsageError(`--resume: '${values.out}' has no config.json: it holds no run to continue`);
    over = JSON.parse(readFileSync(savedConfig!, 'utf8')) as Record<string, unknown>;
  } else if (values.config) {
    try {
      over = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--config ${values.config}: ${(e as Error).message}`);
    }
  } else if (!PRESETS[values.preset ?? 'tiny']) {
    throw new UsageError(`unknown preset '${values.preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
  }
  if (values.steps) over = { ...over, steps: intOption('steps', values.steps, 1) };
  if (values.seed) over = { ...over, seed: intOption('seed', values.seed, 0, 0) };
  if (values.lambda !== undefined && values.loss !== 'rcm') throw new UsageError('--lambda is the weight of RCM\'s individual-error margin: use it with --loss rcm');
  if (values.loss) {
    const loss: Record<string, unknown> = { ...(typeof over.loss === 'object' && over.loss !== null ? over.loss : {}), kind: values.loss };
    if (values.loss === 'rcm') {
      if (!values.init) throw new UsageError('--loss rcm needs the full-precision teacher: give --init FP_CHECKPOINT');
      loss.teacher = values.init;
      if (values.lambda !== undefined) {
        const lambda = Number(values.lambda);
        if (!Number.isFinite(lambda) || lambda < 0) throw new UsageError(`--lambda must be a number >= 0, got '${values.lambda}'`);
        loss.lambda = lambda;
      }
    }
    over = { ...over, loss };
  }
  // --quant sets the policy; the rest of a config file's quant section (methods, per-layer mix) stays.
  if (values.quant) over = { ...over, quant: typeof over.quant === 'object' && over.quant !== null ? { ...over.quant, policy: values.quant } : values.quant };
  const config = resolveConfig(over);
  if (config.loss.kind === 'rcm' && !values.init && !values.resume) {
    throw new UsageError(`RCM fine-tunes a quantized student from the full-precision checkpoint: give --init ${config.loss.teacher} (the teacher of loss.teacher)`);
  }
  const outDir = values.out ?? join('runs', `${config.preset ?? 'custom'}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  if (!values.json) console.error(`lowbit train: ${config.preset ?? 'custom'} config, ${config.steps} steps${config.quant ? `, quantized ${config.quant.policy} (first ${config.quant.first}, last ${config.quant.last})` : ''}, output in ${outDir}`);
  const summary = await train(config, { outDir, resume: values.resume, init: values.init });
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(`output: ${outDir}`);
}
