// In-process details of the proxy's in-memory store (expiry with an injected clock) and of the manager's
// event handling (bad values, unknown roles, updates, events racing the initial read). Fast: no sockets.
import { afterEach, describe, expect, it } from 'vitest';

import type {
  ClusterLogLevel,
  StorageWatchEvent,
} from '../../../../electron/core/cluster/cluster-storage';
import { DisaggClusterManager } from '../../../../electron/core/cluster/disagg-cluster-manager';
import { MemoryClusterStore } from '../../../../electron/core/cluster/memory-cluster-store';
import {
  encodeWorkerInfo,
  workerKey,
  workersPrefix,
} from '../../../../shared/logic/disagg-cluster-keys';

const stores: MemoryClusterStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function clockedStore(): {
  store: MemoryClusterStore;
  advance: (ms: number) => void;
  events: StorageWatchEvent[];
} {
  let now = 1_000;
  // A sweep interval far beyond the test, so only explicit sweeps and reads expire keys.
  const store = new MemoryClusterStore({ nowMs: () => now, sweepIntervalMs: 3_600_000 });
  stores.push(store);
  const events: StorageWatchEvent[] = [];
  void store.watch('', (e) => events.push(e));
  return { store, advance: (ms) => (now += ms), events };
}

describe('MemoryClusterStore expiry', () => {
  it('get of an expired key deletes it and announces DELETE before any sweep', async () => {
    const { store, advance, events } = clockedStore();
    await store.set('k', 'v', { ttlSec: 2 });
    advance(1_999);
    expect(await store.get('k')).toBe('v');
    advance(1);
    expect(await store.get('k')).toBeNull();
    expect(events).toEqual([
      { type: 'SET', key: 'k', value: 'v' },
      { type: 'DELETE', key: 'k', value: 'v' },
    ]);
    expect(store.size).toBe(0);
  });

  it('sweep deletes every expired key with one DELETE each, and keeps refreshed and TTL-less keys', async () => {
    const { store, advance, events } = clockedStore();
    await store.set('a', '1', { ttlSec: 1 });
    await store.set('b', '2', { ttlSec: 1 });
    await store.set('kept', '3', { ttlSec: 1 });
    await store.set('forever', '4');
    advance(900);
    expect(await store.expire('kept', 1)).toBe(true);
    advance(200);
    store.sweep();
    store.sweep();
    expect(events.filter((e) => e.type === 'DELETE').map((e) => e.key)).toEqual(['a', 'b']);
    expect(await store.getPrefix('')).toEqual({ kept: '3', forever: '4' });
  });

  it('an expired key counts as absent for set without overwrite and for expire', async () => {
    const { store, advance } = clockedStore();
    await store.set('k', 'old', { ttlSec: 1 });
    advance(1_000);
    expect(await store.expire('k', 5)).toBe(false);
    expect(await store.set('k', 'new')).toBe(true);
    expect(await store.get('k')).toBe('new');
  });

  it('a throwing watch callback does not stop the others', async () => {
    const store = new MemoryClusterStore({ log: () => undefined });
    stores.push(store);
    const seen: string[] = [];
    await store.watch('p/', () => {
      throw new Error('boom');
    });
    await store.watch('p/', (e) => seen.push(e.key));
    expect(await store.set('p/x', 'v')).toBe(true);
    expect(seen).toEqual(['p/x']);
  });
});

describe('DisaggClusterManager event handling', () => {
  const cluster = 'unit';
  const prefix = workersPrefix(cluster);
  const info = (id: string, role: number, port = 1) => ({ worker_id: id, host: 'h', port, role });

  function newManager(store: MemoryClusterStore, logs: string[] = []) {
    const manager = new DisaggClusterManager({
      config: {
        cluster_uri: 'http://127.0.0.1:1',
        cluster_name: cluster,
        minimal_instances: { context_servers: 1, generation_servers: 1 },
      },
      storage: store,
      log: (level: ClusterLogLevel, message: string) => logs.push(`${level}: ${message}`),
    });
    const added: string[] = [];
    const removed: string[] = [];
    manager.onWorkerAdded((w) => added.push(`${w.worker_id}:${w.port}`));
    manager.onWorkerRemoved((w) => removed.push(`${w.worker_id}:${w.port}`));
    return { manager, added, removed };
  }

  it('ignores unreadable values and MM_ENCODER workers, logging an error', async () => {
    const store = new MemoryClusterStore();
    stores.push(store);
    const logs: string[] = [];
    const { manager, added } = newManager(store, logs);
    await manager.start();
    await store.set(`${prefix}/bad`, 'not json');
    await store.set(`${prefix}/enc`, encodeWorkerInfo(info('enc', 2)));
    await store.set(`${prefix}/ctx`, encodeWorkerInfo(info('ctx', 0)));
    expect(added).toEqual(['ctx:1']);
    expect(logs.filter((l) => l.startsWith('error:'))).toHaveLength(2);
    await manager.stop();
  });

  it('a SET with a changed value for a known key is a removal then an addition; the same value is nothing', async () => {
    const store = new MemoryClusterStore();
    stores.push(store);
    const { manager, added, removed } = newManager(store);
    await manager.start();
    const key = workerKey(cluster, 'g');
    await store.set(key, encodeWorkerInfo(info('g', 1, 10)));
    await store.set(key, encodeWorkerInfo(info('g', 1, 10)), { overwrite: true });
    await store.set(key, encodeWorkerInfo(info('g', 1, 11)), { overwrite: true });
    expect(added).toEqual(['g:10', 'g:11']);
    expect(removed).toEqual(['g:10']);
    expect(manager.workers('GENERATION').map((w) => w.port)).toEqual([11]);
    await manager.stop();
  });

  it('events that arrive during the initial read are applied after it, in order', async () => {
    const store = new MemoryClusterStore();
    stores.push(store);
    await store.set(workerKey(cluster, 'early'), encodeWorkerInfo(info('early', 0)));
    const realGetPrefix = store.getPrefix.bind(store);
    store.getPrefix = async (p, o) => {
      const snapshot = await realGetPrefix(p, o);
      // Registered and removed while the proxy was reading: seen by the watch only.
      await store.set(workerKey(cluster, 'racer'), encodeWorkerInfo(info('racer', 1)));
      await store.delete(workerKey(cluster, 'early'));
      return snapshot;
    };
    const { manager, added, removed } = newManager(store);
    const existing = await manager.start();
    expect(existing.map((w) => w.worker_id)).toEqual(['racer']);
    expect(added).toEqual(['early:1', 'racer:1']);
    expect(removed).toEqual(['early:1']);
    expect(manager.clusterInfo().current_workers).toEqual({
      context_servers: [],
      generation_servers: [info('racer', 1)],
    });
    await manager.stop();
  });

  it('an http:// cluster_uri gives the manager its own store, closed by stop(); etcd:// does not', async () => {
    const http = new DisaggClusterManager({
      config: {
        cluster_uri: 'http://127.0.0.1:8000',
        cluster_name: '',
        minimal_instances: { context_servers: 1, generation_servers: 1 },
      },
      log: () => undefined,
    });
    expect(http.store).toBeInstanceOf(MemoryClusterStore);
    expect(http.prefix).toBe('/trtllm-disagg//workers');
    await http.stop();
    const etcd = new DisaggClusterManager({
      config: {
        cluster_uri: 'etcd://127.0.0.1:2379',
        cluster_name: 'x',
        minimal_instances: { context_servers: 1, generation_servers: 1 },
      },
      log: () => undefined,
    });
    expect(etcd.store).toBeNull();
    await etcd.stop();
  });
});
