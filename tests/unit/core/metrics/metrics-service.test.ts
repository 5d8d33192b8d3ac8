import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import {
  createMetricsService,
  type MetricsService,
} from '../../../../electron/core/metrics/metrics-service';
import type { ProxyRequestRecord } from '../../../../electron/core/proxy/types';
import type { MetricsTick } from '../../../../shared/model/metrics';

const T0 = 1_699_999_980_000;

function rec(doneAt: number, genWorker = 'http://127.0.0.1:8002'): ProxyRequestRecord {
  return {
    id: 1,
    endpoint: 'chat',
    isStream: true,
    receivedAt: doneAt - 100,
    ctxSentAt: doneAt - 99,
    ctxAnsweredAt: doneAt - 60,
    genSentAt: doneAt - 59,
    tokenTimes: [doneAt - 50, doneAt - 25, doneAt],
    doneAt,
    ctxWorker: 'http://127.0.0.1:8001',
    genWorker,
    promptTokens: 10,
    completionTokens: 3,
    outcome: 'ok',
    status: 200,
    retries: 0,
  };
}

let dir = '';
let svc: MetricsService | undefined;
afterEach(() => {
  svc?.dispose();
  svc = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('metrics service', () => {
  it('ticks once per closed second and answers old ranges from the history files', () => {
    dir = mkdtempSync(join(tmpdir(), 'dc-msvc-'));
    let now = T0;
    const ticks: MetricsTick[] = [];
    svc = createMetricsService({
      historyDir: dir,
      retentionSec: 120,
      workerIdOf: (u) => (u.endsWith(':8001') ? 'ctx0' : 'gen0'),
      pollWorkers: () => [],
      onTick: (t) => ticks.push(t),
      now: () => now,
    });
    svc.addRecords([rec(T0 + 100), rec(T0 + 200), rec(T0 + 1500)]);
    now = T0 + 4000;
    svc.flush();
    // Seconds T0 and T0+1s closed (2 s lag): one tick each, carrying the bucket that closed.
    const at = ticks.map((t) => t.overall.atMs);
    expect(at).toEqual([...new Set(at)].sort((a, b) => a - b));
    expect(at.at(-1)).toBe(T0 + 1000);
    expect(ticks.filter((t) => t.overall.atMs >= T0).map((t) => t.overall.requests)).toEqual([
      2, 1,
    ]);
    expect(ticks.find((t) => t.overall.atMs === T0)?.perWorker['gen0']?.requests).toBe(2);

    // Past the 10 s window and beyond the in-memory retention: the snapshot reads the 10 s history.
    now = T0 + 15_000;
    svc.flush();
    expect(readdirSync(dir).length).toBe(1);
    now = T0 + 300_000;
    const snap = svc.snapshot({ fromMs: T0, toMs: T0 + 20_000 });
    expect(snap.stepSec).toBe(10);
    expect(snap.overall.map((b) => b.requests)).toEqual([3, 0]);
    expect(snap.perWorker['gen0']?.map((b) => b.requests)).toEqual([3, 0]);
    expect(snap.overall[0]?.ttftMs.count).toBe(3);
    expect(
      svc
        .csv({ fromMs: T0, toMs: T0 + 10_000 })
        .trim()
        .split('\n'),
    ).toHaveLength(1 + 1 + 2);
  });
});
