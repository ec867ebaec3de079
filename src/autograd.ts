// The tape: each op that needs a gradient records a GradNode on its output, with its backward right
// beside its forward in src/ops/. backward() (src/backward.ts) walks the nodes in reverse topological order.
import type { Tensor } from './tensor.ts';

export interface GradNode {
  op: string;
  inputs: readonly Tensor[];
  /** Gradients for each input given the output's gradient; null where an input needs none. */
  backward(gradOut: Tensor): readonly (Tensor | null)[];
}

let gradDisabled = 0;

export function isGradEnabled(): boolean {
  return gradDisabled === 0;
}

/** Runs `fn` without recording the tape (evaluation, optimizer updates, backward itself). */
export function noGrad<T>(fn: () => T): T {
  gradDisabled++;
  try {
    return fn();
  } finally {
    gradDisabled--;
  }
}

/** Attaches a backward to `out` when grad mode is on and some input requires a gradient. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradDisabled === 0 && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}
