// Bounded series and downsampling for the charts (renderer/lib/series.ts).
import { describe, expect, it } from 'vitest';

import { downsample, RingSeries } from '../../../../renderer/lib/series';

describe('RingSeries', () => {
  it('keeps the newest points up to its capacity, oldest first', () => {
    const ring = new RingSeries<{ atMs: number; v: number }>(3);
    for (let i = 1; i <= 5; i += 1) ring.push({ atMs: i * 1000, v: i });
    expect(ring.size).toBe(3);
    expect(ring.toArray().map((p) => p.v)).toEqual([3, 4, 5]);
    expect(ring.since(4000).map((p) => p.v)).toEqual([4, 5]);
    expect(ring.last()?.v).toBe(5);
  });

  it('replaces a point with the same time and drops older ones', () => {
    const ring = new RingSeries<{ atMs: number; v: number }>(4);
    ring.push({ atMs: 2000, v: 1 });
    ring.push({ atMs: 2000, v: 2 });
    ring.push({ atMs: 1000, v: 3 });
    expect(ring.toArray()).toEqual([{ atMs: 2000, v: 2 }]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new RingSeries(0)).toThrow(/positive integer/);
  });
});

describe('downsample', () => {
  const points = Array.from({ length: 3600 }, (_, i) => ({
    atMs: i * 1000,
    a: i,
    b: i % 2 === 0 ? null : 1,
  }));

  it('bins an hour of 1 s points into at most maxBins rows', () => {
    const rows = downsample(points, {
      fromMs: 0,
      toMs: 3_600_000,
      maxBins: 300,
      fields: {
        a: { read: (p) => p.a, reduce: 'mean' },
        amax: { read: (p) => p.a, reduce: 'max' },
        b: { read: (p) => p.b, reduce: 'sum' },
      },
    });
    expect(rows.length).toBe(300);
    expect(rows[0]).toEqual({ atMs: 0, a: 5.5, amax: 11, b: 6 });
    expect(rows[299]!.atMs).toBe(3_588_000);
  });

  it('keeps 1 s resolution for short windows and leaves out points outside the range', () => {
    const rows = downsample(points, {
      fromMs: 10_000,
      toMs: 20_000,
      maxBins: 600,
      fields: { a: { read: (p) => p.a, reduce: 'last' } },
    });
    expect(rows.map((r) => r.a)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('gives null for a field with no value in a bin', () => {
    const rows = downsample([{ atMs: 0, v: null }], {
      fromMs: 0,
      toMs: 1000,
      maxBins: 1,
      fields: { v: { read: (p: { v: number | null }) => p.v, reduce: 'mean' } },
    });
    expect(rows).toEqual([{ atMs: 0, v: null }]);
  });
});
