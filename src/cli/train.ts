// lowbit train --config FILE.json | --preset NAME [--out DIR] [--resume] [--init CHECKPOINT] [--steps N]
//              [--quant W4A4]   quantization-aware training (usually with --init FP_CHECKPOINT)
import { readFileSync } from 'node:fs';
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
    json: { type: 'boolean' },
  });
  if (values.config && values.preset) throw new UsageError('give --config or --preset, not both (a config file may name its preset)');
  let over: Record<string, unknown> = { preset: values.preset ?? 'tiny' };
  if (values.config) {
    try {
      over = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--config ${values.config}: ${(e as Error).message}`);
    }
  } else if (!PRESETS[values.preset ?? 'tiny']) {
    throw new UsageError(`unknown preset '${values.preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
  }
  if (values.steps) over = { ...over, steps: intOption('steps', values.steps, 1) };
  // --quant sets the policy; the rest of a config file's quant section (methods, per-layer mix) stays.
  if (values.quant) over = { ...over, quant: typeof over.quant === 'object' && over.quant !== null ? { ...over.quant, policy: values.quant } : values.quant };
  const config = resolveConfig(over);
  const outDir = values.out ?? join('runs', `${config.preset ?? 'custom'}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  if (!values.json) console.error(`lowbit train: ${config.preset ?? 'custom'} config, ${config.steps} steps${config.quant ? `, quantized ${config.quant.policy} (first ${config.quant.first}, last ${config.quant.last})` : ''}, output in ${outDir}`);
  const summary = await train(config, { outDir, resume: values.resume, init: values.init });
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(`output: ${outDir}`);
}
