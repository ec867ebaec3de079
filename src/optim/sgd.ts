// SGD with momentum / Nesterov / weight decay, fused kernels for several parameters at once (torch.optim.SGD rules).
import { runSgdSteps, type SgdHyper, type SgdParam } from '../../kernels/sgd.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface SgdOptions extends OptimizerOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly hyper: SgdHyper;

  constructor(params: readonly Tensor[], opts: SgdOptions) {
    super(params, opts);
    this.hyper = { lr: opts.lr, momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0, weightDecay: opts.weightDecay ?? 0, nesterov: opts.nesterov ?? false };
    if (this.hyper.nesterov && (this.hyper.momentum <= 0 || this.hyper.dampening !== 0)) {
      throw new Error(`SGD: Nesterov needs momentum > 0 and dampening 0 (got momentum ${this.hyper.momentum}, dampening ${this.hyper.dampening})`);
    }
  }

  step(lr = this.hyper.lr): void {
    const updates: SgdParam[] = [];
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const first = !this.hasSlot(i, 'momentum_buffer');
      const weightDecay = this.decayIf(p) ? this.hyper.weightDecay : 0;
      updates.push({ weight: p, grad: p.grad, momentumBuffer: this.slot(i, 'momentum_buffer'), weightDecay, first });
    });
    runSgdSteps(updates, { ...this.hyper, lr }); // several parameters per dispatch
    this.stepCount++;
  }
}
