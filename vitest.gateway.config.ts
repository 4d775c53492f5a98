import { defineConfig } from 'vitest/config';

// The gateway driven by the real `openstack` CLI (python3-openstackclient from Debian,
// installed by .ci/run): one file at a time, each CLI call is a Python process start.
export default defineConfig({
  test: {
    include: ['test/integration/gateway/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
