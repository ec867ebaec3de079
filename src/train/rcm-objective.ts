// RCM training: the frozen full-precision teacher (eval mode, no gradients) runs beside the quantized
// student on each batch; the loss is ArcFace with the per-sample margin m + lambda * theta_Q(i).
import { noGrad } from '../autograd.ts';
import { loadCheckpoint } from '../io/checkpoint.ts';
import { errorMetrics, rcmLoss, RunningCentres, type RcmOptions } from '../loss/rcm.ts';
import type { Layer } from '../nn/layers.ts';
import { dispose } from '../tensor.ts';
import type { ModelConfig } from './config.ts';
import { buildModel } from './model.ts';
import type { Objective } from './objective.ts';

/** The full-precision model of `checkpoint`, frozen: eval mode, no parameter needs a gradient. */
export function loadTeacher(model: ModelConfig, seed: number, checkpoint: string): Layer {
  const teacher = buildModel(model, seed);
  dispose([...loadCheckpoint(checkpoint, teacher).extra.values()]);
  for (const [, p] of teacher.namedParameters()) p.requiresGrad = false;
  return teacher.eval();
}

export interface RcmObjective extends Objective {
  readonly teacher: Layer;
}

export function rcmObjective(teacher: Layer, options: RcmOptions): RcmObjective {
  let running: RunningCentres | undefined;
  return {
    teacher,
    loss: (model, head, x, labels, labelsCpu) => {
      if (options.centres === 'running') running ??= new RunningCentres(head.shape[0]!, head.shape[1]!, options.decay ?? 0.9);
      const fp = noGrad(() => teacher.forward(x));   // [N, D], the frozen full-precision embedding
      const q = model.forward(x);                     // [N, D], the quantized student's
      const out = rcmLoss(fp, q, head, labels, labelsCpu, options, running);
      return { loss: out.loss, correct: out.correct, metrics: errorMetrics(out.errors) };
    },
    describe: (r) => `AQE ${r.aqe_deg?.toFixed(2)}° class ${r.class_error_deg?.toFixed(2)}° indiv ${r.individual_error_deg?.toFixed(2)}°`,
    dispose: () => {
      running?.dispose();
      teacher.dispose();
    },
  };
}
