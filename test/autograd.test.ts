import { describe, expect, it } from 'vitest';
import { noGrad } from '../src/autograd.ts';
import { backward } from '../src/backward.ts';
import { gpu } from '../src/gpu/device.ts';
import { fromArray, parameter, randn } from '../src/ops/creation.ts';
import { add, mul, relu, sub } from '../src/ops/elementwise.ts';
import { matmul } from '../src/ops/matmul.ts';
import { sum } from '../src/ops/reduce.ts';
import { crossEntropy } from '../src/ops/softmax.ts';
import { SGD } from '../src/optim/sgd.ts';
import { dispose, keep, tidy, type Tensor } from '../src/tensor.ts';

describe('the tape', () => {
  it('a tensor used twice gets both contributions (diamond graph)', async () => {
    const x = parameter(fromArray([1, 2, 3], [3]));
    // y = sum(x*x + 3x) -> dy/dx = 2x + 3
    const y = sum(add(mul(x, x), mul(x, 3)));
    backward(y);
    expect(Array.from(await x.grad!.toArray())).toEqual([5, 7, 9]);
    x.dispose();
  });

  it('gradients accumulate across backward calls until zeroed', async () => {
    const x = parameter(fromArray([1, -1], [2]));
    backward(sum(mul(x, 2)));
    backward(sum(mul(x, 3)));
    expect(Array.from(await x.grad!.toArray())).toEqual([5, 5]);
    x.dispose();
  });

  it('noGrad records nothing; inputs without requiresGrad get no gradient', () => {
    const x = parameter(fromArray([1, 2], [2]));
    const c = fromArray([3, 4], [2]);
    const y = noGrad(() => mul(x, c));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const z = sum(mul(x, c));
    backward(z);
    expect(c.grad).toBeNull();
    dispose([x, c, y, z]);
  });

  it('backward of a non-scalar needs gradOut of the same shape', async () => {
    const x = parameter(fromArray([1, 2], [2]));
    const y = mul(x, x);
    expect(() => backward(y)).toThrow(/root has shape \[2\]; pass gradOut/);
    backward(y, fromArray([1, 10], [2]));
    expect(Array.from(await x.grad!.toArray())).toEqual([2, 40]);
    x.dispose();
  });

  it('backward through a graph whose ops pass the gradient through unchanged keeps ownership straight', async () => {
    // add() returns the incoming gradient itself for both inputs; both must survive independently.
    const a = parameter(fromArray([1, 2], [2]));
    const b = parameter(fromArray([3, 4], [2]));
    backward(sum(add(a, b)));
    expect(Array.from(await a.grad!.toArray())).toEqual([1, 1]);
    a.grad!.dispose();
    a.grad = null;
    expect(Array.from(await b.grad!.toArray())).toEqual([1, 1]);
    dispose([a, b]);
  });
});

describe('lifetime', () => {
  it('tidy frees what it made, keeps what it returns and what was kept', () => {
    let inner!: Tensor;
    let kept!: Tensor;
    const out = tidy(() => {
      inner = fromArray([1], [1]);
      kept = keep(fromArray([2], [1]));
      return add(inner, 1);
    });
    expect(inner.disposed).toBe(true);
    expect(kept.disposed).toBe(false);
    expect(out.disposed).toBe(false);
    dispose([kept, out]);
  });

  it('a view keeps the storage alive after the original is disposed', async () => {
    const x = fromArray([1, 2, 3, 4], [2, 2]);
    const v = x.view([4]);
    x.dispose();
    expect(Array.from(await v.toArray())).toEqual([1, 2, 3, 4]);
    v.dispose();
  });
});

/** A 4 -> 32 -> 3 MLP on a fixed problem: 48 points labelled by a random teacher network. */
function makeProblem(): { x: Tensor; labels: Int32Array; params: Tensor[]; forward: (x: Tensor) => Tensor } {
  const x = keep(randn([48, 4], { seed: 1 }));
  const w1 = parameter(randn([4, 32], { seed: 2, std: 0.5 }), 'w1');
  const b1 = parameter(fromArray(new Float32Array(32), [32]), 'b1');
  const w2 = parameter(randn([32, 3], { seed: 3, std: 0.3 }), 'w2');
  const b2 = parameter(fromArray(new Float32Array(3), [3]), 'b2');
  const forward = (input: Tensor): Tensor => add(matmul(relu(add(matmul(input, w1), b1)), w2), b2);
  // Labels: argmax of a fixed random linear teacher on the same points.
  const xs = Array.from({ length: 48 * 4 }, (_, i) => Math.sin(i * 1.7) * 2);
  const labels = new Int32Array(48);
  for (let n = 0; n < 48; n++) {
    const scores = [0, 1, 2].map((c) => xs.slice(n * 4, n * 4 + 4).reduce((s, v, k) => s + v * Math.cos((c + 1) * (k + 2)), 0));
    labels[n] = scores.indexOf(Math.max(...scores));
  }
  const xFixed = keep(fromArray(xs, [48, 4]));
  x.dispose();
  return { x: xFixed, labels, params: [w1, b1, w2, b2], forward };
}

describe('training', () => {
  it('a tiny MLP trained on the GPU drives the loss of a small fixed problem near zero', async () => {
    const { x, labels, params, forward } = makeProblem();
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
    const labelTensor = keep(fromArray(labels, [48], 'i32'));
    const losses: number[] = [];
    for (let step = 0; step < 400; step++) {
      const loss = tidy(() => {
        const l = crossEntropy(forward(x), labelTensor);
        backward(l);
        opt.step();
        opt.zeroGrad();
        return l;
      });
      if (step % 50 === 0 || step === 399) losses.push(await loss.item());
      loss.dispose();
    }
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses[losses.length - 1]).toBeLessThan(0.02);
    opt.dispose();
    dispose([...params, x, labelTensor]);
  });

  it('1,000 training steps leave the pool\'s live bytes unchanged', async () => {
    const { x, labels, params, forward } = makeProblem();
    const opt = new SGD(params, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const labelTensor = keep(fromArray(labels, [48], 'i32'));
    const step = (): void => {
      const loss = tidy(() => {
        const l = crossEntropy(forward(x), labelTensor);
        backward(l);
        opt.step();
        opt.zeroGrad();
        return l;
      });
      loss.dispose();
      gpu().recorder.flush();
    };
    step();
    await gpu().recorder.sync();
    const before = gpu().pool.snapshot();
    for (let i = 0; i < 999; i++) step();
    await gpu().recorder.sync();
    const after = gpu().pool.snapshot();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    // The pool recycles: the steps after the first allocate (almost) nothing new.
    expect(after.allocations - before.allocations).toBeLessThan(10);
    opt.dispose();
    dispose([...params, x, labelTensor]);
  });
});

it('sub of a parameter from itself has zero gradient (both paths cancel)', async () => {
  const x = parameter(fromArray([1, 2], [2]));
  backward(sum(sub(x, x)));
  expect(Array.from(await x.grad!.toArray())).toEqual([0, 0]);
  x.dispose();
});
