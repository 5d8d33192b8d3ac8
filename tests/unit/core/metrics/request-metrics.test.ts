import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { CSV_HEADER, metricsToCsv } from '../../../../electron/core/metrics/metrics-csv';
import { createMetricsHistory } from '../../../../electron/core/metrics/metrics-history';
import {
  OVERALL_SCOPE,
  RequestMetrics,
  toMetricsBucket,
} from '../../../../electron/core/metrics/request-metrics';
import { parseIterationStats } from '../../../../electron/core/metrics/worker-metrics-poller';
import type { ProxyRequestRecord } from '../../../../electron/core/proxy/types';

const T0 = 1_699_999_980_000; // a whole minute

function rec(over: Partial<ProxyRequestRecord>): ProxyRequestRecord {
  return {
    id: 1,
    endpoint: 'completions',
    isStream: true,
    receivedAt: T0,
    ctxSentAt: T0 + 1,
    ctxAnsweredAt: T0 + 50,
    genSentAt: T0 + 52,
    tokenTimes: [T0 + 100, T0 + 110, T0 + 120, T0 + 130],
    doneAt: T0 + 140,
    ctxWorker: 'http://127.0.0.1:8001',
    genWorker: 'http://127.0.0.1:8002',
    promptTokens: 20,
    completionTokens: 4,
    outcome: 'ok',
    status: 200,
    retries: 0,
    ...over,
  };
}

const ids: Record<string, string> = {
  'http://127.0.0.1:8001': 'ctx0',
  'http://127.0.0.1:8002': 'gen0',
};

describe('RequestMetrics', () => {
  it('buckets records by the second they finished, overall and per worker', () => {
    const m = new RequestMetrics({ now: () => T0 + 5000, workerIdOf: (u) => ids[u] ?? null });
    m.addRecords([
      rec({}),
      rec({ id: 2, doneAt: T0 + 1500, tokenTimes: [T0 + 300, T0 + 320] }),
      rec({
        id: 3,
        outcome: 'upstream_error',
        status: 502,
        tokenTimes: [],
        completionTokens: undefined,
      }),
    ]);
    const [b0, b1] = m.range(OVERALL_SCOPE, T0, T0 + 2000).map(toMetricsBucket);
    expect(b0).toMatchObject({
      atMs: T0,
      requests: 2,
      errors: { upstream_error: 1 },
      promptTokens: 40,
      completionTokens: 4,
    });
    expect(b0?.ttftMs.count).toBe(1);
    expect(b0?.ttftMs.p50).toBeCloseTo(100, -1);
    expect(b0?.tpotMs.p50).toBeCloseTo(10, 0);
    expect(b0?.itlMs.count).toBe(3);
    expect(b0?.e2eMs.p99).toBeCloseTo(140, -1);
    // own time = (ctxSent - received) + (genSent - ctxAnswered) = 1 + 2
    expect(b0?.proxyAddedMs.p50).toBeCloseTo(3, 0);
    expect(b1).toMatchObject({ requests: 1, completionTokens: 4 });
    expect(m.workerIds()).toEqual(['ctx0', 'gen0']);
    expect(toMetricsBucket(m.range('gen0', T0, T0 + 1000)[0]!).requests).toBe(2);
  });

  it('merges seconds into coarser steps with empty steps present', () => {
    const m = new RequestMetrics({ now: () => T0 + 60_000 });
    for (let s = 0; s < 10; s++) m.addRecords([rec({ id: s, doneAt: T0 + s * 1000 + 500 })]);
    const steps = m.range(OVERALL_SCOPE, T0, T0 + 20_000, 5);
    expect(steps.map((b) => b.requests)).toEqual([5, 5, 0, 0]);
    expect(steps[0]?.atMs).toBe(T0);
  });

  it('forgets what is older than the retention', () => {
    let now = T0;
    const m = new RequestMetrics({ now: () => now, retentionSec: 10 });
    m.addRecords([rec({})]);
    now = T0 + 20_000;
    m.prune();
    expect(m.range(OVERALL_SCOPE, T0, T0 + 1000)[0]?.requests).toBe(0);
    m.addRecords([rec({ doneAt: T0 })]);
    expect(m.range(OVERALL_SCOPE, T0, T0 + 1000)[0]?.requests).toBe(0);
  });
});

describe('metrics history and CSV', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores windows with histograms, reads them back in coarser steps, and bounds the files', () => {
    dir = mkdtempSync(join(tmpdir(), 'dc-mhist-'));
    const h = createMetricsHistory({ dir, maxFiles: 2 });
    const m = new RequestMetrics({ now: () => T0 + 10_000 });
    m.addRecords([rec({}), rec({ doneAt: T0 + 9000 })]);
    h.append(
      m.range(OVERALL_SCOPE, T0, T0 + 10_000, 10).map((acc) => ({ scope: OVERALL_SCOPE, acc })),
    );
    const back = h.range(OVERALL_SCOPE, T0, T0 + 60_000, 60_000);
    expect(back.map((b) => b.requests)).toEqual([2]);
    expect(toMetricsBucket(back[0]!).ttftMs.count).toBe(2);
    for (let hour = 1; hour <= 3; hour++) {
      const acc = m.range(OVERALL_SCOPE, T0, T0 + 1000)[0]!;
      h.append([{ scope: 'gen0', acc: { ...acc, atMs: T0 + hour * 3_600_000 } }]);
    }
    expect(readdirSync(dir)).toHaveLength(2);
    expect(h.scopes(T0, T0 + 5 * 3_600_000)).toEqual(['gen0']);
  });

  it('writes one row per bucket and scope with percentiles and rates', () => {
    const m = new RequestMetrics({ now: () => T0 + 10_000, workerIdOf: (u) => ids[u] ?? null });
    m.addRecords([rec({}), rec({ outcome: 'timeout', tokenTimes: [] })]);
    const overall = m.range(OVERALL_SCOPE, T0, T0 + 2000, 2).map(toMetricsBucket);
    const csv = metricsToCsv(
      overall,
      { gen0: m.range('gen0', T0, T0 + 2000, 2).map(toMetricsBucket) },
      2,
    );
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines).toHaveLength(3);
    const cols = CSV_HEADER.split(',');
    const row: Record<string, string> = Object.fromEntries(
      lines[1]!.split(',').map((v, i) => [cols[i] ?? '', v]),
    );
    expect(row).toMatchObject({
      scope: 'overall',
      requests: '2',
      requests_per_s: '1',
      errors: '1',
      errors_by_kind: 'timeout=1',
    });
    expect(Number(row['ttft_p50_ms'])).toBeGreaterThan(95);
    expect(lines[2]!.split(',')[2]).toBe('gen0');
  });
});

describe('parseIterationStats', () => {
  it.each([
    {
      name: 'newest iteration',
      body: [
        { numActiveRequests: 1 },
        {
          numActiveRequests: 3,
          numQueuedRequests: 2,
          kvCacheStats: { maxNumBlocks: 100, usedNumBlocks: 25, cacheHitRate: 0.5 },
        },
      ],
      want: { activeRequests: 3, queuedRequests: 2, kvCacheUsage: 0.25, kvCacheHitRate: 0.5 },
    },
    {
      name: 'free blocks and reuse counts',
      body: [
        {
          numActiveRequests: 0,
          kvCacheStats: { maxNumBlocks: 10, freeNumBlocks: 8, reusedBlocks: 3, missedBlocks: 1 },
        },
      ],
      want: { kvCacheUsage: 0.2, kvCacheHitRate: 0.75 },
    },
    {
      name: 'idle (empty array)',
      body: [],
      want: { activeRequests: 0, queuedRequests: 0, kvCacheUsage: null },
    },
  ])('reads $name', ({ body, want }) => {
    expect(parseIterationStats(body, 5)).toMatchObject({ atMs: 5, ...want });
  });

  it('rejects a non-array', () => {
    expect(parseIterationStats({ detail: 'x' }, 1)).toBeNull();
  });
});
