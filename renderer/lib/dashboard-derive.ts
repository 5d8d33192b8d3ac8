// Everything the Dashboard draws, derived in one pass from the bounded series for a window (or a zoomed
// range), and how long that took: the cost the dashboard benchmark measures. Layer: renderer (pure).

import type { MetricsBucket } from '../../shared/model/metrics';
import type { MetricsSeries, SloTargets } from '../store/store-types';
import {
  errorKinds,
  errorRows,
  MAX_CHART_POINTS,
  multiSeriesRows,
  readGpuMem,
  readGpuPower,
  readGpuUtil,
  readKv,
  readQueue,
  sloAttainment,
  type TimeRange,
  trafficRows,
} from './metrics-derive';

export interface DashboardInput {
  windowMin: number;
  zoom: TimeRange | null;
  slo: SloTargets;
  nowMs: number;
}

/** How often the charts are derived again: once per bin of the window (1 s for 5 min, 12 s for 60 min). */
export function chartRefreshMs(windowMin: number): number {
  return Math.max(1000, Math.ceil((windowMin * 60_000) / MAX_CHART_POINTS / 1000) * 1000);
}

/** Every chart's rows for the window (or the zoomed range), timed. */
export function deriveCharts(series: MetricsSeries, input: DashboardInput) {
  const t0 = performance.now();
  const { windowMin, zoom, slo, nowMs } = input;
  // Charts are derived once per refresh period: the range reaches one period ahead so points that arrive
  // before the next derivation still fall inside the axis.
  const aheadMs = chartRefreshMs(windowMin);
  const windowRange: TimeRange = {
    fromMs: nowMs - windowMin * 60_000 + aheadMs,
    toMs: nowMs + aheadMs,
  };
  const range = zoom ?? windowRange;
  const overall = series.overall.since(range.fromMs);
  const traffic = trafficRows(overall, range);
  const overview = zoom
    ? trafficRows(series.overall.since(windowRange.fromMs), windowRange)
    : traffic;
  const kinds = errorKinds(overall, range);
  const errors = errorRows(overall, range, kinds);
  const queue = multiSeriesRows(series.iteration, readQueue, range);
  const kv = multiSeriesRows(series.iteration, readKv, range);
  const gpuMap = new Map([...series.gpus.entries()].map(([k, v]) => [`GPU ${k}`, v]));
  const gpuUtil = multiSeriesRows(gpuMap, readGpuUtil, range);
  const gpuMem = multiSeriesRows(gpuMap, readGpuMem, range);
  const gpuPower = multiSeriesRows(gpuMap, readGpuPower, range);
  return {
    range,
    overviewRange: zoom ? windowRange : range,
    traffic,
    overview,
    kinds,
    errors,
    queue,
    kv,
    gpuUtil,
    gpuMem,
    gpuPower,
    slo: sloAttainment(overall, range, slo),
    deriveMs: performance.now() - t0,
    pointCount:
      series.overall.length + [...series.iteration.values()].reduce((a, r) => a + r.length, 0),
  };
}

/** The stat tiles: the last 10 s of traffic (cheap; updated every second whatever the window). */
export function deriveStats(series: MetricsSeries, nowMs: number) {
  const recent = series.overall.since(nowMs - 10_000);
  const sum = (f: (b: MetricsBucket) => number): number => recent.reduce((a, b) => a + f(b), 0);
  const secs = Math.max(1, Math.min(10, recent.length));
  const merged = (
    pick: (b: MetricsBucket) => { count: number; p50: number | null; p99: number | null },
    key: 'p50' | 'p99',
  ): number | null => {
    let w = 0;
    let n = 0;
    for (const b of recent) {
      const l = pick(b);
      const v = l[key];
      if (l.count > 0 && v !== null) {
        w += v * l.count;
        n += l.count;
      }
    }
    return n > 0 ? w / n : null;
  };
  return {
    rps: sum((b) => b.requests) / secs,
    tps: sum((b) => b.completionTokens) / secs,
    errors: sum((b) => Object.values(b.errors).reduce((x, y) => x + y, 0)),
    ttftP50: merged((b) => b.ttftMs, 'p50'),
    ttftP99: merged((b) => b.ttftMs, 'p99'),
    tpotP50: merged((b) => b.tpotMs, 'p50'),
    proxyP50: merged((b) => b.proxyAddedMs, 'p50'),
  };
}
