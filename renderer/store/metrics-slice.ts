// Dashboard data (features O1-O3): bounded 1 s series fed by metrics:tick, history loaded for the chosen
// window from metrics:snapshot, iteration stats (queue depth, KV usage) refreshed from snapshots because ticks
// do not carry them, SLO targets, CSV export. Series are mutable ring buffers outside the immutable state;
// `metricsVersion` tells selectors to derive again. Layer: renderer.

import { TimeSeries } from '../../shared/logic/series';
import type { MetricsBucket, MetricsSnapshot } from '../../shared/model/metrics';
import { describeError } from '../lib/error-text';
import type { MetricsSeries, MetricsSlice, SliceCreator } from './store-types';

/** One hour of 1 s points. */
export const SERIES_POINTS = 3600;

/** Fresh, empty series. */
export function createMetricsSeries(): MetricsSeries {
  return {
    overall: new TimeSeries(SERIES_POINTS),
    perWorker: new Map(),
    iteration: new Map(),
    gpus: new Map(),
  };
}

/** The snapshot step for a window: about 600 points whatever the window (1 s for 5 min, 6 s for 60 min). */
function historyStepSec(windowMin: number): number {
  return Math.max(1, Math.ceil((windowMin * 60) / 600));
}

function ringOf<T extends { atMs: number }>(
  map: Map<string, TimeSeries<T>>,
  key: string,
): TimeSeries<T> {
  let ring = map.get(key);
  if (!ring) {
    ring = new TimeSeries<T>(SERIES_POINTS);
    map.set(key, ring);
  }
  return ring;
}

/** Merges a snapshot into the series (history first, so later live ticks append in order). */
function mergeSnapshot(series: MetricsSeries, snap: MetricsSnapshot, replace: boolean): void {
  if (replace) {
    series.overall.clear();
    series.perWorker.clear();
  }
  for (const b of snap.overall) series.overall.push(b);
  for (const [id, buckets] of Object.entries(snap.perWorker)) {
    for (const b of buckets) ringOf(series.perWorker, id).push(b);
  }
  for (const [id, samples] of Object.entries(snap.iteration)) {
    for (const s of samples) ringOf(series.iteration, id).push(s);
  }
}

export const createMetricsSlice: SliceCreator<MetricsSlice> = (set, get, { api, now }) => ({
  series: createMetricsSeries(),
  metricsVersion: 0,
  metricsHistoryVersion: 0,
  metricsWindowMin: 5,
  metricsError: null,
  slo: { ttftMs: 500, tpotMs: 50 },
  setMetricsWindow: async (metricsWindowMin) => {
    set({ metricsWindowMin });
    await get().loadMetricsHistory();
  },
  setSlo: (slo) => set({ slo: { ...get().slo, ...slo } }),
  loadMetricsHistory: async () => {
    const windowMin = get().metricsWindowMin;
    const toMs = now();
    try {
      const snap = await api.invoke('metrics:snapshot', {
        fromMs: toMs - windowMin * 60_000,
        toMs,
        stepSec: historyStepSec(windowMin),
      });
      mergeSnapshot(get().series, snap, true);
      set({
        metricsError: null,
        metricsVersion: get().metricsVersion + 1,
        metricsHistoryVersion: get().metricsHistoryVersion + 1,
      });
    } catch (err) {
      set({ metricsError: describeError(err) });
    }
  },
  applyTick: (overall: MetricsBucket, perWorker: Record<string, MetricsBucket>) => {
    const { series } = get();
    series.overall.push(overall);
    for (const [id, b] of Object.entries(perWorker)) ringOf(series.perWorker, id).push(b);
    set({ metricsVersion: get().metricsVersion + 1 });
  },
  refreshIteration: async () => {
    const toMs = now();
    try {
      const snap = await api.invoke('metrics:snapshot', {
        fromMs: toMs - 10_000,
        toMs,
        stepSec: 1,
      });
      const { series } = get();
      for (const [id, samples] of Object.entries(snap.iteration)) {
        for (const s of samples) ringOf(series.iteration, id).push(s);
      }
      set({ metricsVersion: get().metricsVersion + 1 });
    } catch {
      // Iteration stats are a best-effort extra; the next refresh tries again and the charts say "no data".
    }
  },
  exportCsv: async () => {
    const toMs = now();
    try {
      return await api.invoke('metrics:csv', {
        fromMs: toMs - get().metricsWindowMin * 60_000,
        toMs,
      });
    } catch (err) {
      get().notify('error', `CSV export: ${describeError(err)}`);
      return null;
    }
  },
});
