// Training steps the profiler and the train benchmarks run, by preset name. Each builds its model and
// a fixed batch once; `step()` records one full forward + backward + optimizer update.
import { backward } from '../backward.ts';
import { fromArray, parameter, randn } from '../ops/creation.ts';
import { add, relu } from '../ops/elementwise.ts';
import { matmul } from '../ops/matmul.ts';
import { crossEntropy } from '../ops/softmax.ts';
import { SGD } from '../optim/sgd.ts';
import { dispose, keep, tidy, type Tensor } from '../tensor.ts';
import { cosineLogits, marginSoftmaxLoss } from '../loss/margin.ts';
import { quantConfig } from '../quant/policy.ts';
import { PRESETS, type ModelConfig } from '../train/config.ts';
import { buildHead, buildModel } from '../train/model.ts';

export interface TrainStep {
  description: string;
  /** Images (samples) per step. */
  batch: number;
  /** Records one step; returns the loss (the caller disposes it). */
  step(): Tensor;
  dispose(): void;
}

export type StepBuilder = () => TrainStep;

/** The foundation's MLP: 256 -> 512 -> 512 -> 10, batch 64, cross-entropy, SGD momentum. */
function tinyMlp(): TrainStep {
  const batch = 64;
  const sizes = [256, 512, 512, 10];
  const x = keep(randn([batch, sizes[0]!], { seed: 1 }));                        // [B, 256]
  const labels = keep(fromArray(Int32Array.from({ length: batch }, (_, i) => i % 10), [batch]));
  const params: Tensor[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    params.push(parameter(randn([sizes[l]!, sizes[l + 1]!], { seed: 10 + l, std: Math.sqrt(2 / sizes[l]!) }), `w${l}`));
    params.push(parameter(fromArray(new Float32Array(sizes[l + 1]!), [sizes[l + 1]!]), `b${l}`));
  }
  const opt = new SGD(params, { lr: 0.01, momentum: 0.9 });
  return {
    description: 'MLP 256-512-512-10, batch 64',
    batch,
    step: () =>
      tidy(() => {
        let h = x;
        for (let l = 0; l < params.length; l += 2) {
          h = add(matmul(h, params[l]!), params[l + 1]!);
          if (l + 2 < params.length) h = relu(h);
        }
        const loss = crossEntropy(h, labels);
        backward(loss);
        opt.step();
        opt.zeroGrad();
        return loss;
      }),
    dispose: () => {
      opt.dispose();
      dispose([x, labels, ...params]);
    },
  };
}

/** One training step of a face model: backbone, cosine classifier, ArcFace, SGD; fixed random batch. */
function faceStep(description: string, model: ModelConfig, batch: number, classes: number, policy?: string): StepBuilder {
  return () => {
    const net = buildModel(model, 1, policy ? quantConfig(policy) : undefined).train();
    const head = buildHead(classes, model.numFeatures, 2);
    const x = keep(randn([batch, 3, model.inputSize, model.inputSize], { seed: 3 }));   // [B, 3, H, W]
    const labels = keep(fromArray(Int32Array.from({ length: batch }, (_, i) => i % classes), [batch]));
    const opt = new SGD([...net.parameters(), head], { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    return {
      description,
      batch,
      step: () =>
        tidy(() => {
          const { loss } = marginSoftmaxLoss(cosineLogits(net.forward(x), head), labels, { s: 64, m2: 0.5 });
          backward(loss);
          opt.step();
          opt.zeroGrad();
          return loss;
        }),
      dispose: () => {
        opt.dispose();
        net.dispose();
        dispose([head, x, labels]);
      },
    };
  };
}

export const STEP_PRESETS: Record<string, StepBuilder> = {
  tiny: tinyMlp,
  /** The model of the `tiny` training preset at its batch size. */
  'iresnet18-tiny': faceStep('iresnet18 width 0.25 at 32x32, 64-d embedding, batch 32, ArcFace over 100 classes', PRESETS.tiny!.model, 32, 100),
  /** The same quantization-aware (W4A4, LSQ): what fake quantization costs, kernel by kernel. */
  'iresnet18-tiny-w4a4': faceStep('iresnet18 width 0.25 at 32x32, W4A4 (LSQ), batch 32, ArcFace over 100 classes', PRESETS.tiny!.model, 32, 100, 'W4A4'),
  /** The real thing: iresnet18 at 112x112, batch 8. */
  'iresnet18-112': faceStep('iresnet18 at 112x112, 512-d embedding, batch 8, ArcFace over 1000 classes', { arch: 'iresnet18', width: 1, inputSize: 112, numFeatures: 512, dropout: 0 }, 8, 1000),
};
