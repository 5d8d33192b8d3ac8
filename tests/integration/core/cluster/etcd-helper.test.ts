// The test helpers the cluster tests stand on: startEtcd (real etcd, stopped by pid, data dir removed)
// and getFreePort.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

import { describe, expect, it } from 'vitest';

import { startEtcd } from '../../../helpers/etcd';
import { getFreePort } from '../../../helpers/free-port';
import { isProcessAlive as isRunning } from '../../../helpers/process-alive';

describe('startEtcd', () => {
  it('starts a healthy etcd on loopback and stop() ends the process (twice is harmless)', async () => {
    const etcd = await startEtcd();
    try {
      expect(etcd.endpoint).toBe(`http://127.0.0.1:${etcd.port}`);
      const res = await fetch(`${etcd.endpoint}/health`, { signal: AbortSignal.timeout(2_000) });
      expect(res.status).toBe(200);
      expect(isRunning(etcd.pid)).toBe(true);
    } finally {
      await etcd.stop();
    }
    expect(isRunning(etcd.pid)).toBe(false);
    await etcd.stop();
  });

  it('fails with a pointer to scripts/setup-system.sh when etcd is missing', async () => {
    const missing = '/nonexistent/etcd';
    expect(existsSync(missing)).toBe(false);
    await expect(startEtcd({ binary: missing })).rejects.toThrow(/scripts\/setup-system\.sh/);
  });
});

describe('getFreePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
