// Polls each worker's `/metrics` (iteration stats, trtllm-protocol.md 4.5) for active and queued requests,
// KV cache usage and hit rate (feature O1). The endpoint returns a JSON array of the iterations since the last
// read and drains it, so it is polled often and only by the console; an empty array means the worker ran no
// iteration (idle). Workers without `enable_iter_perf_stats: true` always answer `[]`. Layer: core.

import { RingSeries } from '../../../shared/logic/series';
import type { WorkerIterationSample } from '../../../shared/model/metrics';

/** Parses one `/metrics` answer into a sample from its newest iteration; null when it is not an array. */
export function parseIterationStats(body: unknown, atMs: number): WorkerIterationSample | null {
  if (!Array.isArray(body)) return null;
  if (body.length === 0) return { atMs, activeRequests: 0, queuedRequests: 0, kvCacheUsage: null, kvCacheHitRate: null };
  const last = body[body.length - 1] as Record<string, unknown> | null;
  if (typeof last !== 'object' || last === null) return null;
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const kv = (typeof last.kvCacheStats === 'object' && last.kvCacheStats !== null ? last.kvCacheStats : {}) as Record<string, unknown>;
  const maxBlocks = num(kv.maxNumBlocks);
  const usedBlocks = num(kv.usedNumBlocks) ?? (maxBlocks !== null && num(kv.freeNumBlocks) !== null ? maxBlocks - (num(kv.freeNumBlocks) as number) : null);
  let hitRate = num(kv.cacheHitRate);
  if (hitRate === null) {
    const reused = num(kv.reusedBlocks);
    const missed = num(kv.missedBlocks);
    if (reused !== null && missed !== null && reused + missed > 0) hitRate = reused / (reused + missed);
  }
  return {
    atMs,
    activeRequests: num(last.numActiveRequests),
    queuedRequests: num(last.numQueuedRequests),
    kvCacheUsage: maxBlocks !== null && maxBlocks > 0 && usedBlocks !== null ? Math.min(1, Math.max(0, usedBlocks / maxBlocks)) : null,
    kvCacheHitRate: hitRate === null ? null : Math.min(1, Math.max(0, hitRate)),
  };
}

/** One worker to poll. */
export interface PolledWorker {
  id: string;
  /** `http://host:port` */
  url: string;
}

/** Options of createWorkerMetricsPoller. */
export interface WorkerMetricsPollerOptions {
  /** The workers to poll now (called on every round). */
  workers: () => PolledWorker[];
  intervalMs?: number;
  /** Per request; upstream waits up to 2 s on an empty stats queue before answering. */
  timeoutMs?: number;
  /** Samples kept per worker; default 3600. */
  capacity?: number;
  now?: () => number;
  fetchImpl?: typeof fetch;
}

/** The running poller. */
export interface WorkerMetricsPoller {
  /** Samples of one worker, oldest first. */
  samples(workerId: string): WorkerIterationSample[];
  /** The newest sample of every worker. */
  latest(): Record<string, WorkerIterationSample>;
  /** One round now (also what the timer runs). */
  pollOnce(): Promise<void>;
  stop(): void;
}

/** Starts polling every intervalMs (unref'd timer); one round at a time. */
export function createWorkerMetricsPoller(opts: WorkerMetricsPollerOptions): WorkerMetricsPoller {
  const intervalMs = opts.intervalMs ?? 2000;
  const timeoutMs = opts.timeoutMs ?? 3000;
  const capacity = opts.capacity ?? 3600;
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetchImpl ?? fetch;
  const series = new Map<string, RingSeries<WorkerIterationSample>>();
  let round: Promise<void> | null = null;
  let isStopped = false;

  const pollOne = async (w: PolledWorker): Promise<void> => {
    let body: unknown;
    try {
      const res = await doFetch(`${w.url.replace(/\/+$/, '')}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 200) {
        await res.arrayBuffer().catch(() => undefined);
        return;
      }
      body = await res.json();
    } catch {
      // A worker that is starting, stopping or gone has no stats this round; its health is shown elsewhere.
      return;
    }
    const sample = parseIterationStats(body, now());
    if (!sample) return;
    let s = series.get(w.id);
    if (!s) {
      s = new RingSeries(capacity);
      series.set(w.id, s);
    }
    // An idle round (no iteration) says nothing about the KV cache: keep the last known usage and hit rate.
    const prev = s.last();
    if (prev && sample.kvCacheUsage === null) sample.kvCacheUsage = prev.kvCacheUsage;
    if (prev && sample.kvCacheHitRate === null) sample.kvCacheHitRate = prev.kvCacheHitRate;
    s.push(sample);
  };

  const pollOnce = (): Promise<void> => {
    round ??= (async () => {
      const workers = opts.workers();
      const ids = new Set(workers.map((w) => w.id));
      for (const id of series.keys()) if (!ids.has(id)) series.delete(id);
      await Promise.all(workers.map(pollOne));
    })().finally(() => {
      round = null;
    });
    return round;
  };

  const timer = setInterval(() => {
    if (!isStopped) void pollOnce();
  }, intervalMs);
  timer.unref();

  return {
    samples: (id) => series.get(id)?.toArray() ?? [],
    latest() {
      const out: Record<string, WorkerIterationSample> = {};
      for (const [id, s] of series) {
        const last = s.last();
        if (last) out[id] = last;
      }
      return out;
    },
    pollOnce,
    stop() {
      isStopped = true;
      clearInterval(timer);
    },
  };
}
