// Every test file gets the GPU. No adapter is a failure, never a skip: a skipped GPU suite is a
// broken build.
import { beforeAll } from 'vitest';
import { initGpu } from '../src/gpu/device.ts';

beforeAll(async () => {
  await initGpu();
});
