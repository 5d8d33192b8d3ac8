// Polls each worker for active and queued requests, KV cache usage and hit rate (feature O1). Where the
// worker serves Prometheus text on `/prometheus/metrics` (TensorRT-LLM 1.1+ with `return_perf_metrics`,
// docs/upstream-versions.md section 4) its `trtllm_*` gauges are read; otherwise the JSON `/metrics`
// (iteration stats, trtllm-protocol.md 4.5), which returns the iterations since the last read and drains
// them, so it is polled often and only by the console; an empty array means the worker ran no iteration
// (idle). Workers without `enable_iter_perf_stats: true` always answer `[]`. Layer: core.

import {
  parsePrometheusText,
  type PromText,
  sampleValue,
} from '../../../shared/logic/prometheus-text';
import { RingSeries } from '../../../shared/logic/series';
import { dialectForVersionString, type TrtllmDialect } from '../../../shared/logic/trtllm-dialect';
import type { WorkerIterationSample } from '../../../shared/model/metrics';

/**
 * A sample from a worker's Prometheus text (upstream MetricsCollector names); null when the text has none of
 * the scheduler gauges (a release whose Prometheus route carries only per-request metrics).
 */
export function parsePrometheusSample(text: PromText, atMs: number): WorkerIterationSample | null {
  const running = sampleValue(text, 'trtllm_num_requests_running');
  const waiting = sampleValue(text, 'trtllm_num_requests_waiting');
  const usage = sampleValue(text, 'trtllm_kv_cache_utilization');
  const hitRate = sampleValue(text, 'trtllm_kv_cache_hit_rate');
  if (running === null && waiting === null && usage === null) return null;
  const unit = (v: number | null): number | null =>
    v === null || !Number.isFinite(v) ? null : Math.min(1, Math.max(0, v));
  return {
    atMs,
    activeRequests: running,
    queuedRequests: waiting,
    kvCacheUsage: unit(usage),
    kvCacheHitRate: unit(hitRate),
  };
}

/**
 * The dialect of the worker at `url` from its `GET /version` (`{"version": "x.y.z"}` on every release), with
 * the string it reported, or undefined when it does not answer one; the console then tries the binary's
 * `--version` (electron/core/workers/worker-versions.ts).
 */
export async function fetchWorkerDialect(
  url: string,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 3000,
): Promise<(TrtllmDialect & { reported: string }) | undefined> {
  try {
    const res = await fetchImpl(`${url.replace(/\/+$/, '')}/version`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { version?: unknown };
    if (typeof body.version !== 'string') return undefined;
    const dialect = dialectForVersionString(body.version);
    return dialect ? { ...dialect, reported: body.version } : undefined;
  } catch {
    return undefined;
  }
}

/** Parses one `/metrics` answer into a sample from its newest iteration; null when it is not an array. */
export function parseIterationStats(body: unknown, atMs: number): WorkerIterationSample | null {
  if (!Array.isArray(body)) return null;
  if (body.length === 0) {
    return { atMs, activeRequests: 0, queuedRequests: 0, kvCacheUsage: null, kvCacheHitRate: null };
  }
  const last = body[body.length - 1] as Record<string, unknown> | null;
  if (typeof last !== 'object' || last === null) return null;
  const num = (v: unknown): number | null =>
    typeof v === 'number' && Number.isFinite(v) ? v : null;
  const kv = (
    typeof last.kvCacheStats === 'object' && last.kvCacheStats !== null ? last.kvCacheStats : {}
  ) as Record<string, unknown>;
  const maxBlocks = num(kv.maxNumBlocks);
  const usedBlocks =
    num(kv.usedNumBlocks) ??
    (maxBlocks !== null && num(kv.freeNumBlocks) !== null
      ? maxBlocks - (num(kv.freeNumBlocks) as number)
      : null);
  let hitRate = num(kv.cacheHitRate);
  if (hitRate === null) {
    const reused = num(kv.reusedBlocks);
    const missed = num(kv.missedBlocks);
    if (reused !== null && missed !== null && reused + missed > 0) {
      hitRate = reused / (reused + missed);
    }
  }
  return {
    atMs,
    activeRequests: num(last.numActiveRequests),
    queuedRequests: num(last.numQueuedRequests),
    kvCacheUsage:
      maxBlocks !== null && maxBlocks > 0 && usedBlocks !== null
        ? Math.min(1, Math.max(0, usedBlocks / maxBlocks))
        : null,
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

  /** Workers whose `/prometheus/metrics` answered 404 or had no scheduler gauges: JSON `/metrics` only. */
  const jsonOnly = new Set<string>();

  /** The Prometheus sample of a worker, or undefined when this worker must be read from JSON. */
  const prometheusSample = async (
    w: PolledWorker,
  ): Promise<WorkerIterationSample | null | undefined> => {
    if (jsonOnly.has(w.id)) return undefined;
    const res = await doFetch(`${w.url.replace(/\/+$/, '')}/prometheus/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) {
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 404) jsonOnly.add(w.id);
      return res.status === 404 ? undefined : null;
    }
    const sample = parsePrometheusSample(parsePrometheusText(await res.text()), now());
    if (sample === null) jsonOnly.add(w.id);
    return sample ?? undefined;
  };

  const jsonSample = async (w: PolledWorker): Promise<WorkerIterationSample | null> => {
    const res = await doFetch(`${w.url.replace(/\/+$/, '')}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) {
      await res.arrayBuffer().catch(() => undefined);
      return null;
    }
    return parseIterationStats(await res.json(), now());
  };

  const pollOne = async (w: PolledWorker): Promise<void> => {
    let sample: WorkerIterationSample | null;
    try {
      const fromPrometheus = await prometheusSample(w);
      sample = fromPrometheus === undefined ? await jsonSample(w) : fromPrometheus;
    } catch {
      // A worker that is starting, stopping or gone has no stats this round; its health is shown elsewhere.
      return;
    }
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
