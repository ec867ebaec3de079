// Starting quantization-aware training from a checkpoint: a full-precision one has every key of the
// quantized model except the quantizers' own; those are filled with placeholders and left
// uninitialized, so each quantizer initializes itself from the first training batch (LSQ: its
// weights' or its input's 2 mean|x| / sqrt(Qp)). A quantized checkpoint loads as it is.
import { loadCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.ts';
import { Module, type StateEntry } from '../nn/module.ts';
import { quantizers } from './model.ts';

/** Loads `pathOrDir` (a checkpoint folder or file) into `model`, quantized or not; strict otherwise. */
export function loadInitCheckpoint(pathOrDir: string, model: Module): LoadedCheckpoint {
  return loadCheckpoint(pathOrDir, new WithQuantizerDefaults(model));
}

/** The state entries the quantizers of `model` would need, as uninitialized placeholders. */
export function quantizerPlaceholders(model: Module): Map<string, StateEntry> {
  const out = new Map<string, StateEntry>();
  for (const [path, q] of quantizers(model)) {
    for (const [name, t] of q.stateTensors()) out.set(`${path}.${name}`, { data: new Float32Array(t.size), shape: t.shape });
    for (const [name] of q.namedCounters()) out.set(`${path}.${name}`, { data: Int32Array.of(0), shape: [] });
  }
  return out;
}

/** Presents `target` to loadCheckpoint with the quantizers' missing entries filled in. */
class WithQuantizerDefaults extends Module {
  constructor(private readonly target: Module) {
    super();
  }
  override loadStateDict(entries: ReadonlyMap<string, StateEntry>): void {
    const full = new Map(entries);
    for (const [name, e] of quantizerPlaceholders(this.target)) if (!full.has(name)) full.set(name, e);
    this.target.loadStateDict(full);
  }
}
