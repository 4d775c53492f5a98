import { defineConfig } from 'vitest/config';

// The real Ironic lab (scripts/ironic-lab/up.sh): one file at a time, since all of
// them draw nodes from the same small pool.
export default defineConfig({
  test: {
    include: ['test/integration/baremetal/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
