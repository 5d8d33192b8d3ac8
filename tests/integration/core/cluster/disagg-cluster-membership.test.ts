// DisaggClusterManager + DisaggClusterWorker (upstream test_disagg_cluster_manager_worker.py,
// trtllm-protocol.md 10 item 9 and reliability.md item 11) over a real etcd and over the proxy's HTTP store.
import type { Server } from 'node:http';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type {
  ClusterLogLevel,
  ClusterStorage,
  SetOptions,
} from '../../../../electron/core/cluster/cluster-storage';
import { createClusterStorage } from '../../../../electron/core/cluster/cluster-uri';
import {
  DisaggClusterManager,
  workerUrl,
} from '../../../../electron/core/cluster/disagg-cluster-manager';
import { DisaggClusterWorker } from '../../../../electron/core/cluster/disagg-cluster-worker';
import { MemoryClusterStore } from '../../../../electron/core/cluster/memory-cluster-store';
import type {
  ClusterRoleName,
  ClusterWorkerInfo,
} from '../../../../shared/logic/disagg-cluster-keys';
import { getFreePort } from '../../../helpers/free-port';
import { closeServer, serveStore, sleep, startEtcdBackend, waitFor } from './cluster-fixtures';

const HEARTBEAT_SEC = 0.5;
const INACTIVE_SEC = 2;

/** Records the manager's callbacks. */
class Membership {
  readonly added: ClusterWorkerInfo[] = [];
  readonly removed: ClusterWorkerInfo[] = [];
  constructor(manager: DisaggClusterManager) {
    manager.onWorkerAdded((info) => this.added.push(info));
    manager.onWorkerRemoved((info) => this.removed.push(info));
  }
}

/** A storage that records every `set` call and can be told to fail (to test retries). */
class SpyStorage implements ClusterStorage {
  readonly sets: { key: string; options: SetOptions }[] = [];
  constructor(private readonly inner: ClusterStorage) {}
  set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    this.sets.push({ key, options });
    return this.inner.set(key, value, options);
  }
  get(key: string): Promise<string | null> {
    return this.inner.get(key);
  }
  delete(key: string): Promise<boolean> {
    return this.inner.delete(key);
  }
  expire(key: string, ttlSec: number): Promise<boolean> {
    return this.inner.expire(key, ttlSec);
  }
  getPrefix(prefix: string, options?: { keysOnly?: boolean }): Promise<Record<string, string>> {
    return this.inner.getPrefix(prefix, options);
  }
  watch(
    prefix: string,
    onEvent: Parameters<ClusterStorage['watch']>[1],
  ): ReturnType<ClusterStorage['watch']> {
    return this.inner.watch(prefix, onEvent);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Cluster {
  manager: DisaggClusterManager;
  /** A fresh worker-side client of the cluster (what a worker process would create). */
  workerStorage(): ClusterStorage;
  stop(): Promise<void>;
}

interface MembershipBackend {
  name: string;
  beforeAll(): Promise<void>;
  afterAll(): Promise<void>;
  cluster(
    clusterName: string,
    minimal: { context_servers: number; generation_servers: number },
  ): Promise<Cluster>;
}

function etcdMembership(): MembershipBackend {
  let uri = '';
  let stopEtcd: (() => Promise<void>) | null = null;
  return {
    name: 'etcd',
    async beforeAll() {
      const etcd = await startEtcdBackend();
      uri = etcd.uri;
      stopEtcd = etcd.stop;
    },
    async afterAll() {
      await stopEtcd?.();
    },
    cluster(clusterName, minimal) {
      const manager = new DisaggClusterManager({
        config: { cluster_uri: uri, cluster_name: clusterName, minimal_instances: minimal },
        log: () => undefined,
      });
      const clients: ClusterStorage[] = [];
      return Promise.resolve({
        manager,
        workerStorage: () => {
          const c = createClusterStorage(uri);
          clients.push(c);
          return c;
        },
        stop: async () => {
          await manager.stop();
          await Promise.all(clients.map((c) => c.close()));
        },
      });
    },
  };
}

function httpMembership(): MembershipBackend {
  return {
    name: 'http',
    beforeAll: () => Promise.resolve(),
    afterAll: () => Promise.resolve(),
    async cluster(clusterName, minimal) {
      const port = await getFreePort();
      const uri = `http://127.0.0.1:${port}`;
      const manager = new DisaggClusterManager({
        config: { cluster_uri: uri, cluster_name: clusterName, minimal_instances: minimal },
        log: () => undefined,
      });
      const store = manager.store;
      if (store === null) {
        throw new Error('an http:// cluster_uri must give the manager its own store');
      }
      const { server } = await serveStore(() => store, port);
      return {
        manager,
        workerStorage: () => createClusterStorage(uri),
        stop: async () => {
          await closeServer(server);
          await manager.stop();
        },
      };
    },
  };
}

describe.each([etcdMembership(), httpMembership()])(
  'disagg_cluster membership over $name',
  (backend) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    let clusterSeq = 0;

    beforeAll(() => backend.beforeAll());
    afterAll(() => backend.afterAll());
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function newCluster(
      minimal = { context_servers: 1, generation_servers: 1 },
    ): Promise<Cluster> {
      clusterSeq += 1;
      const cluster = await backend.cluster(`c${clusterSeq}-${Date.now()}`, minimal);
      cleanups.push(() => cluster.stop());
      return cluster;
    }

    function newWorker(
      cluster: Cluster,
      role: ClusterRoleName,
      port: number,
      storage: ClusterStorage = cluster.workerStorage(),
      config: { heartbeat_interval_sec?: number; inactive_timeout_sec?: number } = {},
    ): DisaggClusterWorker {
      const worker = new DisaggClusterWorker({
        role,
        host: '127.0.0.1',
        port,
        storage,
        config: {
          cluster_name: cluster.manager.prefix.split('/')[2] ?? '',
          heartbeat_interval_sec: config.heartbeat_interval_sec ?? HEARTBEAT_SEC,
          inactive_timeout_sec: config.inactive_timeout_sec ?? INACTIVE_SEC,
        },
        retryIntervalMs: 200,
        log: () => undefined,
      });
      cleanups.push(() => worker.stop());
      return worker;
    }

    it('reports workers registered before the manager started, then is ready', async () => {
      const cluster = await newCluster();
      const ctx = newWorker(cluster, 'CONTEXT', 8001);
      const gen = newWorker(cluster, 'GENERATION', 8002);
      expect(await ctx.register()).toBe(true);
      expect(await gen.register()).toBe(true);
      const seen = new Membership(cluster.manager);
      const existing = await cluster.manager.start();
      expect(existing).toEqual([ctx.workerInfo, gen.workerInfo]);
      expect(seen.added).toEqual([ctx.workerInfo, gen.workerInfo]);
      expect(cluster.manager.isReady()).toBe(true);
      expect(cluster.manager.clusterInfo()).toEqual({
        current_workers: {
          context_servers: [ctx.workerInfo],
          generation_servers: [gen.workerInfo],
        },
        minimal_instances: { context_servers: 1, generation_servers: 1 },
        is_ready: true,
      });
      expect(ctx.workerInfo).toEqual({
        worker_id: ctx.workerId,
        host: '127.0.0.1',
        port: 8001,
        role: 0,
      });
      expect(workerUrl(gen.workerInfo)).toBe('http://127.0.0.1:8002');
    });

    it('emits one SET per registration with the exact WorkerInfo, DELETE on deregistration, and flips readiness', async () => {
      const cluster = await newCluster({ context_servers: 2, generation_servers: 1 });
      const seen = new Membership(cluster.manager);
      expect(await cluster.manager.start()).toEqual([]);
      expect(cluster.manager.isReady()).toBe(false);

      const ctx1 = newWorker(cluster, 'CONTEXT', 9001);
      const gen1 = newWorker(cluster, 'GENERATION', 9002);
      const ctx2 = newWorker(cluster, 'CONTEXT', 9003);
      await ctx1.register();
      await gen1.register();
      await waitFor('two workers added', () => seen.added.length === 2);
      expect(cluster.manager.isReady()).toBe(false);
      await ctx2.register();
      await waitFor('three workers added', () => seen.added.length === 3);
      expect(seen.added).toEqual([ctx1.workerInfo, gen1.workerInfo, ctx2.workerInfo]);
      expect(cluster.manager.isReady()).toBe(true);

      expect(await gen1.deregister()).toBe(true);
      await waitFor('generation worker removed', () => seen.removed.length === 1);
      expect(seen.removed).toEqual([gen1.workerInfo]);
      expect(cluster.manager.isReady()).toBe(false);
      expect(cluster.manager.clusterInfo().current_workers).toEqual({
        context_servers: [ctx1.workerInfo, ctx2.workerInfo],
        generation_servers: [],
      });
      // Heartbeats of live workers must not produce duplicate SET events.
      await sleep(HEARTBEAT_SEC * 1_000 * 2);
      expect(seen.added).toHaveLength(3);
    });

    it('heartbeats keep a worker past inactive_timeout_sec; once they stop, DELETE follows the timeout', async () => {
      const cluster = await newCluster();
      const seen = new Membership(cluster.manager);
      await cluster.manager.start();
      const worker = newWorker(cluster, 'GENERATION', 9100);
      await worker.register();
      await sleep(INACTIVE_SEC * 1_000 + 500);
      expect(seen.removed).toEqual([]);
      expect(cluster.manager.workers('GENERATION')).toEqual([worker.workerInfo]);

      worker.stop();
      const stoppedAt = Date.now();
      await waitFor(
        'the silent worker to be removed',
        () => seen.removed.length === 1,
        (INACTIVE_SEC + 3) * 1_000,
      );
      // The key outlives the last heartbeat by about inactive_timeout_sec (minus up to one interval).
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(
        (INACTIVE_SEC - HEARTBEAT_SEC) * 1_000 - 200,
      );
      expect(seen.removed).toEqual([worker.workerInfo]);
      expect(cluster.manager.isReady()).toBe(false);
    });

    it('when the key disappears behind its back the worker re-registers with overwrite', async () => {
      const cluster = await newCluster();
      const seen = new Membership(cluster.manager);
      await cluster.manager.start();
      const spy = new SpyStorage(cluster.workerStorage());
      const worker = newWorker(cluster, 'CONTEXT', 9200, spy);
      await worker.register();
      await waitFor('worker added', () => seen.added.length === 1);
      expect(spy.sets).toEqual([
        { key: worker.workerKey, options: { ttlSec: INACTIVE_SEC, overwrite: false } },
      ]);

      expect(await cluster.workerStorage().delete(worker.workerKey)).toBe(true);
      await waitFor('worker removed', () => seen.removed.length === 1);
      await waitFor('worker re-added', () => seen.added.length === 2, 5_000);
      expect(seen.added[1]).toEqual(worker.workerInfo);
      expect(spy.sets[1]).toEqual({
        key: worker.workerKey,
        options: { ttlSec: INACTIVE_SEC, overwrite: true },
      });
      expect(cluster.manager.isReady()).toBe(false); // 1 ctx, 0 gen
      expect(cluster.manager.workers('CONTEXT')).toEqual([worker.workerInfo]);
    });
  },
);

describe('DisaggClusterWorker without a cluster', () => {
  const config = { cluster_name: 'solo', heartbeat_interval_sec: 1, inactive_timeout_sec: 2 };

  it('registration against an unreachable store without retry resolves false', async () => {
    const worker = new DisaggClusterWorker({
      role: 'CONTEXT',
      host: '127.0.0.1',
      port: 1,
      config,
      storage: createClusterStorage('http://127.0.0.1:9', { httpTimeoutMs: 1_000 }),
      log: () => undefined,
    });
    expect(await worker.register({ retry: false })).toBe(false);
    expect(worker.isRegistered).toBe(false);
  });

  it('retries registration until the proxy store comes up', async () => {
    const port = await getFreePort();
    const store = new MemoryClusterStore();
    const worker = new DisaggClusterWorker({
      role: 'GENERATION',
      host: '127.0.0.1',
      port: 2,
      config,
      storage: createClusterStorage(`http://127.0.0.1:${port}`),
      retryIntervalMs: 100,
      log: () => undefined,
    });
    let server: Server | null = null;
    try {
      const registered = worker.register();
      await sleep(300);
      expect(worker.isRegistered).toBe(false);
      server = (await serveStore(() => store, port)).server;
      expect(await registered).toBe(true);
      expect(await store.get(worker.workerKey)).toBe(JSON.stringify(worker.workerInfo));
    } finally {
      worker.stop();
      if (server) await closeServer(server);
      await store.close();
    }
  });

  it('a proxy restart (new empty store on the same port) makes workers re-register', async () => {
    const port = await getFreePort();
    const first = new MemoryClusterStore();
    let server = (await serveStore(() => first, port)).server;
    const worker = new DisaggClusterWorker({
      role: 'CONTEXT',
      host: '127.0.0.1',
      port: 3,
      config: { cluster_name: 'restart', heartbeat_interval_sec: 0.3, inactive_timeout_sec: 2 },
      storage: createClusterStorage(`http://127.0.0.1:${port}`),
      retryIntervalMs: 100,
      log: () => undefined,
    });
    const second = new MemoryClusterStore();
    try {
      await worker.register();
      await closeServer(server);
      await first.close();
      server = (await serveStore(() => second, port)).server;
      await waitFor(
        'the worker to re-register in the new store',
        async () => (await second.get(worker.workerKey)) !== null,
      );
    } finally {
      worker.stop();
      await closeServer(server);
      await second.close();
    }
  });

  it.each([
    [0, 2],
    [2, 2],
    [3, 2],
    [-1, 2],
  ])(
    'heartbeat_interval_sec %d with inactive_timeout_sec %d disables heartbeats with a warning',
    async (hb, ttl) => {
      const store = new MemoryClusterStore();
      const warnings: string[] = [];
      const spy = new SpyStorage(store);
      let expires = 0;
      spy.expire = (key, sec) => {
        expires += 1;
        return store.expire(key, sec);
      };
      const worker = new DisaggClusterWorker({
        role: 'CONTEXT',
        host: 'h',
        port: 4,
        config: { cluster_name: 'nohb', heartbeat_interval_sec: hb, inactive_timeout_sec: ttl },
        storage: spy,
        log: (level: ClusterLogLevel, message: string) => {
          if (level === 'warn') warnings.push(message);
        },
      });
      try {
        expect(await worker.register()).toBe(true);
        expect(worker.heartbeatEnabled).toBe(false);
        expect(warnings.join('\n')).toMatch(/heartbeat is disabled/);
        await sleep(300);
        expect(expires).toBe(0);
      } finally {
        worker.stop();
        await store.close();
      }
    },
  );

  it('deregister deletes the key and stops heartbeats', async () => {
    const store = new MemoryClusterStore();
    const worker = new DisaggClusterWorker({
      role: 'GENERATION',
      host: 'h',
      port: 5,
      config: { cluster_name: 'dereg', heartbeat_interval_sec: 0.1, inactive_timeout_sec: 2 },
      storage: store,
      log: () => undefined,
    });
    try {
      await worker.register();
      expect(await store.get(worker.workerKey)).not.toBeNull();
      expect(await worker.deregister()).toBe(true);
      expect(await store.get(worker.workerKey)).toBeNull();
      await sleep(300);
      // No heartbeat revived it.
      expect(await store.get(worker.workerKey)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
