// RCM training: the frozen full-precision teacher (eval mode, no gradients) runs beside the quantized
// student on each batch; the loss is ArcFace with the per-sample margin m + lambda * theta_Q(i).
import { noGrad } from '../autograd.ts';
import { loadCheckpoint } from '../io/checkpoint.ts';
import { foldBatchNorm } from '../quant/fold.ts';
import { ClassifierCentres, errorMetrics, rcmLoss, RunningCentres, type CentreSource, type RcmOptions } from '../loss/rcm.ts';
import type { Layer } from '../nn/layers.ts';
import { fromArray } from '../ops/creation.ts';
import { dispose, keep, type Tensor } from '../tensor.ts';
import type { ModelConfig } from './config.ts';
import { buildModel } from './model.ts';
import type { Objective } from './objective.ts';

export interface Teacher {
  /** The full-precision model, frozen: eval mode, no parameter needs a gradient. */
  model: Layer;
  /** Its trained classifier [classes, D], when the checkpoint has one. */
  head?: Tensor;
}

/** The frozen teacher of `checkpoint` (see freezeTeacher). */
export async function loadTeacher(model: ModelConfig, seed: number, checkpoint: string): Promise<Teacher> {
  const teacher = buildModel(model, seed);
  const { extra } = loadCheckpoint(checkpoint, teacher);
  const head = extra.get('weight');
  dispose([...extra.values()].filter((t) => t !== head));
  return { model: await freezeTeacher(teacher), head: head && keep(head) };
}

/** Puts a trained full-precision model in eval mode, stops its gradients and folds its batch norms
 *  that follow a conv or linear (src/quant/fold.ts: exact up to float rounding in eval mode), so its
 *  forward skips their normalization dispatches: RCM's budget is one FP forward per step for the
 *  teacher and the angles. Returns the same model. */
export async function freezeTeacher(model: Layer): Promise<Layer> {
  model.eval();
  await foldBatchNorm(model);
  for (const [, p] of model.namedParameters()) p.requiresGrad = false;
  return model;
}

/** Checkpoint names of the running centres ("head." section). */
const FP_CENTRES = 'rcm_fp_centres';
const Q_CENTRES = 'rcm_quantized_centres';

export interface RcmObjective extends Objective {
  readonly teacher: Layer;
}

export function rcmObjective({ model: teacher, head: teacherHead }: Teacher, options: RcmOptions): RcmObjective {
  let running: RunningCentres | undefined;
  let classifier: ClassifierCentres | undefined;
  let warned = false;
  const runningFor = (head: Tensor): RunningCentres | undefined => {
    if (options.centres === 'running') running ??= new RunningCentres(head.shape[0]!, head.shape[1]!, options.decay ?? 0.9);
    return running;
  };
  const centresFor = (head: Tensor): CentreSource | undefined => {
    if (options.centres !== 'classifier') return runningFor(head);
    if (!teacherHead) throw new Error("rcm: centres 'classifier' needs the teacher's classifier weights, and its checkpoint has none (head.weight)");
    if (classifier?.studentHead !== head) classifier = new ClassifierCentres(teacherHead, head);
    return classifier;
  };
  return {
    teacher,
    loss: (model, head, x, labels, labelsCpu) => {
      const fp = noGrad(() => teacher.forward(x));   // [N, D], the frozen full-precision embedding
      const q = model.forward(x);                     // [N, D], the quantized student's
      const out = rcmLoss(fp, q, head, labels, labelsCpu, options, centresFor(head));
      // With per-batch centres a class seen once in the batch is its own centre: theta_Q = 0 for it.
      const counts = new Map<number, number>();
      for (const y of labelsCpu) counts.set(y, (counts.get(y) ?? 0) + 1);
      const singletons = labelsCpu.filter((y) => counts.get(y) === 1).length / labelsCpu.length;
      if (!warned && (options.centres ?? 'batch') === 'batch' && singletons > 0.5) {
        warned = true;
        process.stderr.write(`rcm: ${(100 * singletons).toFixed(0)}% of the batch are the only image of their class, so their individual error is 0 with per-batch centres; sample identity-balanced batches (data.perIdentity, e.g. 4) or use centres: 'running'\n`);
      }
      return { loss: out.loss, correct: out.correct, metrics: { ...errorMetrics(out.errors), singleton_fraction: fromArray([singletons], [1]) } };
    },
    state: () => new Map(running ? [[FP_CENTRES, running.fp], [Q_CENTRES, running.quantized]] : []),
    restore: async (saved, head) => {
      const [fp, quantized] = [saved.get(FP_CENTRES), saved.get(Q_CENTRES)];
      if (options.centres !== 'running') return;
      if (!fp || !quantized) throw new Error(`rcm: resuming with running centres, but the checkpoint has no ${FP_CENTRES} / ${Q_CENTRES}`);
      await runningFor(head)!.restore(fp, quantized);
    },
    describe: (r) => `AQE ${r.aqe_deg?.toFixed(2)}° class ${r.class_error_deg?.toFixed(2)}° indiv ${r.individual_error_deg?.toFixed(2)}°`,
    dispose: () => {
      running?.dispose();
      teacherHead?.dispose();
      teacher.dispose();
    },
  };
}
