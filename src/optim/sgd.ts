// SGD with momentum / Nesterov / weight decay, one fused kernel per parameter (torch.optim.SGD rules).
import { runSgdStep, type SgdHyper } from '../../kernels/sgd.ts';
import { fill } from '../ops/elementwise.ts';
import { keep, type Tensor } from '../tensor.ts';
import { Optimizer } from './optimizer.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly hyper: SgdHyper;
  private readonly buffers = new Map<Tensor, Tensor>();
  stepCount = 0;

  constructor(params: readonly Tensor[], opts: SgdOptions) {
    super(params);
    this.hyper = { lr: opts.lr, momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0, weightDecay: opts.weightDecay ?? 0, nesterov: opts.nesterov ?? false };
    if (this.hyper.nesterov && (this.hyper.momentum <= 0 || this.hyper.dampening !== 0)) {
      throw new Error(`SGD: Nesterov needs momentum > 0 and dampening 0 (got momentum ${this.hyper.momentum}, dampening ${this.hyper.dampening})`);
    }
  }

  step(lr = this.hyper.lr): void {
    const hyper = { ...this.hyper, lr };
    for (const p of this.params) {
      if (!p.grad) continue;
      let buf = this.buffers.get(p);
      const first = !buf;
      if (!buf) {
        buf = keep(fill(p.shape, 0));
        this.buffers.set(p, buf);
      }
      runSgdStep(p, p.grad, buf, hyper, first);
    }
    this.stepCount++;
  }

  /** Momentum buffers by parameter index (for checkpoints). */
  state(): (Tensor | undefined)[] {
    return this.params.map((p) => this.buffers.get(p));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
