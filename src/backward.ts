// Reverse-mode differentiation over the tape recorded by src/autograd.ts.
import { noGrad } from './autograd.ts';
import { add, fill } from './ops/elementwise.ts';
import { fmt, sameShape, ShapeError } from './shape.ts';
import { keep, type Tensor } from './tensor.ts';

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: a ResNet's tape is deep enough to matter for the JS stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i]!;
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Accumulates d(root)/d(leaf) into `leaf.grad` for every leaf that requires a gradient.
 * `gradOut` defaults to ones (root must then have one element). Intermediate gradients are freed as
 * soon as their node has run; leaf gradients are kept (exempt from tidy) until the caller disposes them.
 * Ownership: every tensor in `grads` is owned by this walk. A backward may return its incoming gradient
 * itself (add, reshape); such a result is stored as a view, so disposing one owner never frees another's.
 */
export function backward(root: Tensor, gradOut?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward: ${root} does not require a gradient (no input of its graph has requiresGrad)`);
  if (!gradOut && root.size !== 1) throw new ShapeError(`backward: the root has shape ${fmt(root.shape)}; pass gradOut or reduce it to one element first`);
  if (gradOut && !sameShape(gradOut.shape, root.shape)) throw new ShapeError(`backward: gradOut ${fmt(gradOut.shape)} does not match the root ${fmt(root.shape)}`);
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, gradOut ? gradOut.view(gradOut.shape) : fill(root.shape, 1));
    const order = topologicalOrder(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        accumulateLeaf(t, g);
        continue;
      }
      const node = t.node;
      const inputGrads = node.backward(g);
      const handedOut = new Set<Tensor>([g]);
      node.inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (!gi || !input.requiresGrad) return;
        if (!sameShape(gi.shape, input.shape)) {
          throw new ShapeError(`backward of ${node.op}: gradient ${fmt(gi.shape)} for input ${k} of shape ${fmt(input.shape)}`);
        }
        const owned = handedOut.has(gi) ? gi.view(gi.shape) : gi;
        handedOut.add(gi);
        const prev = grads.get(input);
        if (prev) {
          grads.set(input, add(prev, owned));
          prev.dispose();
          owned.dispose();
        } else {
          grads.set(input, owned);
        }
      });
      for (const gi of inputGrads) if (gi && !handedOut.has(gi)) gi.dispose();
      g.dispose();
    }
  });
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad) {
    const sum = add(leaf.grad, g);
    leaf.grad.dispose();
    g.dispose();
    leaf.grad = keep(sum);
  } else {
    leaf.grad = keep(g);
  }
}
