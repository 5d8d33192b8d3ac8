import { defineConfig } from 'vitest/config';

// Three lanes, one Vitest project each (tests/README.md):
// - unit: pure logic and single modules, no real child processes beyond a fake server;
// - contract: the console API behaviour over the in-memory and the HTTP transport;
// - integration: real processes (sim workers, proxies, etcd), hence the longer timeouts.
// `npm run test:fast` runs unit and contract (`--project unit --project contract`); `npm test` runs all three.
// No test asserts a wall-clock duration: timing logic uses fake clocks or counts, speed lives in bench/.
export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'contract', include: ['tests/contract/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['tests/integration/**/*.test.ts'] } },
    ],
  },
});
