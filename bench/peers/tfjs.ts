// @tensorflow/tfjs-core + @tensorflow/tfjs-backend-webgpu 4.22 on the same Dawn instance: the peer we
// measure against in the same run. tfjs gets its own WebGPU device (from navigator.gpu, which we point
// at our Dawn instance) and its preferred layouts (NHWC convolutions).
import { gpu } from '../../src/gpu/device.ts';
import type { BenchCase } from '../lib.ts';

type Tf = typeof import('@tensorflow/tfjs-core');
interface WebGpuBackend {
  endComputePassEncoder(): void;
  submitQueue(): void;
  queue: GPUQueue;
}

let loaded: Promise<{ tf: Tf; backend: WebGpuBackend }> | undefined;

/** Loads tfjs with its WebGPU backend on our Dawn instance (once). */
export function loadTfjs(): Promise<{ tf: Tf; backend: WebGpuBackend }> {
  loaded ??= (async () => {
    gpu(); // our device exists, so the Dawn instance and the WebGPU globals do
    const g = globalThis as { navigator?: { gpu?: unknown }; __lowbitDawn?: unknown };
    g.navigator ??= {};
    g.navigator.gpu = g.__lowbitDawn;
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend failed to initialize on this adapter');
    await tf.ready();
    return { tf, backend: tf.backend() as unknown as WebGpuBackend };
  })();
  return loaded;
}

/** Times a tfjs op: the kernels it queues, submitted and waited for (no readback). */
function tfjsCase(id: string, flops: number, build: (tf: Tf) => { inputs: import('@tensorflow/tfjs-core').Tensor[]; op: () => import('@tensorflow/tfjs-core').Tensor }): BenchCase {
  let tf: Tf;
  let backend: WebGpuBackend;
  let inputs: import('@tensorflow/tfjs-core').Tensor[] = [];
  let op: () => import('@tensorflow/tfjs-core').Tensor;
  return {
    id: `tfjs_${id}`,
    flops,
    setup: async () => {
      ({ tf, backend } = await loadTfjs());
      ({ inputs, op } = build(tf));
    },
    run: () => undefined,
    runAsync: async () => {
      const out = op();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.queue.onSubmittedWorkDone();
      out.dispose();
    },
    teardown: () => {
      for (const t of inputs) t.dispose();
    },
  };
}

export function tfjsMatmul(id: string, M: number, K: number, N: number): BenchCase {
  return tfjsCase(id, 2 * M * N * K, (tf) => {
    const a = tf.randomNormal([M, K]);
    const b = tf.randomNormal([K, N]);
    return { inputs: [a, b], op: () => tf.matMul(a, b) };
  });
}

export interface ConvShape {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  k: number;
  stride: number;
  pad: number;
}

export const convOutSize = (size: number, k: number, stride: number, pad: number): number => Math.floor((size + 2 * pad - k) / stride) + 1;
export const convFlops = (s: ConvShape): number => 2 * s.N * s.O * convOutSize(s.H, s.k, s.stride, s.pad) * convOutSize(s.W, s.k, s.stride, s.pad) * s.C * s.k * s.k;

/** tfjs convolution kernels in NHWC with explicit (PyTorch-style symmetric) padding. */
export function tfjsConv(id: string, s: ConvShape, pass: 'fwd' | 'dx' | 'dw'): BenchCase {
  return tfjsCase(id, convFlops(s), (tf) => {
    const Ho = convOutSize(s.H, s.k, s.stride, s.pad);
    const Wo = convOutSize(s.W, s.k, s.stride, s.pad);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [s.pad, s.pad], [s.pad, s.pad], [0, 0]];
    const x = tf.randomNormal([s.N, s.H, s.W, s.C]) as import('@tensorflow/tfjs-core').Tensor4D;
    const w = tf.randomNormal([s.k, s.k, s.C, s.O]) as import('@tensorflow/tfjs-core').Tensor4D;
    const dy = tf.randomNormal([s.N, Ho, Wo, s.O]) as import('@tensorflow/tfjs-core').Tensor4D;
    const attrs = { strides: [s.stride, s.stride], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
    const engine = tf.engine();
    const op = pass === 'fwd'
      ? () => engine.runKernel('Conv2D', { x, filter: w }, attrs as never) as import('@tensorflow/tfjs-core').Tensor
      : pass === 'dx'
        ? () => engine.runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [s.N, s.H, s.W, s.C] } as never) as import('@tensorflow/tfjs-core').Tensor
        : () => engine.runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [s.k, s.k, s.C, s.O] } as never) as import('@tensorflow/tfjs-core').Tensor;
    return { inputs: [x, w, dy], op };
  });
}
