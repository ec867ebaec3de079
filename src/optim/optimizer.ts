// Optimizer base: owns the parameter list and their gradients' lifetime.
import type { Tensor } from '../tensor.ts';

export abstract class Optimizer {
  constructor(readonly params: readonly Tensor[]) {
    for (const p of params) {
      if (!p.requiresGrad) throw new Error(`${this.constructor.name}: parameter ${p} does not require a gradient`);
    }
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
}
