// Compute pipelines cached by (shader file, entry point, override constants) — never by tensor shape:
// shapes travel in uniforms. On lavapipe compiling a pipeline costs 0.1-0.8 s, so the cache is the
// difference between a test suite of seconds and one of minutes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHADER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shaders');

export type OverrideConstants = Record<string, number>;

export interface PipelineKey {
  /** File name in shaders/ without `.wgsl`. */
  shader: string;
  entry: string;
  /** Values for `override` declarations. */
  constants?: OverrideConstants;
  /** Values templated into `const NAME: type = ...;` declarations: what `override` cannot size
   *  (private arrays of a register tile). The file keeps compiling on its own with its defaults. */
  defines?: OverrideConstants;
}

function entries(record: OverrideConstants | undefined): [string, number][] {
  return record ? Object.entries(record).sort(([a], [b]) => a.localeCompare(b)) : [];
}

export function pipelineKeyString(key: PipelineKey): string {
  const list = (r?: OverrideConstants): string => entries(r).map(([k, v]) => `${k}=${v}`).join(',');
  return `${key.shader}:${key.entry}:${list(key.constants)}${key.defines ? `|${list(key.defines)}` : ''}`;
}

/** Replaces `const NAME: T = v;` by the given values, keeping the declared type. */
export function applyDefines(code: string, defines: OverrideConstants | undefined): string {
  for (const [name, value] of entries(defines)) {
    const decl = new RegExp(`^const ${name}\\s*:\\s*(u32|i32|f32|bool)\\s*=[^;]*;`, 'm');
    const match = decl.exec(code);
    if (!match) throw new Error(`shader define ${name}: no 'const ${name}: <u32|i32|f32|bool> = ...;' declaration to replace`);
    const type = match[1]!;
    const literal = type === 'bool' ? String(Boolean(value)) : type === 'f32' ? `${value}f` : `${Math.trunc(value)}${type === 'u32' ? 'u' : 'i'}`;
    code = code.replace(decl, `const ${name}: ${type} = ${literal};`);
  }
  return code;
}

const sourceCache = new Map<string, string>();
export function shaderSource(shader: string): string {
  let code = sourceCache.get(shader);
  if (code === undefined) {
    code = readFileSync(join(SHADER_DIR, `${shader}.wgsl`), 'utf8');
    sourceCache.set(shader, code);
  }
  return code;
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  compiled = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly reportError: (message: string) => void,
  ) {}

  get(key: PipelineKey): GPUComputePipeline {
    const id = pipelineKeyString(key);
    let pipeline = this.pipelines.get(id);
    if (pipeline) return pipeline;
    const moduleId = `${key.shader}|${pipelineKeyString({ shader: '', entry: '', defines: key.defines })}`;
    let module = this.modules.get(moduleId);
    if (!module) {
      module = this.device.createShaderModule({ code: applyDefines(shaderSource(key.shader), key.defines), label: key.shader });
      this.modules.set(moduleId, module);
    }
    this.device.pushErrorScope('validation');
    pipeline = this.device.createComputePipeline({
      label: id,
      layout: 'auto',
      compute: { module, entryPoint: key.entry, constants: key.constants },
    });
    void this.device.popErrorScope().then((error) => {
      if (error) this.reportError(`pipeline ${id} failed to compile: ${error.message}`);
    });
    this.compiled++;
    this.pipelines.set(id, pipeline);
    return pipeline;
  }
}
