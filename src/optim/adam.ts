// Adam and AdamW, one fused kernel per parameter (torch.optim.Adam / AdamW rules).
import { runAdamStep, type AdamHyper } from '../../kernels/adam.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface AdamOptions extends OptimizerOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  readonly hyper: AdamHyper;
  constructor(params: readonly Tensor[], opts: AdamOptions, decoupled = false) {
    super(params, opts);
    const [beta1, beta2] = opts.betas ?? [0.9, 0.999];
    this.hyper = { lr: opts.lr, beta1, beta2, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay ?? (decoupled ? 0.01 : 0), decoupled };
  }

  step(lr = this.hyper.lr): void {
    const t = this.stepCount + 1;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const hyper = { ...this.hyper, lr, weightDecay: this.decayIf(p) ? this.hyper.weightDecay : 0 };
      runAdamStep(p, p.grad, this.slot(i, 'exp_avg'), this.slot(i, 'exp_avg_sq'), hyper, t);
    });
    this.stepCount = t;
  }
}

/** AdamW: decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[], opts: AdamOptions) {
    super(params, opts, true);
  }
}
