// Optimizer base: the parameter list, which parameters get weight decay, per-parameter state slots
// (saved in checkpoints), and the gradients' lifetime.
import { fill } from '../ops/elementwise.ts';
import { keep, type Tensor } from '../tensor.ts';

/** Default: decay only weights of rank >= 2 (conv, linear), not BN parameters, biases or PReLU slopes. */
export const decayMatricesOnly = (p: Tensor): boolean => p.shape.length >= 2;

export interface OptimizerOptions {
  /** Which parameters receive weight decay (default: rank >= 2). */
  decayIf?: (p: Tensor) => boolean;
}

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Steps taken (Adam's bias correction counts from 1). */
  stepCount = 0;
  private readonly slots = new Map<string, Tensor>();
  protected readonly decayIf: (p: Tensor) => boolean;

  constructor(params: readonly Tensor[], opts: OptimizerOptions = {}) {
    for (const p of params) {
      if (!p.requiresGrad) throw new Error(`${this.constructor.name}: parameter ${p} does not require a gradient`);
    }
    this.params = params;
    this.decayIf = opts.decayIf ?? decayMatricesOnly;
  }

  /** Applies one update from the accumulated gradients; parameters without a gradient are skipped. */
  abstract step(lr?: number): void;

  /** Frees every parameter's gradient (backward allocates fresh ones). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** State is keyed by the parameter's position (as torch's optimizer state dict): names are not
   *  unique (every module calls its parameter "weight"), positions in the parameter list are. */
  protected paramKey(index: number): string {
    return String(index);
  }

  /** The state tensor `slot` of parameter `index`, created as zeros on first use. */
  protected slot(index: number, slot: string): Tensor {
    const key = `${this.paramKey(index)}.${slot}`;
    let t = this.slots.get(key);
    if (!t) {
      t = keep(fill(this.params[index]!.shape, 0));
      this.slots.set(key, t);
    }
    return t;
  }

  protected hasSlot(index: number, slot: string): boolean {
    return this.slots.has(`${this.paramKey(index)}.${slot}`);
  }

  /** Every state tensor by "<param index>.<slot>" (for checkpoints). */
  state(): ReadonlyMap<string, Tensor> {
    return this.slots;
  }

  /** Restores state tensors (copied in) and the step count from a checkpoint. */
  loadState(entries: ReadonlyMap<string, Tensor>, stepCount: number): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
    for (const [k, t] of entries) this.slots.set(k, keep(t));
    this.stepCount = stepCount;
  }

  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
  }
}
