// The optimizer (SGD update) variants of the kernel lab (llm.c dev/cuda style): how the per-parameter
// updates of one step are launched. Every variant is shaders/sgd.wgsl through runSgdSteps
// (kernels/sgd.ts SgdLaunch): scalar or vec4 loads, one workgroup per 64 elements or a few looping
// ones, one parameter per dispatch or SGD_SLOTS. bench/optim.bench.ts times the same list.
import { runSgdSteps, sgdRef, type SgdHyper, type SgdLaunch, type SgdParam } from '../../sgd.ts';
import { fromArray } from '../../../src/ops/creation.ts';
import { normalArray } from '../../../src/random.ts';
import { relErr, type Check } from '../lib.ts';

export interface Variant {
  name: string;
  about: string;
  how: SgdLaunch;
}

/** From the first form (scalar, a workgroup per 64 elements, a dispatch per parameter) to production. */
export const VARIANTS: Variant[] = [
  { name: 'unlooped', about: 'scalar, a workgroup per 64 elements, one parameter per dispatch (the first form)', how: { vec4: false, maxWorkgroups: Infinity } },
  { name: 'scalar_looped', about: 'scalar, 16 looping workgroups, one parameter per dispatch', how: { vec4: false } },
  { name: 'vec4_unlooped', about: 'vec4 where size % 4 == 0, a workgroup per 64 vec4s, one per dispatch', how: { multi: false, maxWorkgroups: Infinity } },
  { name: '64_workgroups', about: 'vec4, 64 looping workgroups, one per dispatch', how: { multi: false, maxWorkgroups: 64 } },
  { name: '4_workgroups', about: 'vec4, 4 looping workgroups, one per dispatch', how: { multi: false, maxWorkgroups: 4 } },
  { name: 'one_per_dispatch', about: 'vec4, 16 looping workgroups, one per dispatch', how: { multi: false } },
  { name: 'production', about: 'runSgdSteps: SGD_SLOTS (5) vec4 parameters per dispatch, 16 looping workgroups, the rest one by one', how: {} },
];

export const run = (v: Variant, ps: readonly SgdParam[], h: Omit<SgdHyper, 'weightDecay'>): void => runSgdSteps(ps, h, v.how);

// ---- validation against sgdRef (float64) ------------------------------------------------------------

/** Parameter sizes: odd ones (scalar path), multiples of 4 (vec4; seven, so one SGD_SLOTS group and
 *  two left over), one longer than 16 workgroups x 64 lanes x 4. */
const SIZES = [135, 2304, 7, 64, 1000, 12, 36, 9, 20_004, 400];

/** Hyperparameter sets, each a problem: momentum with dampening, Nesterov, plain SGD. */
export const CHECKS: { id: string; hyper: Omit<SgdHyper, 'weightDecay'> }[] = [
  { id: 'momentum 0.9 dampening 0.1', hyper: { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false } },
  { id: 'nesterov 0.8', hyper: { lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true } },
  { id: 'plain', hyper: { lr: 0.1, momentum: 0, dampening: 0, nesterov: false } },
];

/** Weights and momentum buffers after two steps (the first with `first` on half the parameters, weight
 *  decay on the others): max |got - want| / (1 + |want|); tolerance 1e-5. */
export async function validate(variants: readonly Variant[] = VARIANTS, problems = CHECKS): Promise<Check[]> {
  const out: Check[] = [];
  for (const pr of problems) {
    for (const v of variants) {
      const data = SIZES.map((n, i) => ({ w: normalArray(n, 20 + i), g: normalArray(n, 40 + i), buf: normalArray(n, 60 + i) }));
      const params: SgdParam[] = data.map((d, i) => ({
        weight: fromArray(d.w, [d.w.length]), grad: fromArray(d.g, [d.g.length]), momentumBuffer: fromArray(d.buf, [d.buf.length]),
        weightDecay: i % 2 ? 5e-2 : 0, first: i % 3 === 0,
      }));
      const want = data.map((d) => ({ w: Float64Array.from(d.w), buf: Float64Array.from(d.buf) }));
      for (let step = 0; step < 2; step++) {
        run(v, params.map((p) => ({ ...p, first: p.first && step === 0 })), pr.hyper);
        params.forEach((p, i) => sgdRef(want[i]!.w, data[i]!.g, want[i]!.buf, { ...pr.hyper, weightDecay: p.weightDecay }, p.first && step === 0));
      }
      let err = 0;
      for (const [i, p] of params.entries()) {
        err = Math.max(err, relErr(await p.weight.toArray(), want[i]!.w));
        if (pr.hyper.momentum !== 0) err = Math.max(err, relErr(await p.momentumBuffer.toArray(), want[i]!.buf));
      }
      out.push({ variant: v.name, problem: pr.id, err, tol: 1e-5 });
      for (const p of params) [p.weight, p.grad, p.momentumBuffer].forEach((t) => t.dispose());
    }
  }
  return out;
}
