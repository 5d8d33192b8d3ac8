// Dashboard derivation (renderer/lib/dashboard-derive.ts, metrics-derive.ts): correctness of rows and SLO
// estimates, and the cost for 32 workers and one hour of 1 s data (the number reported in the README).
import { describe, expect, it } from 'vitest';

import {
  chartRefreshMs,
  deriveCharts,
  deriveStats,
} from '../../../../renderer/lib/dashboard-derive';
import {
  binsForLines,
  MAX_CHART_POINTS,
  shareWithin,
  sloAttainment,
} from '../../../../renderer/lib/metrics-derive';
import { createMetricsSeries } from '../../../../renderer/store/metrics-slice';
import { TimeSeries } from '../../../../shared/logic/series';
import type { MetricsBucket, WorkerIterationSample } from '../../../../shared/model/metrics';

const T0 = 1_700_000_000_000;

function bucket(atMs: number, i: number): MetricsBucket {
  const lat = (base: number) => ({ count: 5, p50: base, p90: base * 1.5, p99: base * 2 });
  return {
    atMs,
    requests: 5,
    errors: i % 100 === 0 ? { upstream_5xx: 1 } : {},
    promptTokens: 500,
    completionTokens: 250,
    ttftMs: lat(100 + (i % 10)),
    tpotMs: lat(20),
    itlMs: lat(20),
    e2eMs: lat(2000),
    proxyAddedMs: lat(0.4),
  };
}

function fullHour(workers: number) {
  const series = createMetricsSeries();
  for (let i = 0; i < 3600; i += 1) series.overall.push(bucket(T0 + i * 1000, i));
  for (let w = 0; w < workers; w += 1) {
    const ring = new TimeSeries<WorkerIterationSample>(3600);
    for (let i = 0; i < 3600; i += 1) {
      ring.push({
        atMs: T0 + i * 1000,
        activeRequests: 4,
        queuedRequests: (i + w) % 7,
        kvCacheUsage: ((i + w) % 100) / 100,
        kvCacheHitRate: 0.5,
      });
    }
    series.iteration.set(`w${w}`, ring);
  }
  for (let g = 0; g < 8; g += 1) {
    const ring = new TimeSeries<
      {
        atMs: number;
        index: number;
        memoryUsedMiB: number;
        memoryTotalMiB: number;
        utilizationPct: number;
      } & Record<string, unknown>
    >(3600);
    for (let i = 0; i < 3600; i += 1) {
      ring.push({
        atMs: T0 + i * 1000,
        index: g,
        memoryUsedMiB: 40_000,
        memoryTotalMiB: 80_000,
        utilizationPct: 50,
        memoryUtilizationPct: null,
        temperatureC: 60,
        powerDrawW: 300,
        powerLimitW: 700,
        smClockMHz: null,
      });
    }
    series.gpus.set(g, ring as never);
  }
  return series;
}

describe('deriveCharts', () => {
  it('bounds every chart to MAX_CHART_POINTS rows for an hour of 32 workers (its speed: tests/e2e/dashboard-bench.spec.ts)', () => {
    const series = fullHour(32);
    const input = {
      windowMin: 60,
      zoom: null,
      slo: { ttftMs: 150, tpotMs: 50 },
      nowMs: T0 + 3_600_000,
    };
    const data = deriveCharts(series, input);
    expect(data.traffic.length).toBeLessThanOrEqual(MAX_CHART_POINTS + 1); // +1: bins align to epoch time
    expect(data.traffic.length).toBeGreaterThan(250);
    expect(data.queue.keys).toHaveLength(32);
    // 32 lines share the point budget: 75 rows each.
    expect(data.queue.rows.length).toBeLessThanOrEqual(binsForLines(32) + 1);
    expect(binsForLines(32)).toBe(75);
    expect(binsForLines(3)).toBe(MAX_CHART_POINTS);
    expect(data.gpuUtil.keys).toEqual([
      'GPU 0',
      'GPU 1',
      'GPU 2',
      'GPU 3',
      'GPU 4',
      'GPU 5',
      'GPU 6',
      'GPU 7',
    ]);
    expect(data.kinds).toEqual(['upstream_5xx']);
  });

  it('zooms into a range with 1 s resolution and keeps the overview of the whole window', () => {
    const series = fullHour(2);
    const data = deriveCharts(series, {
      windowMin: 60,
      zoom: { fromMs: T0 + 60_000, toMs: T0 + 120_000 },
      slo: { ttftMs: 150, tpotMs: 50 },
      nowMs: T0 + 3_600_000,
    });
    expect(data.traffic).toHaveLength(60);
    expect(data.traffic[0]!.atMs).toBe(T0 + 60_000);
    expect(data.overview.length).toBeGreaterThan(250);
  });

  it('computes last-10-second stats from the newest buckets', () => {
    const stats = deriveStats(fullHour(0), T0 + 3_600_000);
    expect(stats.rps).toBe(5);
    expect(stats.tps).toBe(250);
    expect(stats.ttftP50).toBeCloseTo(104.5, 5);
  });

  it('refreshes charts once per bin of the window', () => {
    expect(chartRefreshMs(5)).toBe(1000);
    expect(chartRefreshMs(15)).toBe(3000);
    expect(chartRefreshMs(60)).toBe(12_000);
  });
});

describe('SLO estimate', () => {
  it.each([
    [100, 0.5],
    [150, 0.9],
    [200, 0.99],
    [50, 0.25],
    [400, 1],
  ])('shareWithin(p50=100, p90=150, p99=200; target %s) = %s', (target, share) => {
    expect(shareWithin({ count: 10, p50: 100, p90: 150, p99: 200 }, target)).toBeCloseTo(share, 5);
  });

  it('weights buckets by their request count and bounds the joint share by the smaller one', () => {
    const a = bucket(T0, 1);
    const b = { ...bucket(T0 + 1000, 1), ttftMs: { count: 15, p50: 1000, p90: 1000, p99: 1000 } };
    const r = sloAttainment([a, b], { fromMs: T0, toMs: T0 + 2000 }, { ttftMs: 150, tpotMs: 100 });
    expect(r.requests).toBe(10);
    expect(r.tpotShare).toBe(1);
    expect(r.ttftShare).toBeLessThan(0.3);
    expect(r.bothShare).toBe(r.ttftShare);
  });

  it('is null without requests', () => {
    expect(shareWithin({ count: 0, p50: null, p90: null, p99: null }, 10)).toBeNull();
  });
});
