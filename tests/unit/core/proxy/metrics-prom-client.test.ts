// The proxy's /metrics histograms are written by hand (shared/logic/histogram.ts) because prom-client's
// observe costs about 1 us against ours' 50 ns, paid once per streamed token (bench/metrics-observe-bench.ts),
// and its exposition is async. This holds ours to prom-client: the same observations give the same
// bucket counts, sum and count, series for series.
import { Histogram as PromHistogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import {
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  OVERHEAD_BUCKETS_SECONDS,
} from '../../../../shared/logic/histogram';

/** Exposition lines as series -> value, comments dropped. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** A seeded spread of latencies: bucket bounds exactly, just above and below, zero, and far beyond. */
function observations(bounds: readonly number[], seed: number): number[] {
  let s = seed;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const values = [
    0,
    ...bounds,
    ...bounds.map((b) => b * 1.000001),
    ...bounds.map((b) => b * 0.999999),
    (bounds[bounds.length - 1] as number) * 10,
  ];
  for (let i = 0; i < 2000; i++) {
    values.push(rnd() ** 3 * (bounds[bounds.length - 1] as number) * 1.2);
  }
  return values;
}

describe('Histogram against prom-client', () => {
  it.each([
    ['latency buckets', LATENCY_BUCKETS_SECONDS, 1],
    ['overhead buckets', OVERHEAD_BUCKETS_SECONDS, 2],
  ])('%s: same buckets, sum and count', async (_name, bounds, seed) => {
    const ours = new Histogram(bounds);
    const registry = new Registry();
    const prom = new PromHistogram({
      name: 'disagg_proxy_x_seconds',
      help: 'x',
      buckets: [...bounds],
      registers: [registry],
    });
    for (const v of observations(bounds, seed)) {
      ours.observe(v);
      prom.observe(v);
    }
    const theirs = series(await registry.metrics());
    const mine = series(ours.render('disagg_proxy_x_seconds').join('\n'));
    expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, value] of theirs) {
      if (key.endsWith('_sum')) expect(mine.get(key)).toBeCloseTo(value, 9);
      else expect(mine.get(key), key).toBe(value);
    }
  });
});
