// The tiny preset's promise (issue 5): a minute or two on the CPU adapter, yet clearly above chance on
// unseen synthetic identities: verification accuracy at least 0.6 where chance is 0.5.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/train/config.ts';
import { train } from '../src/train/trainer.ts';
import { readLog, tmpDir } from './micro.ts';

describe('the tiny preset', () => {
  it('trains to a verification accuracy of at least 0.6 on unseen identities (chance 0.5)', async () => {
    const out = tmpDir('tiny');
    const summary = await train(resolveConfig({ preset: 'tiny' }), { outDir: out, quiet: true });
    expect(summary.verification!.chance).toBe(0.5);
    expect(summary.verification!.accuracy).toBeGreaterThanOrEqual(0.6);
    const log = readLog(out);
    expect(log.at(-1)!.loss).toBeLessThan(log[0]!.loss);
  }, 600_000);
});
