// bench:proxy run 2 reads the proxy's own /metrics at the edges of each window (issue #16): the
// window's share of each histogram, its p99 as a bucket bound, the "since last scrape" maxima. Fed
// with two renders of a real ProxyMetrics, so the bench and the exposition cannot drift apart.
import { describe, expect, it } from 'vitest';

import {
  histogramDelta,
  histogramQuantile,
  p99RatiosPerRun,
  proxyWindowDiagnostics,
  runsWithin,
  samplePercentile,
  scrapeHistogram,
  spread,
} from '../../../../bench/tail-diagnostics';
import { parseBenchProxyArgs } from '../../../../electron/cli/bench-proxy-command';
import { ProxyMetrics } from '../../../../electron/core/proxy/metrics';
import { PoolWaitStats } from '../../../../electron/core/proxy/upstream-pool';

const ADMISSION = { active: 0, limit: 4096, queued: 0, isOverloaded: false };

describe('run 2 tail diagnostics from /metrics', () => {
  it('takes the window between two scrapes: deltas, bucket-bound p99, maxima and connections opened', () => {
    const pools = new PoolWaitStats();
    const m = new ProxyMetrics(pools);
    // Before the window: history that must not count.
    pools.observeWait(0.2);
    pools.countOpened();
    m.runtime.observeGc('minor', 0.009);
    m.admissionWait.observe(0.3);
    const before = m.render([], 0, true, ADMISSION);
    // The window: 100 pool waits (99 instant, 1 queued 4 ms), two scavenges and a mark-compact, 3 new connections.
    for (let i = 0; i < 99; i++) pools.observeWait(0);
    pools.observeWait(0.004);
    for (let i = 0; i < 3; i++) pools.countOpened();
    m.runtime.observeGc('minor', 0.001);
    m.runtime.observeGc('minor', 0.002);
    m.runtime.observeGc('major', 0.004);
    for (let i = 0; i < 10; i++) m.admissionWait.observe(0);
    // A 22 ms sample of the default 10 ms monitor: 12 ms of delay.
    m.runtime.foldLoopDelay({ percentiles: new Map([[100, 22e6]]), count: 50, reset() {} });
    const after = m.render([], 0, true, ADMISSION);
    const d = proxyWindowDiagnostics(before, after);
    expect(d.poolWaitP99Ms).toBe(0.5);
    expect(d.poolWaitMaxBucketMs).toBe(5);
    expect(d.connectionsOpened).toBe(3);
    expect(d.gcPauses).toBe(3);
    expect(d.gcPauseTotalMs).toBeCloseTo(7, 9);
    expect(d.gcPauseMaxMs).toBe(4);
    expect(d.admissionWaitP99Ms).toBe(0.5);
    expect(d.loopDelayP99Ms).toBe(15);
    expect(d.loopDelayMaxMs).toBeCloseTo(12, 9);
  });

  it('sums a histogram over its labels and subtracts bucket by bucket', () => {
    const text = [
      'x_bucket{kind="a",le="1"} 2',
      'x_bucket{kind="a",le="+Inf"} 3',
      'x_sum{kind="a"} 4',
      'x_count{kind="a"} 3',
      'x_bucket{kind="b",le="1"} 1',
      'x_bucket{kind="b",le="+Inf"} 1',
      'x_sum{kind="b"} 0.5',
      'x_count{kind="b"} 1',
    ].join('\n');
    const h = scrapeHistogram(text, 'x');
    expect(h).toEqual({
      bounds: [1, Number.POSITIVE_INFINITY],
      cumulative: [3, 4],
      sum: 4.5,
      count: 4,
    });
    const none = scrapeHistogram('', 'x');
    expect(histogramDelta(none, h)).toEqual(h);
    expect(histogramQuantile(h, 0.5)).toBe(1);
    expect(histogramQuantile(h, 0.99)).toBe(Number.POSITIVE_INFINITY);
    expect(histogramQuantile(none, 0.99)).toBeNaN();
  });

  it('percentiles of raw samples and the spread over runs', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(samplePercentile(sorted, 0.99)).toBe(991);
    expect(samplePercentile(sorted, 0.999)).toBe(1000);
    expect(samplePercentile([], 0.5)).toBeNaN();
    expect(spread([1.3, Number.NaN, 0.9, 1.1, 1.0, 2.0])).toEqual({
      min: 0.9,
      median: 1.1,
      max: 2.0,
    });
  });
});

describe('bench-proxy flags of the tail run', () => {
  it('--only-streams with the device pack flags', () => {
    const parsed = parseBenchProxyArgs([
      '--only-streams',
      '--runs',
      '5',
      '--bundles',
      'dist',
      '--nginx',
      './nginx.sh',
    ]);
    expect(parsed).toMatchObject({
      kind: 'run',
      options: { only: 'streams', runs: 5, bundles: 'dist', nginx: './nginx.sh' },
    });
  });

  it("--stream-window sets run 2's window; out of range it names the flag and the range", () => {
    expect(parseBenchProxyArgs(['--only-streams', '--stream-window', '6'])).toMatchObject({
      kind: 'run',
      options: { only: 'streams', streamWindowS: 6 },
    });
    expect(parseBenchProxyArgs(['--only-streams'])).toMatchObject({
      options: { streamWindowS: undefined },
    });
    expect(parseBenchProxyArgs(['--stream-window', '0.1'])).toEqual({
      kind: 'error',
      message: "--stream-window expects a number from 0.5 to 600, got '0.1'",
    });
  });
});

describe('run 2 ratios against the bare relay, per run', () => {
  const rows = (...p99s: number[]): { ttftP99: number }[] => p99s.map((ttftP99) => ({ ttftP99 }));

  it('divides run by run, and a run the reference lacks gives NaN', () => {
    const ratios = p99RatiosPerRun(rows(110, 90, 300), rows(100, 100));
    expect(ratios.slice(0, 2)).toEqual([1.1, 0.9]);
    expect(ratios[2]).toBeNaN();
  });

  it('counts runs at or under the bound; a NaN ratio never counts', () => {
    expect(runsWithin([1.1, 0.42, 1.1000001, Number.NaN, 2], 1.1)).toBe(2);
    expect(runsWithin([], 1.1)).toBe(0);
  });
});
