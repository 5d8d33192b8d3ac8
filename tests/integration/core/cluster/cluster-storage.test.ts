// One behaviour suite (upstream test_cluster_storage.py, trtllm-protocol.md 10 item 8) run against a real
// etcd and against the proxy's in-memory store over real HTTP, through the clients workers use.
import type { Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ClusterStorage } from '../../../../electron/core/cluster/cluster-storage';
import { ClusterStorageError } from '../../../../electron/core/cluster/cluster-storage';
import { createClusterStorage } from '../../../../electron/core/cluster/cluster-uri';
import { MemoryClusterStore } from '../../../../electron/core/cluster/memory-cluster-store';
import {
  closeServer,
  EventLog,
  serveStore,
  sleep,
  startEtcdBackend,
  uniquePrefix,
  waitFor,
} from './cluster-fixtures';

interface SuiteContext {
  /** The client a worker uses (etcd client, or HTTP client of the proxy's store). */
  client: ClusterStorage;
  /** Where watches are opened: etcd itself, or the store inside the proxy (HTTP has no watch). */
  watcher: ClusterStorage;
}

interface Backend {
  name: string;
  setUp(): Promise<SuiteContext>;
  tearDown(): Promise<void>;
}

function etcdBackend(): Backend {
  let stopEtcd: (() => Promise<void>) | null = null;
  let ctx: SuiteContext | null = null;
  return {
    name: 'etcd',
    async setUp() {
      const etcd = await startEtcdBackend();
      stopEtcd = etcd.stop;
      const client = createClusterStorage(etcd.uri);
      ctx = { client, watcher: createClusterStorage(etcd.uri) };
      return ctx;
    },
    async tearDown() {
      await ctx?.client.close();
      await ctx?.watcher.close();
      await stopEtcd?.();
    },
  };
}

function httpBackend(): Backend {
  let server: Server | null = null;
  let store: MemoryClusterStore | null = null;
  return {
    name: 'http',
    async setUp() {
      const memory = new MemoryClusterStore();
      store = memory;
      const served = await serveStore(() => memory);
      server = served.server;
      return { client: createClusterStorage(served.url), watcher: memory };
    },
    async tearDown() {
      if (server) await closeServer(server);
      await store?.close();
    },
  };
}

describe.each([etcdBackend(), httpBackend()])('ClusterStorage over $name', (backend) => {
  let client: ClusterStorage;
  let watcher: ClusterStorage;

  beforeAll(async () => {
    ({ client, watcher } = await backend.setUp());
  });
  afterAll(async () => {
    await backend.tearDown();
  });

  it('set then get returns the value; an unknown key is null', async () => {
    const p = uniquePrefix('get');
    expect(await client.set(`${p}a`, 'value-a')).toBe(true);
    expect(await client.get(`${p}a`)).toBe('value-a');
    expect(await client.get(`${p}missing`)).toBeNull();
  });

  it('set without overwrite on an existing key fails and keeps the old value; overwrite replaces it', async () => {
    const p = uniquePrefix('overwrite');
    expect(await client.set(`${p}k`, 'one')).toBe(true);
    expect(await client.set(`${p}k`, 'two')).toBe(false);
    expect(await client.get(`${p}k`)).toBe('one');
    expect(await client.set(`${p}k`, 'three', { overwrite: true })).toBe(true);
    expect(await client.get(`${p}k`)).toBe('three');
  });

  it('delete removes a key once', async () => {
    const p = uniquePrefix('delete');
    await client.set(`${p}k`, 'v');
    expect(await client.delete(`${p}k`)).toBe(true);
    expect(await client.get(`${p}k`)).toBeNull();
    expect(await client.delete(`${p}k`)).toBe(false);
  });

  it('get_prefix returns keys under the prefix, with values or keys only; nothing matching is {}', async () => {
    const p = uniquePrefix('prefix');
    await client.set(`${p}workers/a`, 'va');
    await client.set(`${p}workers/b`, 'vb');
    await client.set(`${p}other/c`, 'vc');
    expect(await client.getPrefix(`${p}workers/`)).toEqual({
      [`${p}workers/a`]: 'va',
      [`${p}workers/b`]: 'vb',
    });
    expect(await client.getPrefix(`${p}workers/`, { keysOnly: true })).toEqual({
      [`${p}workers/a`]: '',
      [`${p}workers/b`]: '',
    });
    expect(await client.getPrefix(`${p}nothing/`)).toEqual({});
  });

  it('watch reports SET and DELETE under its prefix only; unwatch twice is an error', async () => {
    const p = uniquePrefix('watch');
    const log = new EventLog();
    const unwatch = await watcher.watch(`${p}w/`, log.push);
    await client.set(`${p}w/k`, 'v1');
    await client.set(`${p}outside`, 'x');
    await client.set(`${p}w/k`, 'v2', { overwrite: true });
    await client.delete(`${p}w/k`);
    await log.waitFor('DELETE', `${p}w/k`);
    expect(log.events.map((e) => [e.type, e.key, e.value])).toEqual([
      ['SET', `${p}w/k`, 'v1'],
      ['SET', `${p}w/k`, 'v2'],
      ['DELETE', `${p}w/k`, 'v2'],
    ]);
    await unwatch();
    await client.set(`${p}w/after`, 'v');
    await sleep(200);
    expect(log.events.some((e) => e.key === `${p}w/after`)).toBe(false);
    await expect(unwatch()).rejects.toThrow(/already unwatched/);
  });

  it('a key with ttl 2 is present after 1 s, then expires (with a DELETE event) unless expire refreshes it', async () => {
    const p = uniquePrefix('ttl');
    const log = new EventLog();
    const unwatch = await watcher.watch(p, log.push);
    const started = Date.now();
    expect(await client.set(`${p}lapsing`, 'a', { ttlSec: 2 })).toBe(true);
    expect(await client.set(`${p}kept`, 'b', { ttlSec: 2 })).toBe(true);
    await sleep(1_000);
    expect(await client.get(`${p}lapsing`)).toBe('a');
    let lastRefresh = 0;
    await waitFor(
      'the lapsing key to expire',
      async () => {
        if (Date.now() - lastRefresh > 600) {
          expect(await client.expire(`${p}kept`, 2)).toBe(true);
          lastRefresh = Date.now();
        }
        return (await client.get(`${p}lapsing`)) === null;
      },
      10_000,
    );
    // Not before its TTL (expiry never comes early, so load cannot break this). How late is not bounded:
    // the deadline above only gives a loaded machine room.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    await log.waitFor('DELETE', `${p}lapsing`, 2_000);
    expect(await client.get(`${p}kept`)).toBe('b');
    expect(log.events.some((e) => e.type === 'DELETE' && e.key === `${p}kept`)).toBe(false);
    await unwatch();
  });

  it('expire of an unknown key (or a ttl <= 0) is false', async () => {
    const p = uniquePrefix('expire');
    expect(await client.expire(`${p}missing`, 2)).toBe(false);
    await client.set(`${p}k`, 'v', { ttlSec: 5 });
    expect(await client.expire(`${p}k`, 0)).toBe(false);
  });
});

describe('createClusterStorage', () => {
  it.each(['redis://localhost:6379', 'localhost:2379', '', 'etcd://'])(
    'rejects %j with the accepted forms',
    (uri) => {
      expect(() => createClusterStorage(uri)).toThrow(/cluster_uri/);
    },
  );

  it('an HTTP store that is not listening rejects with ClusterStorageError', async () => {
    // Port 9 (discard) is never served on loopback here: the connection is refused at once.
    const client = createClusterStorage('http://127.0.0.1:9', { httpTimeoutMs: 1_000 });
    await expect(client.set('k', 'v')).rejects.toBeInstanceOf(ClusterStorageError);
    await expect(client.watch('k', () => undefined)).rejects.toThrow(
      /not supported over the HTTP cluster store/,
    );
  });

  it('an etcd that is not listening rejects with ClusterStorageError', async () => {
    const client = createClusterStorage('etcd://127.0.0.1:9', { etcdCallTimeoutMs: 300 });
    try {
      await expect(client.get('k')).rejects.toBeInstanceOf(ClusterStorageError);
      // The etcd3 library would wait for a connection forever; the storage bounds it.
      await expect(client.watch('k', () => undefined)).rejects.toThrow(/watch was not established/);
    } finally {
      await client.close();
    }
  });
});
