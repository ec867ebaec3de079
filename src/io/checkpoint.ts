// Checkpoints: one safetensors file holding the model ("model.<name>"), extra trained tensors such as
// the classifier ("head.<name>"), the optimizer state ("optim.<param>.<slot>") and, in the metadata,
// the step and anything else the trainer needs to resume exactly. Written atomically.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Module, StateEntry } from '../nn/module.ts';
import { fromArray } from '../ops/creation.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import type { Tensor } from '../tensor.ts';
import { f32Tensor, i32Tensor, readSafetensors, toFloat32, writeSafetensors, type SafeTensor } from './safetensors.ts';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface CheckpointContents {
  model: Module;
  /** Other tensors trained beside the model (the margin classifier's weights). */
  extra?: ReadonlyMap<string, Tensor>;
  optimizer?: Optimizer;
  /** Saved as strings in the safetensors metadata. */
  metadata: Record<string, string>;
}

function entryTensor(e: StateEntry): SafeTensor {
  return e.data instanceof Int32Array ? i32Tensor(e.data, e.shape) : f32Tensor(e.data, e.shape);
}

export async function saveCheckpoint(path: string, c: CheckpointContents): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, e] of await c.model.stateDict()) tensors.set(`model.${name}`, entryTensor(e));
  for (const [name, t] of c.extra ?? []) tensors.set(`head.${name}`, f32Tensor((await t.toArray()) as Float32Array, t.shape));
  if (c.optimizer) {
    for (const [name, t] of c.optimizer.state()) tensors.set(`optim.${name}`, f32Tensor((await t.toArray()) as Float32Array, t.shape));
  }
  const metadata = { ...c.metadata, ...(c.optimizer && { optimizer_steps: String(c.optimizer.stepCount) }) };
  writeSafetensors(path, tensors, metadata);
}

export interface LoadedCheckpoint {
  metadata: Record<string, string>;
  /** "head.*" tensors, uploaded. */
  extra: Map<string, Tensor>;
}

/** Resolves a checkpoint given as its folder or its file. */
export function checkpointPath(pathOrDir: string): string {
  if (!existsSync(pathOrDir)) throw new CheckpointError(`no checkpoint at '${pathOrDir}'`);
  if (statSync(pathOrDir).isDirectory()) {
    const file = join(pathOrDir, CHECKPOINT_FILE);
    if (!existsSync(file)) throw new CheckpointError(`folder '${pathOrDir}' has no ${CHECKPOINT_FILE}`);
    return file;
  }
  return pathOrDir;
}

/** Loads the model's state (strict: names and shapes must match) and, when given, the optimizer's. */
export function loadCheckpoint(pathOrDir: string, model: Module, optimizer?: Optimizer): LoadedCheckpoint {
  const path = checkpointPath(pathOrDir);
  const file = readSafetensors(path);
  const modelState = new Map<string, StateEntry>();
  const optimState = new Map<string, Tensor>();
  const extra = new Map<string, Tensor>();
  for (const [key, t] of file.tensors) {
    const dot = key.indexOf('.');
    const [section, name] = [key.slice(0, dot), key.slice(dot + 1)];
    const data = t.dtype === 'I32' || t.dtype === 'I64' ? Int32Array.from(toFloat32(t)) : toFloat32(t);
    if (section === 'model') modelState.set(name, { data, shape: t.shape });
    else if (section === 'head') extra.set(name, fromArray(data, t.shape, 'f32'));
    else if (section === 'optim') optimState.set(name, fromArray(data, t.shape, 'f32'));
    else throw new CheckpointError(`${path}: unexpected tensor '${key}' (sections are model., head., optim.)`);
  }
  try {
    model.loadStateDict(modelState);
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
  if (optimizer) optimizer.loadState(optimState, Number(file.metadata.optimizer_steps ?? 0));
  else for (const t of optimState.values()) t.dispose();
  return { metadata: file.metadata, extra };
}
