// npm run demo. Until the face-recognition pipeline lands (issues 4-7), the demo trains a small MLP on
// the GPU to classify a 3-arm spiral and prints the loss falling.
import { backward } from '../backward.ts';
import { initGpu } from '../gpu/device.ts';
import { fromArray, parameter, randn } from '../ops/creation.ts';
import { add, relu } from '../ops/elementwise.ts';
import { matmul } from '../ops/matmul.ts';
import { crossEntropy } from '../ops/softmax.ts';
import { SGD } from '../optim/sgd.ts';
import { rng } from '../random.ts';
import { keep, tidy, type Tensor } from '../tensor.ts';
import { intOption, parse } from './args.ts';

/** Points on three interleaved spiral arms with a little noise: not linearly separable. */
function spiral(perClass: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const next = rng(seed);
  const n = 3 * perClass;
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = i / perClass;
      const t = (c * 4 + 4 * r) + (next() - 0.5) * 0.3;
      x[2 * k] = r * Math.sin(t);
      x[2 * k + 1] = r * Math.cos(t);
      labels[k] = c;
    }
  }
  return { x, labels };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, { steps: { type: 'string' }, hidden: { type: 'string' } });
  const steps = intOption('steps', values.steps, 600);
  const hidden = intOption('hidden', values.hidden, 64);
  const g = await initGpu();
  console.log(`lowbit demo on ${g.adapter.description || g.adapter.vendor}`);
  console.log(`training a 2-${hidden}-${hidden}-3 MLP on a 3-arm spiral (300 points), SGD momentum 0.9, ${steps} steps\n`);

  const data = spiral(100, 1);
  const x = keep(fromArray(data.x, [300, 2]));           // [N, 2]
  const labels = keep(fromArray(data.labels, [300]));    // [N] i32
  const layer = (fanIn: number, fanOut: number, seed: number): [Tensor, Tensor] => [
    parameter(randn([fanIn, fanOut], { seed, std: Math.sqrt(2 / fanIn) }), `w${seed}`),
    parameter(fromArray(new Float32Array(fanOut), [fanOut]), `b${seed}`),
  ];
  const [w1, b1] = layer(2, hidden, 1);
  const [w2, b2] = layer(hidden, hidden, 2);
  const [w3, b3] = layer(hidden, 3, 3);
  const forward = (input: Tensor): Tensor =>
    add(matmul(relu(add(matmul(relu(add(matmul(input, w1), b1)), w2), b2)), w3), b3); // [N, 3]
  const opt = new SGD([w1, b1, w2, b2, w3, b3], { lr: 0.1, momentum: 0.9 });

  const start = performance.now();
  for (let step = 1; step <= steps; step++) {
    const loss = tidy(() => {
      const l = crossEntropy(forward(x), labels);
      backward(l);
      opt.step();
      opt.zeroGrad();
      return l;
    });
    if (step === 1 || step % 50 === 0) {
      const value = await loss.item();
      const bar = '#'.repeat(Math.max(0, Math.round(value * 30)));
      console.log(`step ${String(step).padStart(5)}  loss ${value.toFixed(4)}  ${bar}`);
    }
    loss.dispose();
  }
  const logits = await tidy(() => forward(x)).toArray();
  let correct = 0;
  for (let n = 0; n < 300; n++) {
    const row = Array.from(logits.slice(n * 3, n * 3 + 3));
    if (row.indexOf(Math.max(...row)) === data.labels[n]) correct++;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`\ntrain accuracy ${(correct / 3).toFixed(1)}% after ${steps} steps in ${seconds.toFixed(1)} s (${(steps / seconds).toFixed(0)} steps/s)`);
}
