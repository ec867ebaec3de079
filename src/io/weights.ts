// Model weights as plain PyTorch-named safetensors ("conv1.weight", "layer1.0.bn1.running_mean", ...,
// num_batches_tracked as I64): what torch's `save_file(model.state_dict())` writes and reads.
// Names, shapes and dtypes are checked against the model; a mismatch names the key.
import type { Module, StateEntry } from '../nn/module.ts';
import { fmt } from '../shape.ts';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors, type SafeDType, type SafeTensor } from './safetensors.ts';

export class WeightsError extends Error {
  override name = 'WeightsError';
}

const FLOAT_TYPES: SafeDType[] = ['F32', 'F16', 'BF16', 'F64'];
const INT_TYPES: SafeDType[] = ['I64', 'I32'];

export async function saveWeights(path: string, model: Module, metadata?: Record<string, string>): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, e] of await model.stateDict()) {
    if (e.data instanceof Int32Array) {
      // PyTorch keeps num_batches_tracked as int64.
      const wide = new BigInt64Array(e.data.length);
      e.data.forEach((v, i) => (wide[i] = BigInt(v)));
      tensors.set(name, { dtype: 'I64', shape: [...e.shape], bytes: new Uint8Array(wide.buffer) });
    } else {
      tensors.set(name, f32Tensor(e.data, e.shape));
    }
  }
  writeSafetensors(path, tensors, metadata);
}

/** Loads weights into `model`; every key, shape and dtype must match (errors list every problem). */
export function loadWeights(path: string, model: Module): Record<string, string> {
  const file = readSafetensors(path);
  const expected = new Map<string, { shape: readonly number[]; integer: boolean }>();
  for (const [name, t] of model.stateTensors()) expected.set(name, { shape: t.shape, integer: t.dtype === 'i32' });
  for (const [name] of model.namedCounters()) expected.set(name, { shape: [], integer: true });
  const problems: string[] = [];
  const entries = new Map<string, StateEntry>();
  for (const [name, want] of expected) {
    const t = file.tensors.get(name);
    if (!t) {
      problems.push(`missing key '${name}' (expected shape ${fmt(want.shape)})`);
      continue;
    }
    const allowed = want.integer ? INT_TYPES : FLOAT_TYPES;
    if (!allowed.includes(t.dtype)) problems.push(`key '${name}': expected dtype ${allowed.join('/')}, found ${t.dtype}`);
    else if (fmt(t.shape) !== fmt(want.shape)) problems.push(`key '${name}': expected shape ${fmt(want.shape)}, found ${fmt(t.shape)}`);
    else entries.set(name, { data: want.integer ? Int32Array.from(toFloat32(t)) : toFloat32(t), shape: t.shape });
  }
  for (const name of file.tensors.keys()) if (!expected.has(name)) problems.push(`unexpected key '${name}'`);
  if (problems.length > 0) throw new WeightsError(`${path}: ${problems.length} problem(s) loading into ${model.constructor.name}: ${problems.join('; ')}`);
  model.loadStateDict(entries);
  return file.metadata;
}
