// Exact statistics against numpy's reference values (np.mean, np.std, np.median, np.percentile 'linear').
import { describe, expect, it } from 'vitest';

import {
  mean,
  median,
  percentile,
  std,
  summarize,
} from '../../../../electron/core/bench/bench-stats';

describe('bench stats', () => {
  it.each([
    [[1, 2, 3, 4], 99, 3.97],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1],
    [[10, 1, 5], 50, 5],
    [[7], 99, 7],
    [[1, 2], 0, 1],
    [[1, 2], 100, 2],
    [[], 99, 0],
  ])('percentile(%j, %d) = %d as numpy', (values, q, expected) => {
    expect(percentile(values, q)).toBeCloseTo(expected, 10);
  });

  it('mean, population std and median match numpy', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(std([1, 2, 3, 4])).toBeCloseTo(1.118033988749895, 12);
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(mean([])).toBe(0);
    expect(std([])).toBe(0);
  });

  it('rejects a percentile outside [0, 100]', () => {
    expect(() => percentile([1, 2], 101)).toThrow(RangeError);
  });

  it('summarize sorts once and reports every requested percentile', () => {
    const s = summarize([5, 1, 4, 2, 3], [25, 50, 99]);
    expect(s.median).toBe(3);
    expect(s.percentiles).toEqual([
      [25, 2],
      [50, 3],
      [99, expect.closeTo(4.96, 10) as number],
    ]);
  });
});
