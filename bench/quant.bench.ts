// Quantization: fake-quant throughput (GB/s: x read and y written once; backward also reads g and
// writes dx), relu on the same tensor for scale; the fused per-channel min/max weight quantizer against
// its unfused composition (five dispatches); and a QAT train step over a full-precision one (and with
// the activation fake quant after each batch norm in its own dispatch instead of the epilogue, and
// DoReFa's weights by its fused kernels or by the composition of generic ops), measured
// round-robin in the same run (forward, ArcFace loss, backward, SGD; batch 16 of 32x32, iresnet18
// width 1/4 as the tiny preset).
// Run: npx tsx bench/quant.bench.ts [--json] [--filter substring]  (or `lowbit bench quant [--json]`)
import { pathToFileURL } from 'node:url';
import { runUnary } from '../kernels/elementwise.ts';
import { quantRange, runFakeQuant, runFakeQuantBackward } from '../kernels/fake_quant.ts';
import { backward } from '../src/backward.ts';
import { cosineLogits, marginSoftmaxLoss } from '../src/loss/margin.ts';
import type { Layer } from '../src/nn/layers.ts';
import { IResNet } from '../src/nn/iresnet.ts';
import { fromArray, randn } from '../src/ops/creation.ts';
import { SGD } from '../src/optim/sgd.ts';
import { fakeQuantizeMinMax, fakeQuantizeMinMaxUnfused } from '../src/quant/fake-quant.ts';
import { quantizeModel, quantizers } from '../src/quant/model.ts';
import { setFusedEpilogues } from '../src/quant/layers.ts';
import { DorefaQuantizer, MinMaxQuantizer } from '../src/quant/quantizers.ts';
import { sizeOf, type Shape } from '../src/shape.ts';
import { dispose, keep, tidy, type Tensor } from '../src/tensor.ts';
import { buildHead } from '../src/train/model.ts';
import { gpu, initGpu } from '../src/gpu/device.ts';
import { formatResult, runCases, type BenchCase, type BenchOptions, type BenchResult } from './lib.ts';

const ACTIVATION: Shape = [8, 64, 56, 56];
const WEIGHTS: Shape[] = [[64, 64, 3, 3], [256, 256, 3, 3], [512, 512, 3, 3]];
const INT4 = quantRange(4, true);

function kernelCases(): BenchCase[] {
  const n = sizeOf(ACTIVATION);
  const tag = ACTIVATION.join('x');
  let x: Tensor;
  let g: Tensor;
  let s: Tensor;
  const setup = (): void => {
    x = keep(randn(ACTIVATION, { seed: 1 }));
    g = keep(randn(ACTIVATION, { seed: 2 }));
    s = keep(fromArray([0.05], [1]));
  };
  const teardown = (): void => dispose([x, g, s]);
  const cases: BenchCase[] = [
    { id: `relu_${tag}`, bytes: 8 * n, setup, teardown, run: () => runUnary('relu', x) },
    { id: `fq_fwd_tensor_${tag}`, bytes: 8 * n, setup, teardown, run: () => runFakeQuant(x, s, null, INT4) },
    { id: `fq_bwd_tensor_${tag}`, bytes: 12 * n, setup, teardown, run: () => runFakeQuantBackward(x, s, null, g, INT4) },
  ];
  for (const shape of WEIGHTS) {
    const wn = sizeOf(shape);
    const wtag = shape.join('x');
    let w: Tensor;
    let gw: Tensor;
    let steps: Tensor;
    const wsetup = (): void => {
      w = keep(randn(shape, { seed: 3, std: 0.05 }));
      gw = keep(randn(shape, { seed: 4 }));
      steps = keep(fromArray(new Float32Array(shape[0]!).fill(0.01), [shape[0]!]));
    };
    const wteardown = (): void => dispose([w, gw, steps]);
    const p = { ...INT4, axis: 0 };
    cases.push(
      { id: `fq_fwd_channel_${wtag}`, bytes: 8 * wn, setup: wsetup, teardown: wteardown, run: () => runFakeQuant(w, steps, null, p) },
      { id: `fq_bwd_channel_${wtag}`, bytes: 12 * wn, setup: wsetup, teardown: wteardown, run: () => runFakeQuantBackward(w, steps, null, gw, p) },
      { id: `wq_minmax_fused_${wtag}`, bytes: 8 * wn, setup: wsetup, teardown: wteardown, run: () => fakeQuantizeMinMax(w, shape[0]!, true, p) },
      { id: `wq_minmax_unfused_${wtag}`, bytes: 8 * wn, setup: wsetup, teardown: wteardown, run: () => fakeQuantizeMinMaxUnfused(w, shape[0]!, p) },
    );
  }
  return cases;
}

/** One training step of `model` on a fixed batch: forward, ArcFace, backward, SGD. `fusedEpilogues`
 *  false: activation fake quant in its own dispatch even after a batch norm (src/quant/layers.ts). */
function trainStepCase(id: string, build: () => Layer, fusedEpilogues = true): BenchCase {
  let model: Layer;
  let head: Tensor;
  let x: Tensor;
  let labels: Tensor;
  let opt: SGD;
  return {
    id,
    setup: () => {
      model = build().train();
      head = buildHead(64, 64, 2);
      x = keep(randn([16, 3, 32, 32], { seed: 5 }));
      labels = keep(fromArray(Int32Array.from({ length: 16 }, (_, i) => i % 64), [16]));
      opt = new SGD([...model.parameters(), head], { lr: 0.01, momentum: 0.9 });
    },
    teardown: () => {
      opt.dispose();
      model.dispose();
      dispose([head, x, labels]);
    },
    run: () => {
      setFusedEpilogues(fusedEpilogues);
      const out = marginSoftmaxLoss(cosineLogits(model.forward(x), head), labels, { s: 16, m2: 0.3 });
      setFusedEpilogues(true);
      backward(out.loss);
      opt.step();
      opt.zeroGrad();
    },
  };
}

const tiny = (): IResNet => new IResNet({ width: 0.25, inputSize: 32, numFeatures: 64, seed: 1 });
function minmaxModel(fused: boolean): Layer {
  const m = quantizeModel(tiny(), { policy: 'W4A4', weight: 'minmax' });
  for (const [, q] of quantizers(m)) if (q instanceof MinMaxQuantizer) q.fused = fused;
  return m;
}

function dorefaModel(fused: boolean): Layer {
  const m = quantizeModel(tiny(), { policy: 'W3A3', weight: 'dorefa', activation: 'pact' });
  for (const [, q] of quantizers(m)) if (q instanceof DorefaQuantizer) q.fused = fused;
  return m;
}

function stepCases(): BenchCase[] {
  return [
    trainStepCase('train_step_fp', tiny),
    trainStepCase('train_step_w4a4_lsq', () => quantizeModel(tiny(), 'W4A4')),
    trainStepCase('train_step_w4a4_lsq_unfused_epilogue', () => quantizeModel(tiny(), 'W4A4'), false),
    trainStepCase('train_step_w4a4_minmax_fused', () => minmaxModel(true)),
    trainStepCase('train_step_w4a4_minmax_unfused', () => minmaxModel(false)),
    trainStepCase('train_step_w3a3_dorefa_pact', () => dorefaModel(true)),
    trainStepCase('train_step_w3a3_dorefa_unfused_pact', () => dorefaModel(false)),
  ];
}

/**
 * Train steps measured round-robin (one step of each variant per round, after a warm-up round), so a
 * change in the machine's load hits every variant alike: the ratio to FP is the median of per-round
 * ratios. tinybench's one-case-after-another timing drifted by 1.5x between cases on this shared machine.
 */
async function interleavedSteps(cases: BenchCase[], rounds: number): Promise<BenchResult[]> {
  await initGpu();
  for (const c of cases) await c.setup?.();
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r <= rounds; r++) {
    for (const [i, c] of cases.entries()) {
      const t0 = performance.now();
      tidy(c.run);
      await gpu().recorder.sync();
      if (r > 0) times[i]!.push(performance.now() - t0);
    }
  }
  for (const c of cases) await c.teardown?.();
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return cases.map((c, i) => ({
    case: c.id, median_ms: median(times[i]!), mad_ms: median(times[i]!.map((t) => Math.abs(t - median(times[i]!)))),
    min_ms: Math.min(...times[i]!), samples: rounds,
    ratio_to_first: median(times[i]!.map((t, r) => t / times[0]![r]!)),
  }));
}

/** Unfused over fused, and fake-quant over relu, from the kernel cases of the same run. */
export function kernelRatios(results: BenchResult[]): Record<string, number> {
  const ms = new Map(results.map((r) => [r.case, r.median_ms]));
  const out: Record<string, number> = {};
  for (const c of ms.keys()) {
    if (c.startsWith('wq_minmax_unfused_')) out[c.replace('wq_minmax_unfused_', 'wq_minmax_unfused_over_fused_')] = ms.get(c)! / ms.get(c.replace('unfused', 'fused'))!;
  }
  const tag = ACTIVATION.join('x');
  if (ms.has(`relu_${tag}`)) out.fq_fwd_tensor_over_relu = ms.get(`fq_fwd_tensor_${tag}`)! / ms.get(`relu_${tag}`)!;
  return out;
}

export async function main(opts: BenchOptions & { filter?: string } = {}): Promise<void> {
  const results = await runCases(kernelCases().filter((c) => !opts.filter || c.id.includes(opts.filter)), opts);
  const ratios = kernelRatios(results);
  const steps = stepCases().filter((c) => !opts.filter || c.id.includes(opts.filter) || c.id === 'train_step_fp');
  if (steps.length > 1) {
    for (const r of await interleavedSteps(steps, 12)) {
      console.log(opts.json ? JSON.stringify(r) : `${formatResult(r)}  ${(r.ratio_to_first as number).toFixed(3)}x FP (median of per-round ratios)`);
      if (r.case !== 'train_step_fp') ratios[`${r.case}_over_fp`] = r.ratio_to_first as number;
    }
  }
  if (opts.json) console.log(JSON.stringify({ case: 'quant_ratios', ...ratios }));
  else for (const [name, v] of Object.entries(ratios)) console.log(`${name.padEnd(48)} ${v.toFixed(3)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--filter');
  await main({ json: process.argv.includes('--json'), filter: at > 0 ? process.argv[at + 1] : undefined });
  process.exit(0);
}
