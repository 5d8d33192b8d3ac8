// Saved runs: save, list (newest first, foreign files skipped), load, remove, path safety; comparing two
// runs step by step; CSV export; sweep chart points; and the summary table and progress line formats.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { computeResult } from '../../../../electron/core/bench/bench-metrics';
import type { BenchResult, RequestOutput } from '../../../../electron/core/bench/bench-types';
import { formatProgress } from '../../../../electron/core/bench/progress-reporter';
import {
  compareRuns,
  RunStore,
  runToCsv,
  type SavedRun,
} from '../../../../electron/core/bench/run-store';
import { formatSummary } from '../../../../electron/core/bench/summary-table';
import { sweepPoints } from '../../../../electron/core/bench/sweep-points';

function result(ttftS: number, tokens: number, durationS: number): BenchResult {
  const out: RequestOutput = {
    isSuccess: true,
    ttftS,
    itlS: [0.01, 0.01],
    latencyS: ttftS + 0.02,
    outputTokens: tokens,
    promptTokens: 5,
    error: '',
    errorKind: '',
    scheduledMs: 0,
    startMs: 0,
    sentMs: 0,
  };
  return computeResult(
    {
      issued: [],
      outputs: [out],
      durationS,
      generator: {
        cpu_ms: 1,
        cpu_us_per_request: 10,
        cpu_us_per_token: 2,
        mean_send_lag_ms: 0,
        p99_send_lag_ms: 0.5,
        max_send_lag_ms: 1,
      },
    },
    {
      model: 'm',
      baseUrl: 'http://x',
      endpoint: '/v1/completions',
      requestRate: Infinity,
      burstiness: 1,
      maxConcurrency: 1,
      isStreaming: true,
      percentileMetrics: ['ttft', 'tpot', 'itl', 'e2el'],
      metricPercentiles: [99],
      goodput: { ttft: 100 },
      startedAtMs: 0,
    },
  );
}

describe('RunStore', () => {
  it('saves, lists newest first, loads and removes runs', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bench-runs-')), 'runs');
    let now = 1_000;
    const store = new RunStore(dir, () => now);
    expect(await store.list()).toEqual([]);
    const a = await store.save({
      name: 'before',
      steps: [{ step: null, result: result(0.1, 3, 1) }],
    });
    now = 2_000;
    const b = await store.save({
      name: 'after',
      topology: '1 ctx + 2 gen',
      steps: [{ step: { kind: 'concurrency', value: 4 }, result: result(0.05, 3, 0.5) }],
    });
    writeFileSync(join(dir, 'junk.json'), '{"not": "a run"}');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const list = await store.list();
    expect(list.map((r) => r.name)).toEqual(['after', 'before']);
    expect(list[0]).toMatchObject({
      topology: '1 ctx + 2 gen',
      stepCount: 1,
      bestOutputThroughput: 6,
    });
    expect((await store.load(a.id)).steps[0]?.result.completed).toBe(1);
    await store.remove(b.id);
    expect((await store.list()).map((r) => r.id)).toEqual([a.id]);
    await expect(store.load('../etc/passwd')).rejects.toThrow(/invalid run id/);
    await expect(store.save({ name: 'empty', steps: [] })).rejects.toThrow(/at least one result/);
  });
});

describe('compareRuns and export', () => {
  const a: SavedRun = {
    id: 'a',
    name: 'A',
    createdAtMs: 0,
    topology: null,
    steps: [
      { step: { kind: 'concurrency', value: 1 }, result: result(0.2, 3, 1) },
      { step: { kind: 'concurrency', value: 2 }, result: result(0.2, 3, 1) },
    ],
  };
  const b: SavedRun = {
    id: 'b',
    name: 'B',
    createdAtMs: 0,
    topology: null,
    steps: [{ step: { kind: 'concurrency', value: 1 }, result: result(0.1, 3, 0.5) }],
  };

  it('pairs steps by value and says which side is better', () => {
    const rows = compareRuns(a, b);
    const ttft = rows.find((r) => r.stepValue === 1 && r.metric === 'mean_ttft_ms');
    expect(ttft).toMatchObject({
      a: expect.closeTo(200, 6) as number,
      b: expect.closeTo(100, 6) as number,
      better: 'b',
    });
    expect(ttft?.deltaPct).toBeCloseTo(-50, 6);
    const tput = rows.find((r) => r.stepValue === 1 && r.metric === 'output_throughput');
    expect(tput).toMatchObject({ a: 3, b: 6, delta: 3, better: 'b' });
    const missing = rows.find((r) => r.stepValue === 2 && r.metric === 'output_throughput');
    expect(missing).toMatchObject({ a: 3, b: null, delta: null, better: null });
  });

  it('exports one CSV line per step', () => {
    const lines = runToCsv(a).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]?.startsWith('step_kind,step_value,completed,duration,request_throughput')).toBe(
      true,
    );
    expect(lines[1]?.startsWith('concurrency,1,1,1,1,')).toBe(true);
  });
});

describe('text output', () => {
  it('prints the summary table in benchmark_serving layout', () => {
    const text = formatSummary(result(0.2, 3, 1));
    expect(text).toContain('============ Serving Benchmark Result ============');
    expect(text).toMatch(/^Successful requests: {21}1$/m);
    expect(text).toMatch(/^Request goodput \(req\/s\): +0\.00$/m);
    expect(text).toMatch(/^Mean TTFT \(ms\): +200\.00$/m);
    expect(text).toContain('-----Time per Output Token (excl. 1st token)------');
    expect(text).toMatch(/^P99 E2EL \(ms\): +220\.00$/m);
    expect(text).toMatch(/^CPU per request \(us\): +10\.0$/m);
  });

  it('formats a progress line', () => {
    expect(formatProgress({ done: 5, failed: 1, total: 10, elapsedMs: 2000 })).toBe(
      `Benchmarking:  50%|${'█'.repeat(15)}${' '.repeat(15)}| 5/10 [2.0s, 2.50 req/s, 1 failed]`,
    );
  });
});

describe('sweepPoints', () => {
  it('gives one chart point per step with throughput and latency percentiles', () => {
    const points = sweepPoints([
      { kind: 'concurrency', value: 1, result: result(0.2, 3, 1) },
      { kind: 'concurrency', value: 4, result: result(0.1, 3, 0.5) },
    ]);
    expect(points.map((p) => [p.value, p.outputThroughput])).toEqual([
      [1, 3],
      [4, 6],
    ]);
    expect(points[0]?.ttftP50Ms).toBeCloseTo(200, 6);
    expect(points[1]?.ttftP99Ms).toBeCloseTo(100, 6);
    expect(points[0]?.tpotP50Ms).toBeCloseTo(10, 6);
    expect(points[0]?.goodput).toBe(0);
  });
});
