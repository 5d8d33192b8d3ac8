// Where the kv_cache_aware routers' block sets come from: an injected KV event source. A lone proxy (the
// CLI with one process, the console's worker thread) polls every worker's `POST /kv_cache_events` itself
// (`KvEventPoller`); a fleet process gets the same events through the fleet's feed (fleet-kv-feed.ts),
// because a poll DRAINS the worker's queue and N pollers would each see about 1/N of the events.
// The routers stay pure: a source only calls the sink below. Layer: core.
import { parseJsonLossless } from '../../../shared/logic/lossless-json';
import type { ProxyLog } from './proxy-options';
import { getUpstream } from './upstream-client';
import type { WorkerEndpoint } from './worker-pool';

/** What a KV event source feeds: the kv_cache_aware routers of one proxy (Upstreams implements it). */
export interface KvEventSink {
  /** The workers whose events matter now: members of a kv_cache_aware pool, one endpoint per url. */
  kvWorkers(): WorkerEndpoint[];
  /** Applies one worker's events, in their order, to every kv_cache_aware router that has the worker. */
  applyKvEvents(url: string, events: readonly unknown[]): void;
  /** Replaces one worker's known blocks (a fleet snapshot for a process that joined late). */
  replaceKvBlocks(url: string, hashes: readonly bigint[]): void;
}

/** One worker's drained events as the worker sent them (the JSON text, so 64-bit hashes stay exact). */
export interface KvEventBatch {
  url: string;
  body: string;
}

/** One poll over every worker: the urls polled, and the batches of those that reported events. */
export interface KvPollRound {
  urls: string[];
  batches: KvEventBatch[];
}

export interface KvEventSource {
  /** Starts feeding `sink`; a second call does nothing. */
  start(sink: KvEventSink): void;
  stop(): void;
  /** The kv_cache_aware membership changed (a worker added or removed, a router switched). */
  membersChanged(): void;
}

/** Builds the proxy's source from the local poller it would otherwise use (ProxyServerOptions.kvEventSource). */
export type KvEventSourceFactory = (localPoller: KvEventPoller, log: ProxyLog) => KvEventSource;

/** The events of a `/kv_cache_events` answer; throws when the text is no JSON array. */
export function parseKvEventsBody(body: string): unknown[] {
  const events = parseJsonLossless(body);
  if (!Array.isArray(events)) throw new Error('the answer is not a JSON array');
  return events as unknown[];
}

/** Drains one worker's event queue; undefined when it did not answer 200. */
export type KvEventFetch = (worker: WorkerEndpoint) => Promise<string | undefined>;

const POLL_TIMEOUT_MS = 2_000;

const fetchOverPool: KvEventFetch = async (w) => {
  const r = await getUpstream(w, '/kv_cache_events', POLL_TIMEOUT_MS, 'POST');
  return r && r.status === 200 ? r.body.toString('utf8') : undefined;
};

/**
 * Polls every kv_cache_aware worker every `intervalMs` (upstream Oct 2025 never polled, 6.3): all workers,
 * not only those we sent to, since other clients fill caches too. Rounds never overlap, so one worker's
 * events are applied in the order it reported them. `onRound` sees each round after it was applied.
 */
export class KvEventPoller implements KvEventSource {
  private timer: NodeJS.Timeout | undefined;
  private sink: KvEventSink | undefined;
  private onRound: ((round: KvPollRound) => void) | undefined;
  private isStopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly log: ProxyLog,
    private readonly fetchEvents: KvEventFetch = fetchOverPool,
  ) {}

  start(sink: KvEventSink, onRound?: (round: KvPollRound) => void): void {
    if (this.sink || this.isStopped) return;
    this.sink = sink;
    this.onRound = onRound;
    this.schedule();
  }

  stop(): void {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  membersChanged(): void {
    // The next round asks the sink for the members again.
  }

  /** One round: drains every worker, applies what came back in worker order, reports the round. */
  async pollOnce(): Promise<KvPollRound> {
    const sink = this.sink;
    if (!sink) throw new Error('KvEventPoller.pollOnce before start');
    const workers = sink.kvWorkers();
    const bodies = await Promise.all(workers.map((w) => this.fetchEvents(w)));
    const round: KvPollRound = { urls: workers.map((w) => w.url), batches: [] };
    workers.forEach((w, i) => {
      const body = bodies[i];
      if (body === undefined || w.isRemoved) return;
      let events: unknown[];
      try {
        events = parseKvEventsBody(body);
      } catch (err) {
        this.log('debug', `bad /kv_cache_events from ${w.url}: ${String(err)}`);
        return;
      }
      if (events.length === 0) return;
      sink.applyKvEvents(w.url, events);
      round.batches.push({ url: w.url, body });
    });
    this.onRound?.(round);
    return round;
  }

  private schedule(): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.pollOnce().then(
        () => this.schedule(),
        (err: unknown) => {
          this.log('debug', `kv event poll failed: ${String(err)}`);
          this.schedule();
        },
      );
    }, this.intervalMs);
    this.timer.unref();
  }
}
