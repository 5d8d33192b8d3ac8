// Live and historical metrics as the console API carries them (features O1, O2): per-second buckets from
// the proxy's per-request records, worker iteration stats, GPU samples. Layer: shared (pure), JSON-safe.

import type { GpuSample } from './gpu';

/** Percentiles of one latency over one bucket, from a histogram (not from averages); null when empty. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** One second (or a coarser step in history) of proxy traffic. */
export interface MetricsBucket {
  /** Start of the bucket, epoch ms. */
  atMs: number;
  requests: number;
  /** Errors by kind, e.g. { upstream_5xx: 2, timeout: 1 }. */
  errors: Record<string, number>;
  promptTokens: number;
  completionTokens: number;
  ttftMs: LatencySummary;
  tpotMs: LatencySummary;
  itlMs: LatencySummary;
  e2eMs: LatencySummary;
  /** Time the proxy itself added per request. */
  proxyAddedMs: LatencySummary;
}

/** One reading of a worker's `/metrics` iteration stats (protocol 4.5). */
export interface WorkerIterationSample {
  atMs: number;
  activeRequests: number | null;
  queuedRequests: number | null;
  /** 0..1 */
  kvCacheUsage: number | null;
  /** 0..1 */
  kvCacheHitRate: number | null;
}

/** metrics:snapshot / metrics:csv query. */
export interface MetricsQuery {
  /** Default: the last 300 s. */
  fromMs?: number;
  toMs?: number;
  /** Only this worker; default: overall plus every worker. */
  workerId?: string;
  /** Bucket size; 1 s is the in-memory resolution. */
  stepSec?: number;
}

/** metrics:snapshot. */
export interface MetricsSnapshot {
  fromMs: number;
  toMs: number;
  stepSec: number;
  overall: MetricsBucket[];
  /** Keyed by worker id. */
  perWorker: Record<string, MetricsBucket[]>;
  iteration: Record<string, WorkerIterationSample[]>;
  gpus: GpuSample[];
}

/** metrics:tick event: the bucket that just closed. */
export interface MetricsTick {
  overall: MetricsBucket;
  perWorker: Record<string, MetricsBucket>;
}
