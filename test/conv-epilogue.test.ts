// The conv kernels' inference epilogues (kernels/conv2d.ts ConvEpilogue): PReLU and residual add applied
// as each output is stored. Climbs the ladder: the float64 reference, bit-for-bit equality with the
// unfused ops in every forward kernel of the production tables, shape errors, the gradient guard, and
// the folded iresnet block that uses them.
import { describe, expect, it } from 'vitest';
import { conv2dOutShape, conv2dRef, planConv2d, productionKernels, runConv2d, type Conv2dPlan, type ConvEpilogue, type ConvKernel } from '../kernels/conv2d.ts';
import { runPrelu } from '../kernels/prelu.ts';
import { noGrad } from '../src/autograd.ts';
import { gpu } from '../src/gpu/device.ts';
import { IResNet } from '../src/nn/iresnet.ts';
import { fromArray, parameter, randn } from '../src/ops/creation.ts';
import { conv2dThen } from '../src/ops/conv.ts';
import { add } from '../src/ops/elementwise.ts';
import { foldBatchNorm } from '../src/quant/fold.ts';
import { ShapeError, sizeOf } from '../src/shape.ts';
import { dispose, tidy, type Tensor } from '../src/tensor.ts';
import { data, expectClose } from './helpers.ts';

interface Inputs { x: Float32Array; w: Float32Array; bias: Float32Array; slope: Float32Array; residual: Float32Array }

function inputs(p: Conv2dPlan): Inputs {
  return {
    x: data(p.N * p.C * p.H * p.W, 1),
    w: data(p.O * p.C * p.kh * p.kw, 2, 0.5),
    bias: data(p.O, 3),
    slope: data(p.O, 4, 0.5),                   // negative and positive slopes
    residual: data(sizeOf(conv2dOutShape(p)), 5),
  };
}

/** The float64 reference: conv, then the epilogue. */
function reference(kind: ConvEpilogue['kind'], p: Conv2dPlan, d: Inputs): Float64Array {
  const y = conv2dRef(d.x, d.w, d.bias, p);
  const hw = p.Ho * p.Wo;
  return y.map((v, i) => (kind === 'add' ? v + d.residual[i]! : v > 0 ? v : d.slope[Math.floor(i / hw) % p.O]! * v));
}

/** Fused and unfused (conv2d, then the prelu or add kernel) outputs of one kernel. */
async function fusedAndUnfused(kind: ConvEpilogue['kind'], p: Conv2dPlan, d: Inputs, k: ConvKernel): Promise<[Float32Array, Float32Array]> {
  const outs = tidy(() => {
    const x = fromArray(d.x, [p.N, p.C, p.H, p.W]);
    const w = fromArray(d.w, [p.O, p.C, p.kh, p.kw]);
    const bias = fromArray(d.bias, [p.O]);
    const slope = fromArray(d.slope, [p.O]);
    const residual = fromArray(d.residual, conv2dOutShape(p));
    const epilogue: ConvEpilogue = kind === 'prelu' ? { kind, slope } : { kind, residual };
    const plain = runConv2d(x, w, bias, p, k);
    return [runConv2d(x, w, bias, p, k, epilogue), kind === 'prelu' ? runPrelu(plain, slope) : noGrad(() => add(plain, residual))];
  });
  const arrays = (await Promise.all(outs.map((t) => t.toArray()))) as Float32Array[];
  dispose(outs);
  return arrays as [Float32Array, Float32Array];
}

const DIRECT_SHAPES = [
  { x: [2, 5, 6, 8], w: [7, 5, 3, 3], opts: { padding: 1 } },                   // widths of whole quads
  { x: [2, 5, 5, 16], w: [7, 5, 3, 3], opts: { stride: 2, padding: 1 } },       // stride 2: 8 wide out
];
const IGEMM_SHAPE = { x: [2, 5, 7, 9], w: [7, 5, 3, 3], opts: { stride: 2, padding: 1 } };    // odd everything

describe('conv2d epilogues (PReLU, residual add)', () => {
  for (const kind of ['prelu', 'add'] as const) {
    it(`${kind}: every forward kernel equals the unfused ops bit for bit and the float64 reference`, async () => {
      const forwardKernels = productionKernels().filter(([op]) => op === 'fwd').map(([, k]) => k);
      expect(forwardKernels.some((k) => k.direct) && forwardKernels.some((k) => !k.subgroups), 'the tables hold direct and portable kernels').toBe(true);
      for (const [k, c] of forwardKernels.flatMap((k) => (k.direct ? DIRECT_SHAPES : [IGEMM_SHAPE]).map((c) => [k, c] as const))) {
        const p = planConv2d(c.x, c.w, [c.w[0]!], c.opts);
        const d = inputs(p);
        const [fused, unfused] = await fusedAndUnfused(kind, p, d, k);
        const label = `${kind} ${JSON.stringify(k)} x${JSON.stringify(c.x)} ${JSON.stringify(c.opts)}`;
        expect(fused.some((v) => v < 0) && fused.some((v) => v > 0), `${label}: both signs reach the epilogue`).toBe(true);
        expect(Array.from(fused), label).toEqual(Array.from(unfused));
        expectClose(fused, reference(kind, p, d), { atol: 1e-4, rtol: 1e-4 }, label);
      }
    });
  }

  it('names the shapes when the slope or the residual does not fit', () => {
    const p = planConv2d([1, 2, 4, 4], [3, 2, 3, 3], null, { padding: 1 });
    tidy(() => {
      const [x, w] = [randn([1, 2, 4, 4], { seed: 1 }), randn([3, 2, 3, 3], { seed: 2 })];
      expect(() => runConv2d(x, w, null, p, undefined, { kind: 'prelu', slope: randn([2], { seed: 3 }) })).toThrow(/PReLU slope.*\[3\].*got \[2\]/);
      expect(() => runConv2d(x, w, null, p, undefined, { kind: 'add', residual: randn([1, 3, 4, 5], { seed: 4 }) })).toThrow(ShapeError);
      expect(() => runConv2d(x, w, null, p, undefined, { kind: 'add', residual: randn([1, 3, 4, 5], { seed: 4 }) })).toThrow(/\[1,3,4,4\].*got \[1,3,4,5\]/);
    });
  });

  it('conv2dThen records no gradient, so it refuses inputs that need one', () => {
    tidy(() => {
      const x = randn([1, 2, 4, 4], { seed: 1 });
      const w = parameter(randn([3, 2, 3, 3], { seed: 2 }));
      const slope = randn([3], { seed: 3 });
      expect(() => conv2dThen(x, w, null, { padding: 1 }, { kind: 'prelu', slope })).toThrow(/inference-only.*noGrad/);
      expect(noGrad(() => conv2dThen(x, w, null, { padding: 1 }, { kind: 'prelu', slope })).shape).toEqual([1, 3, 4, 4]);
    });
  });
});

describe('the folded iresnet block', () => {
  it('without gradients takes the fused path: bit for bit the unfused forward, two dispatches fewer per block and one in the stem', async () => {
    const model = new IResNet({ width: 0.125, inputSize: 16, numFeatures: 8, seed: 2 }).eval();
    await foldBatchNorm(model);
    const x = randn([2, 3, 16, 16], { seed: 5 }) as Tensor;                 // [N, 3, H, W]
    const dispatches = (run: () => Tensor): [Tensor, number] => {
      gpu().recorder.flush();
      const y = run();
      const n = gpu().recorder.dispatchesSinceSubmit;
      return [y, n];
    };
    const [fused, nFused] = dispatches(() => noGrad(() => model.forward(x)));
    const [unfused, nUnfused] = dispatches(() => model.forward(x));          // parameters need gradients: unfused
    expect(nUnfused - nFused).toBe(2 * 8 + 1);
    expect(Array.from((await fused.toArray()) as Float32Array)).toEqual(Array.from((await unfused.toArray()) as Float32Array));
    dispose([x, fused, unfused]);
    model.dispose();
  });

  it('a block whose only trainable parameter is its first batch norm still records the gradient', async () => {
    const model = new IResNet({ width: 0.125, inputSize: 16, numFeatures: 8, seed: 2 }).eval();
    await foldBatchNorm(model);
    for (const [name, p] of model.namedParameters()) p.requiresGrad = name === 'layer1.1.bn1.weight';
    const y = tidy(() => model.forward(randn([2, 3, 16, 16], { seed: 5 })));   // [N, features]
    expect(y.requiresGrad).toBe(true);
    y.dispose();
    model.dispose();
  });
});
