// --data SPEC on the command line:
//   synthetic[:key=value,...]       e.g. synthetic:split=heldout,identities=300,size=32
//   bin:PATH                        an insightface verification .bin (its own pairs)
//   folder:PATH                     one sub-folder per identity
//   rec:DIR                         insightface train.rec + train.idx
//   idx:IMAGES,LABELS[,classes=6-9] MNIST-family IDX files, optionally some classes only
//   cache:PATH                      a lowbit .lbc cache
import type { DatasetSpec } from '../data/dataset.ts';
import { UsageError } from './args.ts';

function parseClasses(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split('+')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b))) throw new UsageError(`--data: bad class list '${text}' (use e.g. 6-9 or 0-5+7)`);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

export function parseDataSpec(text: string): DatasetSpec {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'synthetic': {
      const options: Record<string, number | string> = {};
      for (const kv of rest ? rest.split(',') : []) {
        const [k, v] = kv.split('=');
        if (!k || v === undefined) throw new UsageError(`--data synthetic: expected key=value, got '${kv}'`);
        options[k] = k === 'split' ? v : Number(v);
        if (k !== 'split' && !Number.isFinite(options[k])) throw new UsageError(`--data synthetic: ${k} must be a number, got '${v}'`);
      }
      return { kind: 'synthetic', options };
    }
    case 'bin': return { kind: 'verification-bin', path: rest };
    case 'folder': return { kind: 'folder', root: rest };
    case 'rec': return { kind: 'insightface-rec', dir: rest };
    case 'cache': return { kind: 'cache', path: rest };
    case 'idx': {
      const [images, labels, ...opts] = rest.split(',');
      if (!images || !labels) throw new UsageError(`--data idx: expected idx:IMAGES,LABELS[,classes=6-9], got '${text}'`);
      const classes = opts.find((o) => o.startsWith('classes='));
      return { kind: 'idx', images, labels, ...(classes && { classes: parseClasses(classes.slice('classes='.length)) }) };
    }
    default:
      throw new UsageError(`--data: unknown kind '${kind}' (synthetic, bin, folder, rec, idx, cache)`);
  }
}
