// The proxy's own tail causes on /metrics (issue #16): event-loop delay folded from the delay
// monitor's percentiles, GC pauses by kind, the "since the previous scrape" maxima, and where they
// appear in ProxyMetrics' text beside the admission and upstream-pool waits.
import { constants } from 'node:perf_hooks';

import { describe, expect, it } from 'vitest';

import { ProxyMetrics } from '../../../../electron/core/proxy/metrics';
import {
  type DelaySamples,
  gcKindOf,
  RuntimeDiagnostics,
} from '../../../../electron/core/proxy/runtime-diagnostics';
import { PoolWaitStats } from '../../../../electron/core/proxy/upstream-pool';

/** A delay monitor's state: percent -> ms (stored in ns, as perf_hooks does), with a reset counter. */
function samples(
  count: number,
  msByPercent: Array<[number, number]>,
): DelaySamples & { resets: number } {
  const s = {
    percentiles: new Map(msByPercent.map(([p, ms]) => [p, ms * 1e6])),
    count,
    resets: 0,
    reset() {
      s.resets++;
    },
  };
  return s;
}

/** The value of one exposition line, by its exact series name. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const EMPTY = { active: 0, limit: 4096, queued: 0, isOverloaded: false };

describe('RuntimeDiagnostics', () => {
  it('folds the monitor: each percentile step adds its share of the count at its delay (sample minus the 1 ms interval)', () => {
    const d = new RuntimeDiagnostics(1);
    // 200 samples: half at 1.4 ms (0.4 ms late), up to 99% at 11 ms, the last 2 at 51 ms.
    const s = samples(200, [
      [0, 1.0],
      [50, 1.4],
      [99, 11],
      [100, 51],
    ]);
    d.foldLoopDelay(s);
    const h = d.loopDelay;
    expect(h.count).toBe(200);
    expect(s.resets).toBe(1);
    const at = (bound: number): number => h.counts[h.bounds.indexOf(bound)] as number;
    expect([at(0.001), at(0.01), at(0.05)]).toEqual([100, 98, 2]);
    expect(h.sum).toBeCloseTo(100 * 0.0004 + 98 * 0.01 + 2 * 0.05, 9);
    // Folded again after more samples: cumulative, as Prometheus expects.
    d.foldLoopDelay(samples(10, [[100, 3]]));
    expect(h.count).toBe(210);
    expect(at(0.002)).toBe(10);
  });

  it('reports the largest delay and GC pause since the previous render, then starts over', () => {
    const d = new RuntimeDiagnostics(1);
    d.foldLoopDelay(samples(4, [[100, 81]]));
    d.observeGc('minor', 0.002);
    d.observeGc('minor', 0.006);
    d.observeGc('major', 0.004);
    const text = d.render('x_').join('\n');
    expect(value(text, 'x_event_loop_delay_max_seconds')).toBeCloseTo(0.08, 9);
    expect(value(text, 'x_gc_pause_max_seconds')).toBe(0.006);
    expect(value(text, 'x_gc_pause_seconds_count{kind="minor"}')).toBe(2);
    expect(value(text, 'x_gc_pause_seconds_sum{kind="minor"}')).toBeCloseTo(0.008, 9);
    expect(value(text, 'x_gc_pause_seconds_count{kind="major"}')).toBe(1);
    expect(value(text, 'x_event_loop_delay_seconds_count')).toBe(4);
    const again = d.render('x_').join('\n');
    expect(value(again, 'x_event_loop_delay_max_seconds')).toBe(0);
    expect(value(again, 'x_gc_pause_max_seconds')).toBe(0);
    // The histograms stay cumulative.
    expect(value(again, 'x_gc_pause_seconds_count{kind="minor"}')).toBe(2);
  });

  it('names perf_hooks GC kinds', () => {
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_MINOR)).toBe('minor');
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_MAJOR)).toBe('major');
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_INCREMENTAL)).toBe('incremental');
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_WEAKCB)).toBe('weakcb');
    expect(gcKindOf(undefined)).toBe('major');
  });

  it('once started, a blocked event loop shows in the delay (at least the part a loaded machine cannot shorten)', async () => {
    const d = new RuntimeDiagnostics(1);
    d.start();
    try {
      await new Promise((r) => setTimeout(r, 20));
      const until = performance.now() + 60;
      while (performance.now() < until) {
        // blocking the loop on purpose
      }
      await new Promise((r) => setTimeout(r, 20));
      const text = d.render('x_').join('\n');
      expect(value(text, 'x_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0.05);
      expect(value(text, 'x_event_loop_delay_seconds_count')).toBeGreaterThan(0);
    } finally {
      d.stop();
    }
  });
});

describe('ProxyMetrics: tail causes on /metrics', () => {
  it('renders admission waits, upstream pool waits and connections opened, and the runtime diagnostics', () => {
    const pools = new PoolWaitStats();
    const m = new ProxyMetrics(pools);
    m.admissionWait.observe(0);
    m.admissionWait.observe(0.2);
    pools.observeWait(0);
    pools.observeWait(0.003);
    pools.observeWait(0.004);
    pools.countOpened();
    m.runtime.observeGc('minor', 0.001);
    const text = m.render([], 0, true, EMPTY);
    const p = 'disagg_proxy_';
    expect(value(text, `${p}admission_wait_seconds_count`)).toBe(2);
    expect(value(text, `${p}admission_wait_seconds_bucket{le="0.0005"}`)).toBe(1);
    expect(value(text, `${p}admission_wait_seconds_sum`)).toBe(0.2);
    expect(value(text, `${p}upstream_pool_wait_seconds_count`)).toBe(3);
    expect(value(text, `${p}upstream_pool_wait_seconds_bucket{le="0.0025"}`)).toBe(1);
    expect(value(text, `${p}upstream_pool_wait_seconds_bucket{le="0.005"}`)).toBe(3);
    expect(value(text, `${p}upstream_connections_opened_total`)).toBe(1);
    expect(value(text, `${p}gc_pause_seconds_count{kind="minor"}`)).toBe(1);
    expect(value(text, `${p}event_loop_delay_max_seconds`)).toBe(0);
    // Each metric family declared once.
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });
});
