// The fleet's KV event feed over a fake IPC hub (FIFO queues, delivered on flush): one poller's rounds
// reach every process's kv_cache_aware router in order, joiners and restarted processes get the fleet's
// picture, membership changes ask for the new workers' blocks, and malformed messages are refused.
import { afterEach, describe, expect, it } from 'vitest';

import type {
  FleetChannel,
  FleetKvMessage,
  FleetPeers,
} from '../../../../electron/core/proxy/fleet-kv-feed';
import {
  fleetKvMessageOf,
  FleetKvRelay,
  FleetKvSource,
} from '../../../../electron/core/proxy/fleet-kv-feed';
import type {
  KvEventFetch,
  KvEventSourceFactory,
} from '../../../../electron/core/proxy/kv-event-feed';
import { KvEventPoller } from '../../../../electron/core/proxy/kv-event-feed';
import type { ProxyServerOptions } from '../../../../electron/core/proxy/proxy-options';
import { resolveLimits } from '../../../../electron/core/proxy/proxy-options';
import { Upstreams } from '../../../../electron/core/proxy/upstreams';
import type { KvCacheAwareRouter } from '../../../../shared/logic/routers/kv-cache-aware';

const A = 'http://127.0.0.1:1001';
const B = 'http://127.0.0.1:1002';
const C = 'http://127.0.0.1:1003';
/** Above 2^53: must survive the JSON text, the IPC and the snapshot exactly. */
const BIG = 18446744073709551557n;
const noLog = (): void => undefined;

const stored = (...hashes: bigint[]): string =>
  `{"event_id":1,"data":{"type":"stored","parent_hash":null,"blocks":[${hashes
    .map((h) => `{"type":"stored_block","block_hash":${h.toString()}}`)
    .join(',')}]},"window_size":2048}`;
const removed = (...hashes: bigint[]): string =>
  `{"event_id":2,"data":{"type":"removed","block_hashes":[${hashes.map(String).join(',')}]},"window_size":2048}`;

/** node:cluster's channels as FIFO queues; nothing moves until flush(). */
class FakeHub {
  readonly relay: FleetKvRelay;
  private readonly toPrimary: Array<{ from: number; msg: unknown }> = [];
  private readonly toProcess = new Map<number, unknown[]>();
  private readonly listeners = new Map<number, (msg: unknown) => void>();
  readonly sentByProcess: FleetKvMessage[] = [];

  constructor() {
    const peers: FleetPeers = {
      // IPC is JSON: a message that does not survive it would not reach the process either.
      send: (i, msg) => this.toProcess.get(i)?.push(JSON.parse(JSON.stringify(msg))),
      indices: () => [...this.toProcess.keys()],
    };
    this.relay = new FleetKvRelay(peers, noLog);
  }

  channel(index: number): FleetChannel {
    this.toProcess.set(index, []);
    return {
      send: (msg) => {
        this.sentByProcess.push(msg);
        this.toPrimary.push({ from: index, msg: JSON.parse(JSON.stringify(msg)) });
      },
      subscribe: (cb) => {
        this.listeners.set(index, cb);
        return () => this.listeners.delete(index);
      },
    };
  }

  /** A process died: its queue and listener go (a restart registers a new channel). */
  drop(index: number): void {
    this.toProcess.delete(index);
    this.listeners.delete(index);
  }

  flush(): void {
    while (this.toPrimary.length > 0 || [...this.toProcess.values()].some((q) => q.length > 0)) {
      for (const { from, msg } of this.toPrimary.splice(0)) this.relay.handle(from, msg);
      for (const [i, q] of this.toProcess) {
        for (const msg of q.splice(0)) this.listeners.get(i)?.(msg);
      }
    }
  }
}

/** A fake worker queue per url, drained by each fetch like `POST /kv_cache_events`. */
class FakeWorkers {
  readonly queues = new Map<string, string[]>();
  readonly fetch: KvEventFetch = (w) => {
    const q = this.queues.get(w.url) ?? [];
    this.queues.set(w.url, []);
    return Promise.resolve(`[${q.join(',')}]`);
  };

  report(url: string, event: string): void {
    this.queues.set(url, [...(this.queues.get(url) ?? []), event]);
  }
}

/** A proxy with a kv_cache_aware context pool over `urls`, its KV events from `source`. */
function kvUpstreams(urls: string[], source: KvEventSourceFactory): Upstreams {
  const options: ProxyServerOptions = {
    host: '127.0.0.1',
    port: 0,
    contextUrls: urls,
    generationUrls: ['127.0.0.1:2001'],
    contextRouter: {
      type: 'kv_cache_aware',
      use_tokens: false,
      max_batch_size: 64,
      tokens_per_block: 32,
    },
    log: noLog,
    kvEventSource: source,
  };
  return new Upstreams(options, resolveLimits(options), noLog);
}

describe('fleet kv feed', () => {
  const opened: Upstreams[] = [];
  afterEach(() => {
    for (const u of opened.splice(0)) u.close();
  });

  /** One fleet process's Upstreams (kv_cache_aware context pool) fed by a FleetKvSource on the hub. */
  function fleetProcess(
    hub: FakeHub,
    index: number,
    urls: string[],
    workers?: FakeWorkers,
  ): { upstreams: Upstreams; router: () => KvCacheAwareRouter; poller?: KvEventPoller } {
    let poller: KvEventPoller | undefined;
    const upstreams = kvUpstreams(urls, (_local, log) => {
      // The test drives the rounds with pollOnce; the timer never fires within a test.
      poller = workers ? new KvEventPoller(1_000_000, log, workers.fetch) : undefined;
      return new FleetKvSource(hub.channel(index), poller, log);
    });
    opened.push(upstreams);
    upstreams.start();
    return {
      upstreams,
      router: () => upstreams.context.getRouter() as KvCacheAwareRouter,
      poller,
    };
  }

  it("gives every process the poller's events, in the worker's order, and polls only in process 0", async () => {
    const hub = new FakeHub();
    const workers = new FakeWorkers();
    const p0 = fleetProcess(hub, 0, [A, B], workers);
    const p1 = fleetProcess(hub, 1, [A, B]);
    const p2 = fleetProcess(hub, 2, [A, B]);
    hub.flush();
    expect(p1.poller).toBeUndefined();

    workers.report(A, stored(1n, 2n, BIG));
    workers.report(B, stored(7n));
    await p0.poller?.pollOnce();
    // Stored then removed within one round, and across rounds: order decides what is left.
    workers.report(A, removed(1n));
    workers.report(A, stored(1n));
    workers.report(B, removed(7n));
    await p0.poller?.pollOnce();
    hub.flush();

    for (const p of [p0, p1, p2]) {
      expect(new Set(p.router().blockHashes(A))).toEqual(new Set([1n, 2n, BIG]));
      expect(p.router().blockHashes(B)).toEqual([]);
    }
    expect(hub.relay.blockCount(A)).toBe(3);
    // Rounds go to the primary once each; nothing per request.
    expect(hub.sentByProcess.filter((m) => m.type === 'disagg-kv-round')).toHaveLength(2);
  });

  it('gives a process that starts late, or restarts, the current picture', async () => {
    const hub = new FakeHub();
    const workers = new FakeWorkers();
    const p0 = fleetProcess(hub, 0, [A, B], workers);
    hub.flush();
    workers.report(A, stored(10n, 11n));
    workers.report(B, stored(BIG));
    await p0.poller?.pollOnce();
    hub.flush();

    const late = fleetProcess(hub, 1, [A, B]);
    // A round sent after its snapshot request reaches it after the snapshot and applies on top of it.
    workers.report(A, removed(10n));
    await p0.poller?.pollOnce();
    hub.flush();
    expect(late.router().blockHashes(A)).toEqual([11n]);
    expect(late.router().blockHashes(B)).toEqual([BIG]);

    // The poller itself dies and comes back: its replacement starts from the fleet's picture.
    p0.upstreams.close();
    hub.drop(0);
    const p0b = fleetProcess(hub, 0, [A, B], workers);
    hub.flush();
    expect(p0b.router().blockHashes(A)).toEqual([11n]);
    expect(p0b.router().blockHashes(B)).toEqual([BIG]);
  });

  it('asks for the blocks of a worker a process gains, and the primary forgets one no longer polled', async () => {
    const hub = new FakeHub();
    const workers = new FakeWorkers();
    const p0 = fleetProcess(hub, 0, [A, B, C], workers);
    // Process 1 does not know C yet (its membership source is behind process 0's).
    const p1 = fleetProcess(hub, 1, [A, B]);
    hub.flush();
    workers.report(C, stored(5n, 6n));
    await p0.poller?.pollOnce();
    hub.flush();
    expect(p1.router().blockHashes(C)).toEqual([]);

    p1.upstreams.addWorker('context', C);
    hub.flush();
    expect(new Set(p1.router().blockHashes(C))).toEqual(new Set([5n, 6n]));
    const requests = hub.sentByProcess.filter((m) => m.type === 'disagg-kv-snapshot-request');
    expect(requests.at(-1)).toEqual({ type: 'disagg-kv-snapshot-request', urls: [C] });

    p0.upstreams.removeWorker('context', C);
    await p0.poller?.pollOnce();
    hub.flush();
    expect(hub.relay.blockCount(C)).toBe(0);
    expect(hub.relay.snapshot([C]).workers).toEqual([{ url: C, hashes: [] }]);
  });

  it('never lets a snapshot overwrite a round the poller polled after asking for it', async () => {
    const hub = new FakeHub();
    const workers = new FakeWorkers();
    const p0 = fleetProcess(hub, 0, [A], workers);
    hub.flush();
    // Process 0 gains C: its snapshot request is still on the way when it polls C's first events.
    p0.upstreams.addWorker('context', C);
    workers.report(C, stored(8n, BIG));
    await p0.poller?.pollOnce();
    hub.flush();
    expect(new Set(p0.router().blockHashes(C))).toEqual(new Set([8n, BIG]));
  });

  it('refuses malformed feed messages with what is wrong, and ignores other channel traffic', () => {
    expect(fleetKvMessageOf({ type: 'cost', cpuUs: 1 })).toBeUndefined();
    expect(fleetKvMessageOf('text')).toBeUndefined();
    expect(() =>
      fleetKvMessageOf({ type: 'disagg-kv-round', urls: [A], batches: [{ url: A }] }),
    ).toThrow(/batches: \{url, body\}/);
    expect(() =>
      fleetKvMessageOf({ type: 'disagg-kv-snapshot', workers: [{ url: A, hashes: ['0x1f'] }] }),
    ).toThrow(/decimal string/);
    expect(() => fleetKvMessageOf({ type: 'disagg-kv-snapshot-request', urls: A })).toThrow(
      /urls: string\[\]/,
    );
    // The relay logs and drops a bad one; nothing is forwarded.
    const sent: number[] = [];
    const relay = new FleetKvRelay({ send: (i) => sent.push(i), indices: () => [0, 1] }, noLog);
    relay.handle(0, { type: 'disagg-kv-round', urls: 'x', batches: [] });
    expect(sent).toEqual([]);
  });

  it('a lone proxy polls for itself: a bad answer is skipped, the others applied', async () => {
    const workers = new FakeWorkers();
    const poller = new KvEventPoller(1_000_000, noLog, (w) =>
      w.url === B ? Promise.resolve('{"not": "an array"}') : workers.fetch(w),
    );
    const upstreams = kvUpstreams([A, B], () => poller);
    opened.push(upstreams);
    upstreams.start();
    workers.report(A, stored(3n));
    const round = await poller.pollOnce();
    expect(round).toEqual({ urls: [A, B], batches: [{ url: A, body: `[${stored(3n)}]` }] });
    const router = upstreams.context.getRouter() as KvCacheAwareRouter;
    expect(router.blockHashes(A)).toEqual([3n]);
    expect(router.blockHashes(B)).toEqual([]);
  });
});
