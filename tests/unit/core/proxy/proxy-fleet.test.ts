// The fleet's pure parts: the default process count and how global admission limits are split.
import { describe, expect, it } from 'vitest';

import {
  fleetProcessSettings,
  shareOf,
  suggestedWorkerCount,
} from '../../../../electron/core/proxy/proxy-fleet';
import { DEFAULT_RUN_SETTINGS } from '../../../../electron/core/proxy/proxy-runtime';

describe('proxy fleet', () => {
  it('suggests one process per two cores, at least 1 and at most 8', () => {
    expect([1, 2, 3, 4, 16, 17, 64].map((c) => suggestedWorkerCount(c))).toEqual([
      1, 1, 1, 2, 8, 8, 8,
    ]);
  });

  it('splits a limit into parts that differ by at most one and sum to it', () => {
    for (const [total, n] of [
      [4096, 3],
      [10, 4],
      [7, 7],
      [1024, 8],
      [9, 2],
    ] as const) {
      const parts = Array.from({ length: n }, (_, i) => shareOf(total, n, i));
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }
  });

  it('gives each process its share of concurrency and queue, the other settings unchanged', () => {
    const s = { ...DEFAULT_RUN_SETTINGS, maxConcurrency: 10, maxQueue: 5 };
    const parts = [0, 1, 2].map((i) => fleetProcessSettings(s, 3, i));
    expect(parts.map((p) => p.maxConcurrency)).toEqual([4, 3, 3]);
    expect(parts.map((p) => p.maxQueue)).toEqual([2, 2, 1]);
    expect(parts[0]?.queueTimeoutS).toBe(s.queueTimeoutS);
  });

  it('refuses a concurrency limit below the process count', () => {
    expect(() =>
      fleetProcessSettings({ ...DEFAULT_RUN_SETTINGS, maxConcurrency: 3 }, 4, 0),
    ).toThrow(/--max-concurrency 3 is below --workers 4/);
  });
});
