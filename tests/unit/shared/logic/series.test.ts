import { describe, expect, it } from 'vitest';

import { pointsBetween, RingSeries } from '../../../../shared/logic/series';

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
