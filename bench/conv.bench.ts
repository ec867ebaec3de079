// conv2d GFLOP/s for forward, dx and dw on the ResNet18 shapes at batch 8 (FLOPs of each: 2*N*O*Ho*Wo*C*kh*kw).
// With --epilogue: the forward with a PReLU or residual-add epilogue against the conv followed by the
// prelu or add kernel, interleaved, on the shapes of the folded teacher's blocks.
// Run: npx tsx bench/conv.bench.ts [--json] [--filter substring] [--tiny] [--epilogue]  (or `lowbit bench conv [--json]`)
import { pathToFileURL } from 'node:url';
import { conv2dFlops, conv2dOutShape, planConv2d, runConv2d, runConv2dBackwardInput, runConv2dBackwardWeight, type Conv2dPlan } from '../kernels/conv2d.ts';
import { runPrelu } from '../kernels/prelu.ts';
import { noGrad } from '../src/autograd.ts';
import { initGpu } from '../src/gpu/device.ts';
import { randn } from '../src/ops/creation.ts';
import { add } from '../src/ops/elementwise.ts';
import { dispose, keep, type Tensor } from '../src/tensor.ts';
import { compareInterleaved, runCases, type BenchCase, type BenchOptions } from './lib.ts';

export interface ConvShape {
  /** Case ids are conv_fwd_<id>, conv_dx_<id>, conv_dw_<id>. */
  id: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number;
  padding: number;
}

export const CONV_SHAPES: ConvShape[] = [
  { id: '56', x: [8, 64, 56, 56], w: [64, 64, 3, 3], stride: 1, padding: 1 },
  // The stride-2 3x3 convs that start a stage and their 1x1 stride-2 shortcuts.
  { id: '56_s2', x: [8, 64, 56, 56], w: [128, 64, 3, 3], stride: 2, padding: 1 },
  { id: '28_s2', x: [8, 128, 28, 28], w: [256, 128, 3, 3], stride: 2, padding: 1 },
  { id: '14_s2', x: [8, 256, 14, 14], w: [512, 256, 3, 3], stride: 2, padding: 1 },
  { id: '56_1x1_s2', x: [8, 64, 56, 56], w: [128, 64, 1, 1], stride: 2, padding: 0 },
  { id: '28_1x1_s2', x: [8, 128, 28, 28], w: [256, 128, 1, 1], stride: 2, padding: 0 },
  { id: '14_1x1_s2', x: [8, 256, 14, 14], w: [512, 256, 1, 1], stride: 2, padding: 0 },
  // The stride-1 3x3 convs inside the later stages.
  { id: '28', x: [8, 128, 28, 28], w: [128, 128, 3, 3], stride: 1, padding: 1 },
  { id: '14', x: [8, 256, 14, 14], w: [256, 256, 3, 3], stride: 1, padding: 1 },
  { id: '7', x: [8, 512, 7, 7], w: [512, 512, 3, 3], stride: 1, padding: 1 },
];

/** The convolutions of the `tiny` / `demo` training presets (iresnet18 width 0.25 on 32x32, batch 32):
 *  few channels, small images. Not in `lowbit bench conv`; `npx tsx bench/conv.bench.ts --tiny` runs
 *  them, and the lab takes `--shape tiny`. */
export const TINY_CONV_SHAPES: ConvShape[] = [
  { id: 't32_c3', x: [32, 3, 32, 32], w: [16, 3, 3, 3], stride: 1, padding: 1 },
  { id: 't32', x: [32, 16, 32, 32], w: [16, 16, 3, 3], stride: 1, padding: 1 },
  { id: 't32_s2', x: [32, 16, 32, 32], w: [16, 16, 3, 3], stride: 2, padding: 1 },
  { id: 't32_1x1_s2', x: [32, 16, 32, 32], w: [16, 16, 1, 1], stride: 2, padding: 0 },
  { id: 't16', x: [32, 16, 16, 16], w: [16, 16, 3, 3], stride: 1, padding: 1 },
  { id: 't16_o32', x: [32, 16, 16, 16], w: [32, 16, 3, 3], stride: 1, padding: 1 },
  { id: 't16_s2', x: [32, 32, 16, 16], w: [32, 32, 3, 3], stride: 2, padding: 1 },
  { id: 't16_1x1_s2', x: [32, 16, 16, 16], w: [32, 16, 1, 1], stride: 2, padding: 0 },
  { id: 't8', x: [32, 32, 8, 8], w: [32, 32, 3, 3], stride: 1, padding: 1 },
  { id: 't8_o64', x: [32, 32, 8, 8], w: [64, 32, 3, 3], stride: 1, padding: 1 },
  { id: 't8_s2', x: [32, 64, 8, 8], w: [64, 64, 3, 3], stride: 2, padding: 1 },
  { id: 't8_1x1_s2', x: [32, 32, 8, 8], w: [64, 32, 1, 1], stride: 2, padding: 0 },
  { id: 't4', x: [32, 64, 4, 4], w: [64, 64, 3, 3], stride: 1, padding: 1 },
  { id: 't4_o128', x: [32, 64, 4, 4], w: [128, 64, 3, 3], stride: 1, padding: 1 },
  { id: 't4_s2', x: [32, 128, 4, 4], w: [128, 128, 3, 3], stride: 2, padding: 1 },
  { id: 't4_1x1_s2', x: [32, 64, 4, 4], w: [128, 64, 1, 1], stride: 2, padding: 0 },
  { id: 't2', x: [32, 128, 2, 2], w: [128, 128, 3, 3], stride: 1, padding: 1 },
];

export const planOf = (s: ConvShape): Conv2dPlan => planConv2d(s.x, s.w, null, { stride: s.stride, padding: s.padding });

export function convCases(shapes = CONV_SHAPES): BenchCase[] {
  return shapes.flatMap((s) => {
    const plan = planOf(s);
    let x: Tensor; // [N,C,H,W]
    let w: Tensor; // [O,C,kh,kw]
    let dy: Tensor; // [N,O,Ho,Wo]
    const setup = (): void => {
      x = keep(randn(s.x, { seed: 1 }));
      w = keep(randn(s.w, { seed: 2, std: 0.05 }));
      dy = keep(randn(conv2dOutShape(plan), { seed: 3 }));
    };
    const teardown = (): void => [x, w, dy].forEach((t) => t.dispose());
    const flops = conv2dFlops(plan);
    return [
      { id: `conv_fwd_${s.id}`, flops, setup, teardown, run: () => runConv2d(x, w, null, plan) },
      { id: `conv_dx_${s.id}`, flops, setup, teardown, run: () => runConv2dBackwardInput(dy, w, plan) },
      { id: `conv_dw_${s.id}`, flops, setup, teardown, run: () => runConv2dBackwardWeight(dy, x, plan) },
    ];
  });
}

/** Fused epilogue against conv then the elementwise kernel, per shape (bias as a folded BN leaves). */
export async function epilogueMain(shapes: readonly ConvShape[], opts: BenchOptions & { rounds?: number } = {}): Promise<void> {
  await initGpu();
  for (const s of shapes) {
    const plan = planOf(s);
    const [x, w, bias, slope, residual] = [
      randn(s.x, { seed: 1 }), randn(s.w, { seed: 2, std: 0.05 }), randn([plan.O], { seed: 3 }),   // [N,C,H,W] [O,C,kh,kw] [O]
      randn([plan.O], { seed: 4, std: 0.1 }), randn(conv2dOutShape(plan), { seed: 5 }),               // [O] [N,O,Ho,Wo]
    ].map(keep) as [Tensor, Tensor, Tensor, Tensor, Tensor];
    await compareInterleaved([
      [`conv_prelu_fused_${s.id}`, () => runConv2d(x, w, bias, plan, undefined, { kind: 'prelu', slope })],
      [`conv_then_prelu_${s.id}`, () => runPrelu(runConv2d(x, w, bias, plan), slope)],
    ], opts.rounds ?? 20, opts.json);
    await compareInterleaved([
      [`conv_add_fused_${s.id}`, () => runConv2d(x, w, bias, plan, undefined, { kind: 'add', residual })],
      [`conv_then_add_${s.id}`, () => noGrad(() => add(runConv2d(x, w, bias, plan), residual))],
    ], opts.rounds ?? 20, opts.json);
    dispose([x, w, bias, slope, residual]);
  }
}

export async function main(opts: BenchOptions & { filter?: string; tiny?: boolean; epilogue?: boolean } = {}): Promise<void> {
  const shapes = (opts.tiny ? TINY_CONV_SHAPES : CONV_SHAPES).filter((s) => !opts.filter || s.id.includes(opts.filter));
  if (opts.epilogue) return epilogueMain(shapes.filter((s) => s.stride === 1 && s.w[2] === 3), opts);
  await runCases(convCases(opts.tiny ? TINY_CONV_SHAPES : CONV_SHAPES).filter((c) => !opts.filter || c.id.includes(opts.filter)), opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--filter');
  await main({ json: process.argv.includes('--json'), filter: at > 0 ? process.argv[at + 1] : undefined, tiny: process.argv.includes('--tiny'), epilogue: process.argv.includes('--epilogue') });
  process.exit(0);
}
