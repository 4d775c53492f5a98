import { defineConfig } from 'vitest/config';

// The real OpenStack lab (scripts/openstack-lab/up.sh): one file at a time, since all
// of them share one small Nova on two cores.
export default defineConfig({
  test: {
    include: ['test/integration/openstack/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
