// One KV event poller for every router of a `proxy --workers N` fleet (issue #16). A poll of
// `/kv_cache_events` drains the worker's queue, so N polling processes would each learn about 1/N of the
// cached blocks. Instead process 0 polls (as a lone proxy does) and sends each round to the cluster
// primary; the primary keeps the fleet's picture (every worker's block set) and sends the round to every
// process, process 0 included; the others do not poll. A process that starts (or restarts, or gains a
// worker) asks the primary for a snapshot of those workers' blocks and replaces its own with it.
// Ordering: one poller whose rounds never overlap, and node:cluster's IPC channels are FIFO in each
// direction, so every process applies one worker's events in the worker's order, and a snapshot reflects
// exactly the rounds sent to that process before it. Cost: one message per poll round with events (the
// workers' own JSON, a few KB), nothing per request. docs/performance.md, "Routing state across
// processes", says what else is shared. Layer: core (no electron).
import { decodeKvEvents } from '../../../shared/logic/routers/kv-cache-aware';
import type {
  KvEventPoller,
  KvEventSink,
  KvEventSource,
  KvEventSourceFactory,
  KvPollRound,
} from './kv-event-feed';
import { parseKvEventsBody } from './kv-event-feed';
import type { ProxyLog } from './proxy-options';

/** A round of the poller, passed on by the primary. */
export interface KvRoundMessage extends KvPollRound {
  type: 'disagg-kv-round';
}

/** A process asks for the fleet's blocks of some workers. */
export interface KvSnapshotRequest {
  type: 'disagg-kv-snapshot-request';
  urls: string[];
}

/** The primary's answer: each asked worker's blocks as decimal strings (IPC is JSON; hashes are 64-bit). */
export interface KvSnapshotMessage {
  type: 'disagg-kv-snapshot';
  workers: Array<{ url: string; hashes: string[] }>;
}

export type FleetKvMessage = KvRoundMessage | KvSnapshotRequest | KvSnapshotMessage;

/** A fleet process's side of the IPC channel to the primary (process.send / 'message'; a fake in tests). */
export interface FleetChannel {
  send(msg: FleetKvMessage): void;
  /** Subscribes to messages from the primary; returns the unsubscribe function. */
  subscribe(cb: (msg: unknown) => void): () => void;
}

/** The channel of this process when it is a node:cluster worker. */
export function processChannel(): FleetChannel {
  return {
    send(msg) {
      if (process.connected && process.send) process.send(msg);
    },
    subscribe(cb) {
      process.on('message', cb);
      return () => void process.off('message', cb);
    },
  };
}

/** The KV event source of fleet process `index` (ProxyServerOptions.kvEventSource): process 0 polls. */
export function fleetKvSourceFactory(index: number): KvEventSourceFactory {
  return (poller, log) =>
    new FleetKvSource(processChannel(), index === 0 ? poller : undefined, log);
}

/** The fleet message in `msg`, or undefined for anything else on the channel. Throws on a malformed one. */
export function fleetKvMessageOf(msg: unknown): FleetKvMessage | undefined {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const m = msg as Record<string, unknown>;
  const isStrings = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((x) => typeof x === 'string');
  switch (m['type']) {
    case 'disagg-kv-round': {
      const batches = m['batches'];
      const isBatch = (b: unknown): boolean =>
        typeof b === 'object' &&
        b !== null &&
        typeof (b as { url?: unknown }).url === 'string' &&
        typeof (b as { body?: unknown }).body === 'string';
      if (!isStrings(m['urls']) || !Array.isArray(batches) || !batches.every(isBatch)) {
        throw new Error('disagg-kv-round needs urls: string[] and batches: {url, body}[]');
      }
      return msg as KvRoundMessage;
    }
    case 'disagg-kv-snapshot-request':
      if (!isStrings(m['urls'])) throw new Error('disagg-kv-snapshot-request needs urls: string[]');
      return msg as KvSnapshotRequest;
    case 'disagg-kv-snapshot': {
      const ws = m['workers'];
      const isWorker = (w: unknown): boolean =>
        typeof w === 'object' &&
        w !== null &&
        typeof (w as { url?: unknown }).url === 'string' &&
        isStrings((w as { hashes?: unknown }).hashes) &&
        (w as { hashes: string[] }).hashes.every((h) => /^-?\d+$/.test(h));
      if (!Array.isArray(ws) || !ws.every(isWorker)) {
        throw new Error('disagg-kv-snapshot needs workers: {url, hashes: decimal string[]}[]');
      }
      return msg as KvSnapshotMessage;
    }
    default:
      return undefined;
  }
}

/**
 * A fleet process's KV event source: the poller's rounds as the primary sends them (the poller's own
 * included) and snapshots for the workers it did not know yet.
 */
export class FleetKvSource implements KvEventSource {
  private sink: KvEventSink | undefined;
  private unsubscribe: (() => void) | undefined;
  private known = new Set<string>();
  /** The urls of the last round sent: a round with no events is sent only when they changed. */
  private lastSentUrls: string[] = [];

  /** `poller`: this process polls (process 0); undefined: it only receives. */
  constructor(
    private readonly channel: FleetChannel,
    private readonly poller: KvEventPoller | undefined,
    private readonly log: ProxyLog,
  ) {}

  start(sink: KvEventSink): void {
    if (this.sink) return;
    this.sink = sink;
    this.unsubscribe = this.channel.subscribe((msg) => this.receive(msg));
    this.membersChanged();
    // The poller applies its own rounds when the primary sends them back, like every process: then
    // rounds and snapshots reach each process in one order (the primary's), and a snapshot answering a
    // request can never overwrite a round this process polled after asking.
    const pollOnly: KvEventSink = {
      kvWorkers: () => sink.kvWorkers(),
      applyKvEvents: () => undefined,
      replaceKvBlocks: () => undefined,
    };
    this.poller?.start(pollOnly, (round) => {
      if (round.batches.length > 0 || !sameSet(round.urls, this.lastSentUrls)) {
        this.lastSentUrls = round.urls;
        this.channel.send({ type: 'disagg-kv-round', ...round });
      }
    });
  }

  stop(): void {
    this.poller?.stop();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Asks for the fleet's picture of every worker this process has just gained (all of them at start). */
  membersChanged(): void {
    if (!this.sink) return;
    const now = new Set(this.sink.kvWorkers().map((w) => w.url));
    const gained = [...now].filter((u) => !this.known.has(u));
    this.known = now;
    if (gained.length > 0) this.channel.send({ type: 'disagg-kv-snapshot-request', urls: gained });
  }

  private receive(raw: unknown): void {
    const sink = this.sink;
    if (!sink) return;
    let msg: FleetKvMessage | undefined;
    try {
      msg = fleetKvMessageOf(raw);
    } catch (err) {
      this.log('warning', `ignored a bad kv feed message from the fleet primary: ${String(err)}`);
      return;
    }
    if (msg?.type === 'disagg-kv-snapshot') {
      for (const w of msg.workers) sink.replaceKvBlocks(w.url, w.hashes.map(BigInt));
      this.log('debug', `kv feed: snapshot of ${describeWorkers(msg)}`);
    } else if (msg?.type === 'disagg-kv-round') {
      for (const b of msg.batches) {
        try {
          const events = parseKvEventsBody(b.body);
          sink.applyKvEvents(b.url, events);
          this.log('debug', `kv feed: applied ${events.length} events of ${b.url}`);
        } catch (err) {
          this.log('debug', `kv feed: bad events of ${b.url}: ${String(err)}`);
        }
      }
    }
  }
}

function describeWorkers(msg: KvSnapshotMessage): string {
  if (msg.workers.length === 0) return 'no workers';
  return msg.workers.map((w) => `${w.url} (${w.hashes.length} blocks)`).join(', ');
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The primary's view of its processes, by fleet index. */
export interface FleetPeers {
  /** Sends to the live process at `index`; does nothing when none is there. */
  send(index: number, msg: FleetKvMessage): void;
  indices(): number[];
}

/**
 * The primary's side: keeps every polled worker's block set (as the rounds add them up) and sends each
 * round to every process, its sender included (see FleetKvSource). Workers no longer polled are forgotten.
 */
export class FleetKvRelay {
  private readonly blocks = new Map<string, Set<bigint>>();

  constructor(
    private readonly peers: FleetPeers,
    private readonly log: ProxyLog,
  ) {}

  /** Handles one message from process `from`; other traffic on the channel is ignored. */
  handle(from: number, raw: unknown): void {
    let msg: FleetKvMessage | undefined;
    try {
      msg = fleetKvMessageOf(raw);
    } catch (err) {
      this.log(
        'warning',
        `ignored a bad kv feed message from proxy process ${from}: ${String(err)}`,
      );
      return;
    }
    if (msg?.type === 'disagg-kv-round') this.relayRound(msg);
    else if (msg?.type === 'disagg-kv-snapshot-request') {
      this.peers.send(from, this.snapshot(msg.urls));
    }
  }

  /** The blocks the fleet knows for a worker (for tests and logs). */
  blockCount(url: string): number {
    return this.blocks.get(url)?.size ?? 0;
  }

  snapshot(urls: readonly string[]): KvSnapshotMessage {
    return {
      type: 'disagg-kv-snapshot',
      workers: urls.map((url) => ({
        url,
        hashes: [...(this.blocks.get(url) ?? [])].map((h) => h.toString()),
      })),
    };
  }

  private relayRound(msg: KvRoundMessage): void {
    for (const b of msg.batches) {
      let set = this.blocks.get(b.url);
      if (!set) this.blocks.set(b.url, (set = new Set()));
      try {
        for (const c of decodeKvEvents(parseKvEventsBody(b.body))) {
          for (const h of c.hashes) {
            if (c.op === 'stored') set.add(h);
            else set.delete(h);
          }
        }
      } catch (err) {
        this.log('debug', `kv feed: bad events of ${b.url}: ${String(err)}`);
      }
    }
    for (const url of [...this.blocks.keys()]) if (!msg.urls.includes(url)) this.blocks.delete(url);
    for (const i of this.peers.indices()) this.peers.send(i, msg);
  }
}
