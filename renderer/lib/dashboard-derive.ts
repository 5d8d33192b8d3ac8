// Everything the Dashboard draws, derived in one pass from the bounded series for a window (or a zoomed
// range), and how long that took: the cost the dashboard benchmark measures. Layer: renderer (pure).

import type { MetricsBucket } from '../../shared/model/metrics';
import type { MetricsSeries, SloTargets } from '../store/store-types';
import {
  errorKinds,
  errorRows,
  multiSeriesRows,
  readGpuMem,
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

export type DashboardData = ReturnType<typeof deriveDashboard>;

export function deriveDashboard(series: MetricsSeries, input: DashboardInput) {
  const t0 = performance.now();
  const { windowMin, zoom, slo, nowMs } = input;
  const windowRange: TimeRange = { fromMs: nowMs - windowMin * 60_000, toMs: nowMs };
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
  const sloNow = sloAttainment(overall, range, slo);
  const recent = overall.filter((b) => b.atMs >= nowMs - 10_000);
  const sum = (f: (b: MetricsBucket) => number): number => recent.reduce((a, b) => a + f(b), 0);
  const secs = Math.max(1, Math.min(10, recent.length));
  const last = traffic.length > 0 ? traffic[traffic.length - 1] : undefined;
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
    slo: sloNow,
    stats: {
      rps: sum((b) => b.requests) / secs,
      tps: sum((b) => b.completionTokens) / secs,
      errors: sum((b) => Object.values(b.errors).reduce((x, y) => x + y, 0)),
      ttftP50: last?.ttft_p50 ?? null,
      ttftP99: last?.ttft_p99 ?? null,
      tpotP50: last?.tpot_p50 ?? null,
      proxyP50: last?.proxy_p50 ?? null,
    },
    deriveMs: performance.now() - t0,
    pointCount:
      series.overall.size + [...series.iteration.values()].reduce((a, r) => a + r.size, 0),
  };
}
