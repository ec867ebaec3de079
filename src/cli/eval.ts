// lowbit eval --checkpoint DIR [--data SPEC] [--pairs N] [--json]
// Without --data, pairs are drawn from the held-out identities of the data the checkpoint trained on.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initGpu } from '../gpu/device.ts';
import { checkpointPath, loadCheckpoint } from '../io/checkpoint.ts';
import { dispose } from '../tensor.ts';
import { validateConfig } from '../train/config.ts';
import { identifyHeldOut, pairSource, verify } from '../train/evaluate.ts';
import { buildModel } from '../train/model.ts';
import { parseDataSpec } from './dataspec.ts';
import { intOption, parse, UsageError } from './args.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, { checkpoint: { type: 'string' }, data: { type: 'string' }, pairs: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' }, identification: { type: 'boolean' } });
  if (!values.checkpoint) throw new UsageError('--checkpoint DIR is required');
  const file = checkpointPath(values.checkpoint);
  const configFile = join(dirname(file), 'config.json');
  if (!existsSync(configFile)) throw new UsageError(`no config.json beside ${file}: it says which model and data the checkpoint belongs to`);
  const config = validateConfig(JSON.parse(readFileSync(configFile, 'utf8')));
  await initGpu();
  const model = buildModel(config.model, config.seed, config.quant);
  dispose([...loadCheckpoint(file, model).extra.values()]);
  const spec = values.data ? parseDataSpec(values.data) : config.data.heldOut;
  const source = pairSource(spec, intOption('pairs', values.pairs, config.data.pairs, 20), config.seed);
  const { summary } = await verify(model, source, {
    inputSize: config.model.inputSize,
    outDir: values.out ?? dirname(file),
    label: config.preset ?? 'model',
    onProgress: values.json ? undefined : (done, total) => process.stderr.write(`\rembedding ${done}/${total} images`),
  });
  const identification = values.identification ? await identifyHeldOut(model, source.dataset, { inputSize: config.model.inputSize }) : undefined;
  model.dispose();
  if (values.json) {
    console.log(JSON.stringify(identification ? { ...summary, identification } : summary, null, 2));
    return;
  }
  process.stderr.write('\n');
  console.log(`verification on ${summary.pairs} pairs (${summary.genuine_pairs} same, ${summary.impostor_pairs} different; chance ${summary.chance.toFixed(2)})`);
  console.log(`accuracy   ${summary.accuracy.toFixed(4)} ± ${summary.accuracy_std.toFixed(4)} (10-fold)`);
  console.log(`AUC        ${summary.auc.toFixed(4)}`);
  for (const [far, tar] of Object.entries(summary.tar_at_far)) console.log(`TAR@FAR=${far.padEnd(6)} ${tar === null ? 'n/a (too few impostor pairs)' : tar.toFixed(4)}`);
  console.log(`ROC curve: ${join(values.out ?? dirname(file), 'roc.png')}`);
  if (identification) {
    const ranks = identification.rank_accuracy.map((r) => `rank-${r.rank} ${r.accuracy.toFixed(4)}`).join(', ');
    console.log(`identification: ${identification.probes} probes against ${identification.identities} identities: ${ranks}`);
  }
}
