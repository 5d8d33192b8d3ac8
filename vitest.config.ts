import { defineConfig } from 'vitest/config';

// Unit, contract and integration tests run under plain Node. Integration tests start real
// processes (sim workers, etcd) and need the longer timeouts.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/contract/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
