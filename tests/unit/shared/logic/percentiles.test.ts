import { describe, expect, it } from 'vitest';

import {
  createLogHistogram,
  mergeInto,
  observe,
  percentile,
  summarize,
} from '../../../../shared/logic/percentiles';

describe('log-bucket histogram', () => {
  it.each([
    { q: 0.5, exact: 500 },
    { q: 0.9, exact: 900 },
    { q: 0.99, exact: 990 },
  ])('p$q of 1..1000 is within 2.5 % of $exact', ({ q, exact }) => {
    const h = createLogHistogram();
    for (let v = 1; v <= 1000; v++) observe(h, v);
    const p = percentile(h, q) as number;
    expect(Math.abs(p - exact) / exact).toBeLessThan(0.025);
  });

  it('takes percentiles from the distribution, not the mean', () => {
    const h = createLogHistogram();
    for (let i = 0; i < 98; i++) observe(h, 10);
    observe(h, 5000);
    observe(h, 5000);
    const s = summarize(h);
    expect(s.count).toBe(100);
    expect(s.p50).toBeCloseTo(10, 0);
    expect(s.p90).toBeCloseTo(10, 0);
    expect(s.p99 as number).toBeGreaterThan(4800);
  });

  it('is empty-safe, clamps to min and max, and keeps zeros', () => {
    const h = createLogHistogram();
    expect(summarize(h)).toEqual({ count: 0, p50: null, p90: null, p99: null });
    observe(h, 0);
    observe(h, 0);
    observe(h, 7);
    expect(percentile(h, 0.5)).toBe(0);
    expect(percentile(h, 1)).toBe(7);
    observe(h, Number.NaN);
    observe(h, -1);
    expect(h.count).toBe(3);
  });

  it('merges into the same percentiles as one histogram of everything, and survives JSON', () => {
    const a = createLogHistogram();
    const b = createLogHistogram();
    const all = createLogHistogram();
    for (let v = 1; v <= 300; v++) {
      observe(v % 2 ? a : b, v * 1.7);
      observe(all, v * 1.7);
    }
    const merged = JSON.parse(JSON.stringify(a)) as typeof a;
    mergeInto(merged, JSON.parse(JSON.stringify(b)) as typeof b);
    expect(summarize(merged)).toEqual(summarize(all));
    expect(merged.sum).toBeCloseTo(all.sum, 6);
  });
});
