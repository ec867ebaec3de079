// Every variant of every kernel lab (kernels/lab/<family>) against its family's float64 CPU reference on
// small odd shapes: a lab keeps the versions tried runnable so the choice can be re-made on another
// device, and a version that silently went wrong would make that comparison worthless. Nothing is timed.
import { describe, expect, it } from 'vitest';
import { failures, type Check } from '../kernels/lab/lib.ts';
import * as matmul from '../kernels/lab/matmul/variants.ts';
import * as conv2d from '../kernels/lab/conv2d/variants.ts';
import * as elementwise from '../kernels/lab/elementwise/variants.ts';
import * as reduce from '../kernels/lab/reduce/variants.ts';
import * as batchnorm from '../kernels/lab/batchnorm/variants.ts';
import * as optimizer from '../kernels/lab/optimizer/variants.ts';
import * as fakeQuant from '../kernels/lab/fake_quant/variants.ts';
import { planMatmul } from '../kernels/matmul.ts';

/** No check over its tolerance, and every variant checked at least once (except `exempt` ones). */
function expectAllPass(names: readonly string[], checks: readonly Check[], exempt: (name: string) => boolean = () => false): void {
  expect(new Set(names).size, 'variant names are unique').toBe(names.length);
  expect(failures(checks).map((c) => `${c.variant} on ${c.problem}: error ${c.err} > ${c.tol}`)).toEqual([]);
  const unchecked = names.filter((n) => !exempt(n) && !checks.some((c) => c.variant === n));
  expect(unchecked, 'variants no problem exercised').toEqual([]);
}

// Pipeline compilation dominates: ~3 s for the file with Mesa's shader cache warm (~/.cache, after one
// run), minutes cold (conv2d's ~100 pipelines at ~0.7 s each on 2 shared cores): hence the long timeouts.
const COLD_COMPILE_MS = 300_000;

describe('kernel labs: every variant matches the CPU reference', () => {
  it('matmul', async () => {
    const checks = await matmul.validate(matmul.VARIANTS, matmul.QUICK_CHECKS);
    const p = matmul.QUICK_CHECKS[0]!;
    // variants that need 8-lane subgroups are n/a on adapters without them
    const exempt = (n: string): boolean => /subgroups/.test(matmul.VARIANTS.find((v) => v.name === n)!.unsupported(planMatmul(p.a, p.b, p.opts), p.opts) ?? '');
    expectAllPass(matmul.VARIANTS.map((v) => v.name), checks, exempt);
  }, COLD_COMPILE_MS);

  it('conv2d', async () => {
    expectAllPass(conv2d.VARIANTS.map((v) => v.name), await conv2d.validate(conv2d.QUICK_SHAPES));
  }, COLD_COMPILE_MS);

  it('elementwise', async () => {
    expectAllPass(elementwise.VARIANTS.map((v) => v.name), await elementwise.validate());
  });

  it('reduce', async () => {
    expectAllPass(reduce.VARIANTS.map((v) => v.name), await reduce.validate());
  });

  it('batchnorm', async () => {
    expectAllPass(batchnorm.VARIANTS.map((v) => v.name), await batchnorm.validate());
  });

  it('optimizer (SGD)', async () => {
    expectAllPass(optimizer.VARIANTS.map((v) => v.name), await optimizer.validate());
  });

  it('fake quant in batch norm\'s epilogue', async () => {
    expectAllPass(fakeQuant.VARIANTS.map((v) => v.name), await fakeQuant.validate());
  });

  it('a wrong variant fails its validation', async () => {
    const wrong: elementwise.Variant = { ...elementwise.VARIANTS.at(-1)!, name: 'wrong', run: (pr, a) => elementwise.VARIANTS.at(-1)!.run({ ...pr, op: 'relu' }, a, null) };
    const checks = await elementwise.validate([wrong], elementwise.CHECKS.slice(0, 1));
    expect(failures(checks)).toHaveLength(1);
  });
});
