// Bounded series and downsampling for the charts and the backend's metrics (shared/logic/series.ts).
import { describe, expect, it } from 'vitest';

import { downsample, pointsBetween, RingSeries, TimeSeries } from '../../../../shared/logic/series';

describe('RingSeries', () => {
  it('keeps the last N points, oldest first', () => {
    const s = new RingSeries<number>(3);
    for (let i = 1; i <= 5; i++) s.push(i);
    expect(s.toArray()).toEqual([3, 4, 5]);
    expect(s.length).toBe(3);
    expect(s.at(0)).toBe(3);
    expect(s.last()).toBe(5);
    expect(s.at(3)).toBeUndefined();
  });

  it('replaces the newest point and clears', () => {
    const s = new RingSeries<number>(2);
    s.replaceLast(9);
    expect(s.length).toBe(0);
    s.push(1);
    s.push(2);
    s.push(3);
    s.replaceLast(30);
    expect(s.toArray()).toEqual([2, 30]);
    s.clear();
    expect(s.toArray()).toEqual([]);
  });

  it.each([0, -1, 1.5])('rejects capacity %s', (c) => {
    expect(() => new RingSeries(c)).toThrow(/capacity/);
  });

  it('selects points in a time window', () => {
    const s = new RingSeries<{ atMs: number }>(10);
    for (const atMs of [1000, 2000, 3000, 4000]) s.push({ atMs });
    expect(pointsBetween(s, 2000, 4000).map((p) => p.atMs)).toEqual([2000, 3000]);
  });
});

describe('TimeSeries', () => {
  it('keeps the newest points up to its capacity, oldest first', () => {
    const ring = new TimeSeries<{ atMs: number; v: number }>(3);
    for (let i = 1; i <= 5; i += 1) ring.push({ atMs: i * 1000, v: i });
    expect(ring.length).toBe(3);
    expect(ring.toArray().map((p) => p.v)).toEqual([3, 4, 5]);
    expect(ring.since(4000).map((p) => p.v)).toEqual([4, 5]);
    expect(ring.since(0).map((p) => p.v)).toEqual([3, 4, 5]);
    expect(ring.since(6000)).toEqual([]);
    expect(ring.last()?.v).toBe(5);
  });

  it('replaces a point with the same time and drops older ones', () => {
    const ring = new TimeSeries<{ atMs: number; v: number }>(4);
    ring.push({ atMs: 2000, v: 1 });
    ring.push({ atMs: 2000, v: 2 });
    ring.push({ atMs: 1000, v: 3 });
    expect(ring.toArray()).toEqual([{ atMs: 2000, v: 2 }]);
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
