import { defineConfig } from 'vitest/config';

// One process for every test file: the WebGPU device and its compiled pipelines (0.1-0.8 s each on
// lavapipe) are shared instead of rebuilt per file. Files run one at a time on that device.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    isolate: false,
    fileParallelism: false,
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
