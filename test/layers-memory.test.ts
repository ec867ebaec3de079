// The layer ops free what they allocate: under tidy (training step with backward) and, without a tape,
// as soon as the output is disposed (their saved tensors are released when no backward will need them).
import { describe, expect, it } from 'vitest';
import { backward } from '../src/backward.ts';
import { gpu } from '../src/gpu/device.ts';
import { fill } from '../src/ops/elementwise.ts';
import { parameter, randn } from '../src/ops/creation.ts';
import { batchNorm } from '../src/ops/batchnorm.ts';
import { dropout } from '../src/ops/dropout.ts';
import { maxPool2d } from '../src/ops/pool.ts';
import { prelu } from '../src/ops/prelu.ts';
import { mean, sum } from '../src/ops/reduce.ts';
import { dispose, keep, tidy, type Tensor } from '../src/tensor.ts';

describe('layer ops and memory', () => {
  it('training steps through batch norm, prelu, max pool, dropout and mean leave live bytes unchanged', async () => {
    const C = 5;
    const x = keep(randn([2, C, 9, 8], { seed: 1 }));          // [N, C, H, W]
    const gamma = parameter(randn([C], { seed: 2 }));
    const beta = parameter(randn([C], { seed: 3 }));
    const slope = parameter(fill([C], 0.25));
    const running = { mean: keep(fill([C], 0)), var: keep(fill([C], 1)) };
    const step = (seed: number): void => {
      tidy(() => {
        const h = batchNorm(x, gamma, beta, running, { training: true });
        const pooled = maxPool2d(prelu(h, slope), 3, { stride: 2, padding: 1 });    // [2, C, 5, 4]
        backward(sum(mean(dropout(pooled, 0.3, { training: true, seed }), [2, 3])));
      });
      for (const p of [gamma, beta, slope]) {
        p.grad?.dispose();
        p.grad = null;
      }
      gpu().recorder.flush();
    };
    step(0);
    await gpu().recorder.sync();
    const before = gpu().pool.snapshot();
    for (let i = 1; i < 20; i++) step(i);
    await gpu().recorder.sync();
    const after = gpu().pool.snapshot();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    dispose([x, gamma, beta, slope, running]);
  });

  it('without a tape, disposing the output frees everything the forward made', async () => {
    const C = 3;
    const x = randn([2, C, 4, 4], { seed: 4 });
    const running = { mean: fill([C], 0), var: fill([C], 1) };
    await gpu().recorder.sync();
    const before = gpu().pool.snapshot();
    const outputs: Tensor[] = [
      batchNorm(x, null, null, running, { training: true }),
      batchNorm(x, null, null, running, { training: false }),
      maxPool2d(x, 2),
    ];
    dispose(outputs);
    await gpu().recorder.sync();
    const after = gpu().pool.snapshot();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.liveBuffers).toBe(before.liveBuffers);
    dispose([x, running]);
  });
});
