// What a training step minimizes. The default is the margin-softmax loss of the configured kind on
// the cosine classifier; quantization-aware and RCM training plug in their own objectives.
import { cosineLogits, marginSoftmaxLoss, type MarginLossOptions } from '../loss/margin.ts';
import type { Layer } from '../nn/layers.ts';
import type { Tensor } from '../tensor.ts';
import type { LossConfig } from './config.ts';
import type { LogRecord } from './trainer.ts';

export interface StepOutput {
  /** Scalar loss to differentiate. */
  loss: Tensor;
  /** [N] 1 where the sample was classified correctly. */
  correct: Tensor;
  /** Extra per-step scalars to average into the log (e.g. RCM's angles). */
  metrics?: Record<string, Tensor>;
}

export interface Objective {
  /** Called once the model is built and loaded. */
  prepare?(model: Layer): void;
  /** Records one step's forward; the trainer runs backward on `loss`. `labelsCpu` = `labels` on the CPU. */
  loss(model: Layer, head: Tensor, x: Tensor, labels: Tensor, labelsCpu: Int32Array): StepOutput;
  /** Extra text for the progress line, from a log record. */
  describe?(record: LogRecord): string;
  /** State that must survive a resume (RCM's running centres), saved in the checkpoint beside the
   *  head; the objective keeps ownership of the tensors. */
  state?(): Map<string, Tensor>;
  /** Restores `state()` from a resumed checkpoint's extra tensors (it copies; the caller disposes). */
  restore?(saved: ReadonlyMap<string, Tensor>, head: Tensor): Promise<void>;
  /** Frees what the objective holds (a teacher model). */
  dispose?(): void;
}

export function marginOptions(l: LossConfig): MarginLossOptions {
  switch (l.kind) {
    case 'arcface': return { s: l.s, m2: l.m };
    case 'cosface': return { s: l.s, m3: l.m };
    case 'combined': return { s: l.s, m1: l.m1, m2: l.m2, m3: l.m3 };
    case 'rcm': return { s: l.s, m2: l.m };
  }
}

export function marginObjective(loss: LossConfig): Objective {
  const options = marginOptions(loss);
  return {
    loss: (model, head, x, labels) => {
      const embeddings = model.forward(x);                     // [N, D]
      const cosines = cosineLogits(embeddings, head);          // [N, classes]
      return marginSoftmaxLoss(cosines, labels, options);
    },
  };
}
