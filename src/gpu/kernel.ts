// The one way a kernel is launched: pipeline from the cache, uniforms packed, tensors bound in order
// (binding 0 = uniforms, then inputs read-only, then outputs read-write), recorded for the next submit.
import { gpu } from './device.ts';
import type { OverrideConstants } from './pipelines.ts';
import type { Tensor } from '../tensor.ts';
import { fmt } from '../shape.ts';

/** Packs a WGSL uniform struct word by word; the kernel's struct declares the same order. */
export class Uniforms {
  private readonly words: number[] = [];
  private readonly kinds: ('u' | 'i' | 'f')[] = [];
  u32(...values: number[]): this {
    for (const v of values) this.push(v, 'u');
    return this;
  }
  i32(...values: number[]): this {
    for (const v of values) this.push(v, 'i');
    return this;
  }
  f32(...values: number[]): this {
    for (const v of values) this.push(v, 'f');
    return this;
  }
  /** A `array<vec4<u32>, n>` holding `values` padded with `fill` to 4*n entries. */
  u32x4(values: readonly number[], n: number, fill = 0): this {
    this.pad16();
    for (let i = 0; i < 4 * n; i++) this.push(values[i] ?? fill, 'u');
    return this;
  }
  pad16(): this {
    while (this.words.length % 4 !== 0) this.push(0, 'u');
    return this;
  }
  private push(v: number, kind: 'u' | 'i' | 'f'): void {
    this.words.push(v);
    this.kinds.push(kind);
  }
  build(): ArrayBuffer {
    this.pad16();
    const buf = new ArrayBuffer(this.words.length * 4);
    const view = new DataView(buf);
    this.words.forEach((v, i) => {
      const kind = this.kinds[i];
      if (kind === 'f') view.setFloat32(i * 4, v, true);
      else if (kind === 'i') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v >>> 0, true);
    });
    return buf;
  }
}

export interface KernelLaunch {
  /** Name shown by the profiler and in errors, e.g. 'matmul' or 'unary.exp'. */
  name: string;
  shader: string;
  entry: string;
  constants?: OverrideConstants;
  defines?: OverrideConstants;
  uniforms?: Uniforms;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  workgroups: readonly [number, number, number];
  flops: number;
  bytes: number;
  /** Overrides the shapes shown by the profiler (defaults to the inputs' shapes). */
  shapes?: string;
}

export function launch(k: KernelLaunch): void {
  const g = gpu();
  const [x, y, z] = k.workgroups;
  if (x === 0 || y === 0 || z === 0) return;
  const maxWg = g.limits.maxComputeWorkgroupsPerDimension;
  if (x > maxWg || y > maxWg || z > maxWg) {
    throw new Error(`${k.name}: ${x}x${y}x${z} workgroups exceed the device limit of ${maxWg} per dimension (inputs ${k.inputs.map((t) => fmt(t.shape)).join(', ')})`);
  }
  const pipeline = g.pipelines.get({ shader: k.shader, entry: k.entry, constants: k.constants, defines: k.defines });
  const buffers = [...k.inputs, ...k.outputs].map((t) => t.binding());
  g.recorder.dispatch(pipeline, buffers, k.uniforms?.build() ?? null, {
    name: k.name,
    shapes: k.shapes ?? k.inputs.map((t) => fmt(t.shape)).join(' '),
    workgroups: k.workgroups,
    flops: k.flops,
    bytes: k.bytes,
  });
}

/** Workgroup grid for `count` workgroups along one logical axis, folded into y past the 65535 limit.
 *  Shaders recover the linear id as `wid.x + wid.y * nwg.x`. */
export function grid1d(count: number): [number, number, number] {
  const maxWg = gpu().limits.maxComputeWorkgroupsPerDimension;
  if (count <= maxWg) return [count, 1, 1];
  const y = Math.ceil(count / maxWg);
  return [Math.ceil(count / y), y, 1];
}
