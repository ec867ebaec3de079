// The full iresnet18 training step at 112x112, batch 8, on the CPU adapter (a few seconds a step):
// within the storage-binding limit, and the pool's live bytes unchanged across steps. The 50-step
// version is `lowbit bench memory`.
import { describe, expect, it } from 'vitest';
import { measureMemory } from '../bench/memory.bench.ts';

describe('memory of the full-size training step', () => {
  it('iresnet18 112x112 batch 8: every tensor fits one binding, live bytes flat over 3 steps, no new allocations', async () => {
    const r = await measureMemory(3);
    expect(r.largest_tensor_bytes).toBeLessThanOrEqual(r.binding_limit_bytes);
    expect(r.live_bytes_after_last).toBe(r.live_bytes_after_first);
    expect(r.allocations_after_first).toBe(0);
  });
});
