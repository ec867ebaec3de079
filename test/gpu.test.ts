// The device layer: adapter, pipeline cache, buffer pool, recorder.
import { describe, expect, it } from 'vitest';
import { bucketSize } from '../src/gpu/pool.ts';
import { gpu } from '../src/gpu/device.ts';
import { fromArray, randn } from '../src/ops/creation.ts';
import { add, exp } from '../src/ops/elementwise.ts';
import { matmul } from '../src/ops/matmul.ts';
import { dispose, tidy } from '../src/tensor.ts';
import { lowbit } from './micro.ts';

describe('device', () => {
  it('has a WebGPU adapter with its limits requested at the maximum', () => {
    const g = gpu();
    expect(g.adapter.description.length + g.adapter.vendor.length).toBeGreaterThan(0);
    expect(g.limits.maxStorageBufferBindingSize).toBe(g.adapter.limits.maxStorageBufferBindingSize);
    expect(g.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    // Optional features are requested whenever the adapter has them.
    for (const f of ['timestamp-query', 'shader-f16', 'subgroups']) {
      if (g.adapter.features.includes(f)) expect(g.features.has(f)).toBe(true);
    }
  });
});

describe('lowbit info', () => {
  it('--json prints the adapter, its features and limits, and what the device enabled', () => {
    const info = JSON.parse(lowbit(['info', '--json'])) as { vendor: string; architecture: string; description: string; features: string[]; enabled_features: string[]; limits: Record<string, number>; device_limits: Record<string, number> };
    const g = gpu();
    expect(info.vendor).toBe(g.adapter.vendor);
    expect(info.description).toBe(g.adapter.description);
    expect(info.features).toEqual(g.adapter.features);
    for (const f of info.enabled_features.filter((f) => f !== 'core-features-and-limits')) expect(info.features).toContain(f);
    expect(info.limits.maxStorageBufferBindingSize).toBe(g.adapter.limits.maxStorageBufferBindingSize);
    expect(info.device_limits.maxStorageBufferBindingSize).toBe(g.limits.maxStorageBufferBindingSize);
  });
});

describe('pipeline cache', () => {
  it('is keyed by shader and flags, never by shape', async () => {
    const run = (n: number, m: number): void => {
      tidy(() => {
        exp(add(randn([n, m], { seed: n }), randn([m], { seed: m })));
        matmul(randn([n, m], { seed: 1 }), randn([m, n], { seed: 2 }));
      });
    };
    // One shape per flag class first (matmul picks vec4 loads of B when N % 4 == 0, scalar otherwise).
    run(16, 5);
    run(17, 5);
    await gpu().recorder.sync();
    const compiled = gpu().pipelines.compiled;
    for (const [n, m] of [[17, 9], [20, 24], [64, 33], [19, 30]] as const) run(n, m);
    await gpu().recorder.sync();
    expect(gpu().pipelines.compiled).toBe(compiled);
  });
});

describe('buffer pool', () => {
  it('buckets sizes with at most 25% waste', () => {
    for (const bytes of [1, 256, 257, 1000, 4096, 5000, 1e6, 3e7 + 7]) {
      const b = bucketSize(bytes);
      expect(b).toBeGreaterThanOrEqual(bytes);
      if (bytes > 1024) expect(b / bytes).toBeLessThanOrEqual(1.25);
    }
  });

  it('recycles a released buffer only after the submit that used it', async () => {
    const pool = gpu().pool;
    await gpu().recorder.sync();
    const x = fromArray(new Float32Array(1000), [1000]);
    const y = add(x, 1); // recorded, not submitted
    const before = pool.snapshot();
    x.dispose();
    const pending = pool.snapshot();
    expect(pending.pendingBytes).toBe(before.pendingBytes + bucketSize(4000));
    expect(pending.liveBytes).toBe(before.liveBytes - bucketSize(4000));
    gpu().recorder.flush();
    const after = pool.snapshot();
    expect(after.pendingBytes).toBe(0);
    expect(after.pooledBytes).toBeGreaterThanOrEqual(bucketSize(4000));
    expect(Array.from((await y.toArray()).slice(0, 3))).toEqual([1, 1, 1]);
    y.dispose();
  });
});

describe('recorder', () => {
  it('records many dispatches into one submit and reads back only on request', async () => {
    const r = gpu().recorder;
    await r.sync();
    const submits = r.submits;
    const x = fromArray([1, 2, 3], [3]);
    let y = x;
    for (let i = 0; i < 50; i++) y = add(y, 1);
    expect(r.submits).toBe(submits);
    expect(r.dispatchesSinceSubmit).toBe(50);
    expect(Array.from(await y.toArray())).toEqual([51, 52, 53]);
    expect(r.submits).toBe(submits + 1);
    dispose([x, y]);
  });
});
