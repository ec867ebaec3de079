// Per-layer quantization error: the output of each quantized layer against the same point of the
// full-precision model (for a folded layer, the output of the BN folded after it), over a few batches,
// plus the final embedding's error as the paper measures it (the angle between FP and quantized).
// Errors accumulate through the network: layer k sees the quantized outputs of layers 1..k-1.
import { runUnary } from '../../kernels/elementwise.ts';
import { noGrad } from '../autograd.ts';
import type { Layer } from '../nn/layers.ts';
import { keep, tidy, type Tensor } from '../tensor.ts';
import { quantizedLayers, moduleAt } from './model.ts';
import { foldRecords } from './ptq.ts';

export interface LayerError {
  layer: string;
  /** The module of the FP model compared against. */
  reference: string;
  setting: string;
  /** ||q - f|| / ||f|| over every element of every batch. */
  relL2: number;
  /** Cosine between q and f flattened. */
  cosine: number;
}

export interface EmbeddingError {
  relL2: number;
  /** Mean cosine between each sample's FP and quantized embeddings. */
  cosine: number;
  /** Mean and max angle (degrees): the paper's AQE(i) = arccos(<f_i/|f_i|, q_i/|q_i|>). */
  meanAngleDeg: number;
  maxAngleDeg: number;
}

export interface QuantReport {
  layers: LayerError[];
  embedding: EmbeddingError;
}

class Accumulator {
  dd = 0;
  ff = 0;
  qq = 0;
  qf = 0;
  add(q: Float32Array, f: Float32Array): void {
    for (let i = 0; i < q.length; i++) {
      const [a, b] = [q[i]!, f[i]!];
      this.dd += (a - b) ** 2;
      this.ff += b * b;
      this.qq += a * a;
      this.qf += a * b;
    }
  }
  get relL2(): number {
    return Math.sqrt(this.dd / this.ff);
  }
  get cosine(): number {
    return this.qf / Math.sqrt(this.qq * this.ff);
  }
}

/** Runs `model` on x with the outputs of `names` captured (copied, kept); the hooks are removed after. */
function forwardCapturing(model: Layer, x: Tensor, names: readonly string[]): { out: Tensor; captured: Map<string, Tensor> } {
  const captured = new Map<string, Tensor>();
  const hooked = names.map((name) => moduleAt(model, name) as Layer);
  hooked.forEach((m, i) => {
    const forward = m.forward.bind(m);
    // An own property shadows the class's method until deleted below.
    m.forward = (input: Tensor): Tensor => {
      const y = forward(input);
      captured.set(names[i]!, keep(runUnary('copy', y)));
      return y;
    };
  });
  try {
    const out = tidy(() => noGrad(() => model.forward(x)));
    return { out, captured };
  } finally {
    for (const m of hooked) delete (m as { forward?: unknown }).forward;
  }
}

/** The error of `quantized` against `fp` on `batches` (both run in eval mode). */
export async function quantizationReport(fp: Layer, quantized: Layer, batches: Iterable<Tensor>): Promise<QuantReport> {
  const layers = quantizedLayers(quantized);
  const afterFold = new Map(foldRecords(quantized).map((r) => [r.layer, r.after ?? r.layer]));
  const reference = layers.map(([name]) => afterFold.get(name) ?? name);
  const acc = layers.map(() => new Accumulator());
  const embedding = new Accumulator();
  const angles: number[] = [];
  const cosines: number[] = [];
  const modes = [fp.training, quantized.training];
  fp.eval();
  quantized.eval();
  try {
    for (const x of batches) {
      const f = forwardCapturing(fp, x, reference);
      const q = forwardCapturing(quantized, x, layers.map(([name]) => name));
      for (const [i, [name]] of layers.entries()) acc[i]!.add(await q.captured.get(name)!.toFloat32(), await f.captured.get(reference[i]!)!.toFloat32());
      const [fe, qe] = [await f.out.toFloat32(), await q.out.toFloat32()];
      embedding.add(qe, fe);
      const dim = f.out.shape[1]!;
      for (let n = 0; n < f.out.shape[0]!; n++) {
        const one = new Accumulator();
        one.add(qe.subarray(n * dim, (n + 1) * dim), fe.subarray(n * dim, (n + 1) * dim));
        const cos = Math.min(1, Math.max(-1, one.cosine));
        cosines.push(cos);
        angles.push((Math.acos(cos) * 180) / Math.PI);
      }
      for (const t of [f.out, q.out, ...f.captured.values(), ...q.captured.values()]) t.dispose();
    }
  } finally {
    fp.train(modes[0]);
    quantized.train(modes[1]);
  }
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    layers: layers.map(([name, l], i) => ({ layer: name, reference: reference[i]!, setting: l.setting, relL2: acc[i]!.relL2, cosine: acc[i]!.cosine })),
    embedding: { relL2: embedding.relL2, cosine: mean(cosines), meanAngleDeg: mean(angles), maxAngleDeg: Math.max(...angles) },
  };
}

export function formatReport(r: QuantReport): string {
  const rows = r.layers.map((l) => `${l.layer.padEnd(24)} ${l.setting.padEnd(6)} rel L2 ${l.relL2.toFixed(4)}  cos ${l.cosine.toFixed(5)}${l.reference !== l.layer ? `  (vs FP ${l.reference})` : ''}`);
  const e = r.embedding;
  rows.push(`${'embedding'.padEnd(24)} ${''.padEnd(6)} rel L2 ${e.relL2.toFixed(4)}  cos ${e.cosine.toFixed(5)}  angle mean ${e.meanAngleDeg.toFixed(2)}° max ${e.maxAngleDeg.toFixed(2)}°`);
  return rows.join('\n');
}
