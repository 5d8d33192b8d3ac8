// etcd metadata-server mode (trtllm-protocol.md 7.1, 10 item 3) against a real etcd: worker registration,
// key reduction, and the monitor's double health check, dead-key deletion, role filter, and that an empty
// role does not stop monitoring.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ClusterStorage } from '../../../../electron/core/cluster/cluster-storage';
import { createClusterStorage } from '../../../../electron/core/cluster/cluster-uri';
import { MemoryClusterStore } from '../../../../electron/core/cluster/memory-cluster-store';
import {
  type HealthCheck,
  httpHealthCheck,
  MetadataClient,
  MetadataMonitor,
  type MetadataRole,
} from '../../../../electron/core/cluster/metadata-client';
import { makeMetadataKey } from '../../../../shared/logic/disagg-cluster-keys';
import { closeServer, startEtcdBackend, waitFor } from './cluster-fixtures';

let stopEtcd: () => Promise<void>;
let etcdHost: string;
let etcdPort: number;
let raw: ClusterStorage;
let client: MetadataClient;

beforeAll(async () => {
  const etcd = await startEtcdBackend();
  stopEtcd = etcd.stop;
  const url = new URL(etcd.endpoint);
  etcdHost = url.hostname;
  etcdPort = Number(url.port);
  raw = createClusterStorage(etcd.uri);
  client = MetadataClient.forConfig({ hostname: etcdHost, port: etcdPort }, () => undefined);
});
afterAll(async () => {
  await client.close();
  await raw.close();
  await stopEtcd();
});
afterEach(async () => {
  // Like the upstream etcd test: `etcdctl del --prefix trtllm/` between cases.
  for (const key of Object.keys(await raw.getPrefix('trtllm/', { keysOnly: true }))) {
    await raw.delete(key);
  }
});

function value(url: string, role: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'm',
    version: '1.1.0',
    timestamp: '2025-10-23T00:00:00.000000',
    server_role: role,
    url,
    ...extra,
  });
}

/** A health check whose answers are scripted per url; records every call. */
function scriptedHealth(script: Record<string, boolean[]>): {
  check: HealthCheck;
  calls: string[];
} {
  const calls: string[] = [];
  const check: HealthCheck = (url) => {
    calls.push(url);
    const answers = script[url] ?? [true];
    return Promise.resolve(
      answers.length > 1 ? (answers.shift() as boolean) : (answers[0] ?? true),
    );
  };
  return { check, calls };
}

describe('MetadataClient', () => {
  it('registers trtllm/<hostname>-<pid>-<ms> with the JSON value and no lease, and deregisters it', async () => {
    const nowMs = Date.UTC(2025, 9, 23, 8, 0, 0, 250);
    const key = await client.registerMetadataServer({
      model: 'TinyLlama',
      version: '1.1.0rc0',
      serverRole: 'CONTEXT',
      url: 'http://127.0.0.1:8001',
      hostname: 'node7',
      pid: 4242,
      nowMs,
    });
    expect(key).toBe(makeMetadataKey('node7', 4242, nowMs));
    const stored = JSON.parse((await raw.get(key)) ?? 'null') as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(['model', 'version', 'timestamp', 'server_role', 'url']);
    expect(stored).toMatchObject({
      model: 'TinyLlama',
      version: '1.1.0rc0',
      server_role: 'CONTEXT',
      url: 'http://127.0.0.1:8001',
    });
    expect(stored.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    // No lease (protocol 7.1): a crashed worker leaves its key behind.
    const etcd = new Etcd3({ hosts: `http://${etcdHost}:${etcdPort}` });
    try {
      expect((await etcd.get(key).exec()).kvs[0]?.lease).toBe('0');
    } finally {
      etcd.close();
    }
    expect(await client.deregister(key)).toBe(true);
    expect(await raw.get(key)).toBeNull();
  });

  it('lists trtllm/ keys reduced to two segments, skipping values without a url', async () => {
    await raw.set('trtllm/a-1-1', value('http://h:1', 'CONTEXT'));
    await raw.set('trtllm/a-1-1/sub/key', 'ignored: read back at trtllm/a-1-1');
    await raw.set('trtllm/b-2-2/deep', 'x');
    await raw.set('trtllm/b-2-2', value('http://h:2', 'GENERATION'));
    await raw.set('trtllm/c-3-3', '{"model":"no url"}');
    await raw.set('trtllm/d-4-4', 'not json');
    await raw.set('other/e', value('http://h:5', 'CONTEXT'));
    const entries = await client.listMetadataServers();
    expect(entries.map((e) => [e.key, e.url])).toEqual([
      ['trtllm/a-1-1', 'http://h:1'],
      ['trtllm/b-2-2', 'http://h:2'],
    ]);
  });
});

describe('MetadataMonitor', () => {
  const config = { refresh_interval: 0.1, health_check_timeout: 1 };
  const monitors: MetadataMonitor[] = [];
  afterEach(async () => {
    await Promise.all(monitors.splice(0).map((m) => m.stop()));
  });

  function newMonitor(
    health: HealthCheck,
    initialServers: Partial<Record<MetadataRole, string[]>> = {},
  ) {
    const changes: [MetadataRole, string[]][] = [];
    const monitor = new MetadataMonitor({
      client,
      config,
      healthCheck: health,
      initialServers,
      onServersChanged: (role, urls) => changes.push([role, urls]),
      log: () => undefined,
    });
    monitors.push(monitor);
    return { monitor, changes };
  }

  it('checks a failing server a second time, deletes keys that fail twice, and filters by role', async () => {
    await raw.set('trtllm/ctx-ok', value('http://ctx-ok:1', 'CONTEXT'));
    await raw.set('trtllm/ctx-flaky', value('http://ctx-flaky:2', 'CONTEXT'));
    await raw.set('trtllm/ctx-dead', value('http://ctx-dead:3', 'CONTEXT'));
    await raw.set('trtllm/gen-ok', value('http://gen-ok:4', 'generation'));
    await raw.set(
      'trtllm/gen-typed',
      JSON.stringify({ url: 'http://gen-typed:5', server_type: 'GENERATION' }),
    );
    const { check, calls } = scriptedHealth({
      'http://ctx-flaky:2': [false, true],
      'http://ctx-dead:3': [false],
    });
    const { monitor, changes } = newMonitor(check, { context: ['http://ctx-ok:1'] });
    await monitor.refreshOnce();

    const count = (url: string): number => calls.filter((c) => c === url).length;
    expect(count('http://ctx-ok:1')).toBe(1);
    expect(count('http://ctx-flaky:2')).toBe(2);
    expect(count('http://ctx-dead:3')).toBe(2);
    expect(await raw.get('trtllm/ctx-dead')).toBeNull();
    expect(await raw.get('trtllm/ctx-flaky')).not.toBeNull();
    expect(changes).toEqual([
      ['context', ['http://ctx-ok:1', 'http://ctx-flaky:2']],
      ['generation', ['http://gen-ok:4', 'http://gen-typed:5']],
    ]);

    // Nothing changed: nothing reported.
    await monitor.refreshOnce();
    expect(changes).toHaveLength(2);
  });

  it('keeps monitoring after a role becomes empty and reports servers that come back', async () => {
    await raw.set('trtllm/ctx', value('http://ctx:1', 'CONTEXT'));
    await raw.set('trtllm/gen', value('http://gen:2', 'GENERATION'));
    const alive = new Set(['http://ctx:1', 'http://gen:2']);
    const { monitor, changes } = newMonitor((url) => Promise.resolve(alive.has(url)), {
      context: ['http://ctx:1'],
      generation: ['http://gen:2'],
    });
    monitor.start();
    alive.delete('http://gen:2');
    await waitFor('generation list to become empty', () =>
      changes.some(([r, u]) => r === 'generation' && u.length === 0),
    );
    expect(await raw.get('trtllm/gen')).toBeNull();
    expect(monitor.servers('generation')).toEqual([]);

    alive.add('http://gen-new:3');
    await raw.set('trtllm/gen-new', value('http://gen-new:3', 'GENERATION'));
    await waitFor('new generation server reported', () =>
      changes.some(([r, u]) => r === 'generation' && u.length === 1 && u[0] === 'http://gen-new:3'),
    );
    expect(changes.filter(([r]) => r === 'context')).toEqual([]);
  });

  it('a failed refresh (etcd unreachable) is logged and the loop carries on', async () => {
    const store = new MemoryClusterStore();
    const realGetPrefix = store.getPrefix.bind(store);
    let failures = 2;
    store.getPrefix = (p, o) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('etcd down'));
      }
      return realGetPrefix(p, o);
    };
    await store.set('trtllm/ctx', value('http://ctx:1', 'CONTEXT'));
    const errors: string[] = [];
    const changes: [MetadataRole, string[]][] = [];
    const monitor = new MetadataMonitor({
      client: new MetadataClient(store),
      config,
      healthCheck: () => Promise.resolve(true),
      onServersChanged: (role, urls) => changes.push([role, urls]),
      log: (level, message) => {
        if (level === 'error') errors.push(message);
      },
    });
    monitors.push(monitor);
    try {
      monitor.start();
      await waitFor('the context server to be reported', () => changes.length === 1);
      expect(changes).toEqual([['context', ['http://ctx:1']]]);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatch(/etcd down/);
    } finally {
      await monitor.stop();
      await store.close();
    }
  });

  it('the default health check is GET <url>/health answering 200 within the timeout', async () => {
    let healthy = true;
    const server: Server = createServer((req, res) => {
      res.writeHead(req.url === '/health' && healthy ? 200 : 503);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await httpHealthCheck(url, 1_000)).toBe(true);
      healthy = false;
      expect(await httpHealthCheck(url, 1_000)).toBe(false);
      expect(await httpHealthCheck('http://127.0.0.1:9', 1_000)).toBe(false);
    } finally {
      await closeServer(server);
    }
  });
});
