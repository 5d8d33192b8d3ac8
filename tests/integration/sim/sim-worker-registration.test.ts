// Registration of sim workers in a real etcd (metadata mode 7.1 and disagg_cluster 7.2) and in the proxy's
// HTTP store, heartbeat re-registration, and removal on SIGTERM.
import { createServer, type Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EtcdClusterStorage } from '../../../electron/core/cluster/etcd-cluster-storage';
import { handleClusterStoreRequest } from '../../../electron/core/cluster/http-store-routes';
import { MemoryClusterStore } from '../../../electron/core/cluster/memory-cluster-store';
import { workersPrefix } from '../../../shared/logic/disagg-cluster-keys';
import { type EtcdServer, startEtcd } from '../../helpers/etcd';
import { startSimWorker, tempFile } from './sim-process';

let etcd: EtcdServer;
let storage: EtcdClusterStorage;

beforeAll(async () => {
  etcd = await startEtcd();
  storage = new EtcdClusterStorage([etcd.endpoint]);
});

afterAll(async () => {
  await storage?.close();
  await etcd?.stop();
});

async function waitFor<T>(
  probe: () => Promise<T>,
  isDone: (v: T) => boolean,
  timeoutMs = 8_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (isDone(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('etcd metadata mode (7.1)', () => {
  it('puts trtllm/<host-pid-ms> with the JSON value and deletes it on SIGTERM', async () => {
    const config = tempFile(
      'metadata_config.yaml',
      `server_type: etcd\nhostname: 127.0.0.1\nport: ${etcd.port}\nhealth_check_timeout: 5.0\nrefresh_interval: 10.0\n`,
    );
    const w = await startSimWorker(
      ['my-model', '--metadata_server_config_file', config, '--server_role', 'CONTEXT'],
      { DISAGG_SIM_ZERO_DELAY: '1' },
    );
    try {
      const entries = await waitFor(
        () => storage.getPrefix('trtllm/'),
        (e) => Object.keys(e).length > 0,
      );
      const keys = Object.keys(entries);
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(new RegExp(`^trtllm/.+-${w.pid}-\\d{13}$`));
      const value = JSON.parse(entries[keys[0] ?? ''] ?? '{}') as Record<string, unknown>;
      expect(value).toMatchObject({
        model: 'my-model',
        server_role: 'CONTEXT',
        url: `http://127.0.0.1:${w.port}`,
      });
      expect(typeof value.version).toBe('string');
      expect(typeof value.timestamp).toBe('string');
    } finally {
      await w.stop();
    }
    expect((await w.exited).code).toBe(0);
    expect(await storage.getPrefix('trtllm/')).toEqual({});
  });
});

describe('disagg_cluster over etcd (7.2)', () => {
  it('registers a leased key, re-registers when the key is gone, and deletes it on SIGTERM', async () => {
    const options = tempFile(
      'gen.yaml',
      'disagg_cluster:\n  cluster_name: simtest\n  heartbeat_interval_sec: 1\n  inactive_timeout_sec: 3\n',
    );
    const w = await startSimWorker(
      [
        'm',
        '--config',
        options,
        '--disagg_cluster_uri',
        `etcd://127.0.0.1:${etcd.port}`,
        '--server_role',
        'generation',
      ],
      { DISAGG_SIM_ZERO_DELAY: '1' },
    );
    const prefix = workersPrefix('simtest');
    try {
      const entries = await waitFor(
        () => storage.getPrefix(prefix),
        (e) => Object.keys(e).length > 0,
      );
      const [key, text] = Object.entries(entries)[0] ?? ['', ''];
      expect(key).toMatch(
        new RegExp(
          `^/trtllm-disagg/simtest/workers/GENERATION-127\\.0\\.0\\.1:${w.port}-\\d{13}-${w.pid}-\\d{3}$`,
        ),
      );
      expect(JSON.parse(text)).toEqual({
        worker_id: key.slice(prefix.length + 1),
        host: '127.0.0.1',
        port: w.port,
        role: 1,
      });
      await storage.delete(key);
      const back = await waitFor(
        () => storage.getPrefix(prefix),
        (e) => key in e,
      );
      expect(Object.keys(back)).toContain(key);
    } finally {
      await w.stop();
    }
    expect((await w.exited).code).toBe(0);
    expect(await storage.getPrefix(prefix)).toEqual({});
  });
});

describe("disagg_cluster over the proxy's HTTP store (7.2)", () => {
  let store: MemoryClusterStore;
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    store = new MemoryClusterStore();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://store');
      void handleClusterStoreRequest(store, req, res, url).then((handled) => {
        if (!handled) {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
  });

  it('registers with --disagg_cluster_uri only (default cluster config) and deregisters on SIGTERM', async () => {
    const w = await startSimWorker(
      ['m', '--disagg_cluster_uri', `http://127.0.0.1:${port}`, '--server_role', 'context'],
      { DISAGG_SIM_ZERO_DELAY: '1' },
    );
    const prefix = workersPrefix('');
    try {
      const entries = await waitFor(
        () => store.getPrefix(prefix),
        (e) => Object.keys(e).length > 0,
      );
      const values = Object.values(entries).map((v) => JSON.parse(v) as Record<string, unknown>);
      expect(values).toEqual([
        expect.objectContaining({ host: '127.0.0.1', port: w.port, role: 0 }),
      ]);
    } finally {
      await w.stop();
    }
    expect((await w.exited).code).toBe(0);
    expect(await store.getPrefix(prefix)).toEqual({});
  });
});
