// The console's metrics (features O1, O2): proxy request records into per-second buckets (an hour in
// memory), closed 10 s windows appended to bounded history files, worker `/metrics` iteration stats, GPU
// samples, a `metrics:tick` per closed second, snapshots for a time range and CSV export. Layer: core.

import { RingSeries } from '../../../shared/logic/series';
import type { GpuSample } from '../../../shared/model/gpu';
import type {
  MetricsBucket,
  MetricsQuery,
  MetricsSnapshot,
  MetricsTick,
  WorkerIterationSample,
} from '../../../shared/model/metrics';
import type { ProxyRequestRecord } from '../proxy/types';
import { metricsToCsv } from './metrics-csv';
import {
  createMetricsHistory,
  HISTORY_STEP_MS,
  type HistoryLine,
  type MetricsHistory,
} from './metrics-history';
import {
  type BucketAccumulator,
  OVERALL_SCOPE,
  RequestMetrics,
  toMetricsBucket,
} from './request-metrics';
import {
  createWorkerMetricsPoller,
  type PolledWorker,
  type WorkerMetricsPoller,
} from './worker-metrics-poller';

/** Options of createMetricsService. */
export interface MetricsServiceOptions {
  /** History folder; null keeps nothing on disk. */
  historyDir: string | null;
  /** Hour files kept on disk. */
  historyMaxFiles?: number;
  /** Seconds at 1 s kept in memory; default 3600. */
  retentionSec?: number;
  workerIdOf: (url: string) => string | null;
  /** Workers whose `/metrics` are polled. */
  pollWorkers: () => PolledWorker[];
  pollIntervalMs?: number;
  onTick?: (tick: MetricsTick) => void;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/** The metrics service the backend owns. */
export interface MetricsService {
  addRecords(records: readonly ProxyRequestRecord[]): void;
  addGpuSamples(samples: readonly GpuSample[]): void;
  snapshot(query?: MetricsQuery): MetricsSnapshot;
  csv(query?: MetricsQuery): string;
  /** Latest iteration sample per worker. */
  latestIteration(): Record<string, WorkerIterationSample>;
  /** Closes the current windows (tick + history) now; used by dispose and tests. */
  flush(): void;
  dispose(): void;
}

// Records arrive in batches (the proxy batches every 200 ms) and a request lands in the second it finished,
// so a second is treated as closed only after this lag.
const CLOSE_LAG_MS = 2000;
const DEFAULT_RANGE_MS = 300_000;

/** One closed second's buckets, overall and per worker, as the 1 s tick publishes them. */
function closedSecond(
  requests: RequestMetrics,
  at: number,
): { overall: MetricsBucket; perWorker: Record<string, MetricsBucket> } {
  const bucketOf = (scope: string): MetricsBucket =>
    toMetricsBucket(requests.range(scope, at, at + 1000)[0] as BucketAccumulator);
  const perWorker: Record<string, MetricsBucket> = {};
  for (const id of requests.workerIds()) perWorker[id] = bucketOf(id);
  return { overall: bucketOf(OVERALL_SCOPE), perWorker };
}

/** The non-empty history windows of every scope in [fromMs, untilMs). */
function historyLines(requests: RequestMetrics, fromMs: number, untilMs: number): HistoryLine[] {
  const lines: HistoryLine[] = [];
  for (const scope of [OVERALL_SCOPE, ...requests.workerIds()]) {
    for (const acc of requests.range(scope, fromMs, untilMs, HISTORY_STEP_MS / 1000)) {
      if (acc.requests > 0) lines.push({ scope, acc });
    }
  }
  return lines;
}

/** A query's range with the defaults filled in: the last five minutes at 1 s. */
function resolveQuery(
  q: MetricsQuery = {},
  now: () => number,
): { fromMs: number; toMs: number; stepSec: number } {
  const toMs = q.toMs ?? now();
  const fromMs = q.fromMs ?? toMs - DEFAULT_RANGE_MS;
  const stepSec = Math.max(1, Math.round(q.stepSec ?? 1));
  return { fromMs, toMs, stepSec };
}

/** Creates the service and starts its 1 s tick. */
export function createMetricsService(opts: MetricsServiceOptions): MetricsService {
  const now = opts.now ?? Date.now;
  const onError = opts.onError ?? (() => undefined);
  const requests = new RequestMetrics({
    retentionSec: opts.retentionSec,
    workerIdOf: opts.workerIdOf,
    now,
  });
  const history: MetricsHistory | null =
    opts.historyDir === null
      ? null
      : createMetricsHistory({ dir: opts.historyDir, maxFiles: opts.historyMaxFiles });
  const poller: WorkerMetricsPoller = createWorkerMetricsPoller({
    workers: opts.pollWorkers,
    intervalMs: opts.pollIntervalMs,
    now,
  });
  const gpuSeries = new RingSeries<GpuSample[]>(3600);
  let lastTickMs = Math.floor((now() - CLOSE_LAG_MS) / 1000) * 1000;
  let lastHistoryMs = Math.floor((now() - CLOSE_LAG_MS) / HISTORY_STEP_MS) * HISTORY_STEP_MS;

  const tick = (): void => {
    const closedUntil = Math.floor((now() - CLOSE_LAG_MS) / 1000) * 1000;
    // One event per closed second (at most a minute of catch-up after a stall).
    for (let at = Math.max(lastTickMs, closedUntil - 60_000); at < closedUntil; at += 1000) {
      try {
        opts.onTick?.(closedSecond(requests, at));
      } catch (err) {
        onError(err);
      }
    }
    lastTickMs = Math.max(lastTickMs, closedUntil);
    const historyUntil = Math.floor((now() - CLOSE_LAG_MS) / HISTORY_STEP_MS) * HISTORY_STEP_MS;
    if (history && historyUntil > lastHistoryMs) {
      // Buckets are pruned only after this write, so everything since the last window is still in memory.
      const from = Math.max(
        lastHistoryMs,
        historyUntil - (opts.retentionSec ?? 3600) * 1000 - HISTORY_STEP_MS,
      );
      try {
        history.append(historyLines(requests, from, historyUntil));
      } catch (err) {
        onError(err);
      }
    }
    lastHistoryMs = Math.max(lastHistoryMs, historyUntil);
    requests.prune();
  };

  const timer = setInterval(tick, 1000);
  timer.unref();

  const bucketsFor = (
    scope: string,
    fromMs: number,
    toMs: number,
    stepSec: number,
  ): MetricsBucket[] => {
    // In memory when the whole range is there; older ranges come from the 10 s history files.
    const fromMemory = fromMs >= requests.oldestInMemoryMs() || history === null;
    const accs = fromMemory
      ? requests.range(scope, fromMs, toMs, stepSec)
      : history.range(scope, fromMs, toMs, stepSec * 1000);
    return accs.map(toMetricsBucket);
  };

  const snapshot = (query?: MetricsQuery): MetricsSnapshot => {
    const { fromMs, toMs, stepSec: asked } = resolveQuery(query, now);
    const isFromMemory = fromMs >= requests.oldestInMemoryMs() || history === null;
    const stepSec = isFromMemory ? asked : Math.max(HISTORY_STEP_MS / 1000, asked);
    // Bound the answer: at most ~4000 points per series.
    const step = Math.max(stepSec, Math.ceil((toMs - fromMs) / 1000 / 4000));
    const ids =
      query?.workerId !== undefined
        ? [query.workerId]
        : isFromMemory
          ? requests.workerIds()
          : (history?.scopes(fromMs, toMs).filter((s) => s !== OVERALL_SCOPE) ?? []);
    const perWorker: Record<string, MetricsBucket[]> = {};
    for (const id of ids) perWorker[id] = bucketsFor(id, fromMs, toMs, step);
    const iteration: Record<string, WorkerIterationSample[]> = {};
    for (const w of opts.pollWorkers()) {
      if (query?.workerId !== undefined && w.id !== query.workerId) continue;
      iteration[w.id] = poller.samples(w.id).filter((s) => s.atMs >= fromMs && s.atMs < toMs);
    }
    const gpus = gpuSeries
      .toArray()
      .flat()
      .filter((s) => s.atMs >= fromMs && s.atMs < toMs);
    return {
      fromMs,
      toMs,
      stepSec: step,
      overall: query?.workerId !== undefined ? [] : bucketsFor(OVERALL_SCOPE, fromMs, toMs, step),
      perWorker,
      iteration,
      gpus,
    };
  };

  return {
    addRecords: (records) => requests.addRecords(records),
    addGpuSamples(samples) {
      if (samples.length > 0) gpuSeries.push([...samples]);
    },
    snapshot,
    csv(query) {
      const snap = snapshot(query);
      return metricsToCsv(snap.overall, snap.perWorker, snap.stepSec);
    },
    latestIteration: () => poller.latest(),
    flush: tick,
    dispose() {
      clearInterval(timer);
      poller.stop();
      try {
        tick();
      } catch (err) {
        onError(err);
      }
    },
  };
}
