// Chart rows derived from the bounded series (features O1-O3): latency percentiles, throughput, errors by
// kind, per-worker queue depth and KV usage, GPU utilization and memory, and the SLO estimate. Every chart
// gets at most `maxBins` rows whatever the window, so an hour of 32 workers draws as fast as five minutes.
// Layer: renderer (pure).

import {
  type BinReducer,
  type ChartRow,
  downsample,
  type TimeSeries,
} from '../../shared/logic/series';
import type { GpuSample } from '../../shared/model/gpu';
import type {
  LatencySummary,
  MetricsBucket,
  WorkerIterationSample,
} from '../../shared/model/metrics';

/** Rows per chart: enough for a smooth line in a 500-700 px wide chart. */
export const MAX_CHART_POINTS = 300;

/** Points per chart across all its lines; a chart of 32 workers gets fewer rows so it draws as fast as one of 3. */
export const MAX_POINTS_PER_CHART = 2400;

/** Rows for a chart with `lines` lines: the point budget shared out, between 60 and MAX_CHART_POINTS. */
export function binsForLines(lines: number): number {
  return Math.max(
    60,
    Math.min(MAX_CHART_POINTS, Math.floor(MAX_POINTS_PER_CHART / Math.max(1, lines))),
  );
}

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

type Field<T> = { read: (p: T) => number | null; reduce: BinReducer };

function pct(
  key: keyof Pick<MetricsBucket, 'ttftMs' | 'tpotMs' | 'e2eMs' | 'proxyAddedMs' | 'itlMs'>,
  p: keyof Omit<LatencySummary, 'count'>,
): Field<MetricsBucket> {
  // Bins of several seconds: p50/p90 as the mean of the seconds, p99 as their max (a spike must stay visible).
  return {
    read: (b) => (b[key].count > 0 ? b[key][p] : null),
    reduce: p === 'p99' ? 'max' : 'mean',
  };
}

/** TTFT, TPOT, E2E and proxy-added latency percentiles, plus req/s and tok/s. */
export function trafficRows(
  overall: readonly MetricsBucket[],
  range: TimeRange,
  maxBins = MAX_CHART_POINTS,
): ChartRow[] {
  return downsample(overall, {
    ...range,
    maxBins,
    fields: {
      ttft_p50: pct('ttftMs', 'p50'),
      ttft_p90: pct('ttftMs', 'p90'),
      ttft_p99: pct('ttftMs', 'p99'),
      tpot_p50: pct('tpotMs', 'p50'),
      tpot_p90: pct('tpotMs', 'p90'),
      tpot_p99: pct('tpotMs', 'p99'),
      e2e_p50: pct('e2eMs', 'p50'),
      e2e_p90: pct('e2eMs', 'p90'),
      e2e_p99: pct('e2eMs', 'p99'),
      proxy_p50: pct('proxyAddedMs', 'p50'),
      proxy_p99: pct('proxyAddedMs', 'p99'),
      // Buckets are 1 s (or `stepSec` in loaded history): the per-second rate is the count over the bucket.
      rps: { read: (b) => b.requests, reduce: 'mean' },
      tps: { read: (b) => b.completionTokens, reduce: 'mean' },
    },
  });
}

/** Every error kind seen in the range. */
export function errorKinds(overall: readonly MetricsBucket[], range: TimeRange): string[] {
  const kinds = new Set<string>();
  for (const b of overall) {
    if (b.atMs >= range.fromMs && b.atMs < range.toMs) {
      for (const k of Object.keys(b.errors)) kinds.add(k);
    }
  }
  return [...kinds].sort();
}

/** Errors per second by kind. */
export function errorRows(
  overall: readonly MetricsBucket[],
  range: TimeRange,
  kinds: readonly string[],
  maxBins = MAX_CHART_POINTS,
): ChartRow[] {
  const fields: Record<string, Field<MetricsBucket>> = {};
  for (const k of kinds) fields[k] = { read: (b) => b.errors[k] ?? 0, reduce: 'mean' };
  return downsample(overall, { ...range, maxBins, fields });
}

/**
 * One row per bin with one column per series (worker id or GPU index), from several series at once. Series
 * share the bins, so their points line up on the chart.
 */
export function multiSeriesRows<T extends { atMs: number }>(
  series: ReadonlyMap<string, TimeSeries<T>>,
  read: (p: T) => number | null,
  range: TimeRange,
  maxBinsOverride?: number,
): { rows: ChartRow[]; keys: string[] } {
  const keys = [...series.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const maxBins = maxBinsOverride ?? binsForLines(keys.length);
  const byTime = new Map<number, ChartRow>();
  for (const key of keys) {
    const ring = series.get(key)!;
    for (const r of downsample(ring.since(range.fromMs), {
      ...range,
      maxBins,
      fields: { v: { read, reduce: 'mean' } },
    })) {
      let row = byTime.get(r.atMs);
      if (!row) {
        row = { atMs: r.atMs };
        byTime.set(r.atMs, row);
      }
      row[key] = r.v ?? null;
    }
  }
  return { rows: [...byTime.values()].sort((a, b) => a.atMs - b.atMs), keys };
}

/** Queue depth per worker (queued requests). */
export const readQueue = (s: WorkerIterationSample): number | null => s.queuedRequests;
/** KV cache usage per worker in percent. */
export const readKv = (s: WorkerIterationSample): number | null =>
  s.kvCacheUsage === null ? null : s.kvCacheUsage * 100;
/** GPU utilization in percent. */
export const readGpuUtil = (s: GpuSample): number | null => s.utilizationPct;
/** GPU power draw in watts. */
export const readGpuPower = (s: GpuSample): number | null => s.powerDrawW;
/** GPU memory used in percent of total. */
export const readGpuMem = (s: GpuSample): number | null =>
  s.memoryUsedMiB !== null && s.memoryTotalMiB ? (s.memoryUsedMiB / s.memoryTotalMiB) * 100 : null;

/**
 * Estimated share of requests with a latency at or under `targetMs`, from a bucket's p50/p90/p99 (the
 * buckets carry percentiles, not single requests): linear between the known points, 0 below half the p50,
 * 0.99..1 above p99.
 */
export function shareWithin(summary: LatencySummary, targetMs: number): number | null {
  const { p50, p90, p99 } = summary;
  if (summary.count === 0 || p50 === null || p90 === null || p99 === null) return null;
  const points: [number, number][] = [
    [0, 0],
    [p50, 0.5],
    [p90, 0.9],
    [p99, 0.99],
  ];
  if (targetMs >= p99) {
    return targetMs >= p99 * 1.5 ? 1 : 0.99 + (0.01 * (targetMs - p99)) / (p99 * 0.5 || 1);
  }
  for (let i = 1; i < points.length; i += 1) {
    const [x0, y0] = points[i - 1]!;
    const [x1, y1] = points[i]!;
    if (targetMs <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (targetMs - x0)) / (x1 - x0);
  }
  return 0.99;
}

/** SLO attainment over a range (O3): request-weighted shares within the TTFT and TPOT targets. */
export function sloAttainment(
  overall: readonly MetricsBucket[],
  range: TimeRange,
  targets: { ttftMs: number; tpotMs: number },
): {
  requests: number;
  ttftShare: number | null;
  tpotShare: number | null;
  bothShare: number | null;
} {
  let requests = 0;
  let ttftW = 0;
  let ttftN = 0;
  let tpotW = 0;
  let tpotN = 0;
  for (const b of overall) {
    if (b.atMs < range.fromMs || b.atMs >= range.toMs) continue;
    requests += b.requests;
    const t = shareWithin(b.ttftMs, targets.ttftMs);
    if (t !== null) {
      ttftW += t * b.ttftMs.count;
      ttftN += b.ttftMs.count;
    }
    const p = shareWithin(b.tpotMs, targets.tpotMs);
    if (p !== null) {
      tpotW += p * b.tpotMs.count;
      tpotN += b.tpotMs.count;
    }
  }
  const ttftShare = ttftN > 0 ? ttftW / ttftN : null;
  const tpotShare = tpotN > 0 ? tpotW / tpotN : null;
  // Without per-request data the joint share is bounded above by the smaller one; show that bound.
  const bothShare =
    ttftShare !== null && tpotShare !== null
      ? Math.min(ttftShare, tpotShare)
      : (ttftShare ?? tpotShare);
  return { requests, ttftShare, tpotShare, bothShare };
}

/** A distinct, readable color for series `i` of `n` (works on dark and light backgrounds). */
export function seriesColor(i: number, n: number): string {
  const hue = Math.round((i * 360) / Math.max(1, n) + 200) % 360;
  return `hsl(${hue} 70% 55%)`;
}
