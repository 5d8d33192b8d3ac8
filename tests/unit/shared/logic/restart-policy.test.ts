import { describe, expect, it } from 'vitest';

import {
  DEFAULT_RESTART_POLICY,
  nextRestartDelayMs,
  resolveRestartPolicy,
  shouldRestart,
} from '../../../../shared/logic/restart-policy';

describe('nextRestartDelayMs', () => {
  const policy = { backoffBaseMs: 1000, backoffMaxMs: 15_000 };
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 15_000],
    [6, 15_000],
    [1000, 15_000],
    [0, 1000],
  ])('attempt %i waits %i ms', (attempt, expected) => {
    expect(nextRestartDelayMs(attempt, policy)).toBe(expected);
  });

  it('uses a cap below the base as the delay', () => {
    expect(nextRestartDelayMs(1, { backoffBaseMs: 500, backoffMaxMs: 100 })).toBe(100);
  });
});

describe('shouldRestart', () => {
  it.each([
    [1, 3, true],
    [3, 3, true],
    [4, 3, false],
    [1, 0, false],
  ])('crash %i with maxRestarts %i -> %s', (attempt, maxRestarts, expected) => {
    expect(shouldRestart(attempt, { maxRestarts })).toBe(expected);
  });
});

describe('resolveRestartPolicy', () => {
  it('keeps the PM2-like defaults and applies overrides', () => {
    const p = resolveRestartPolicy({ killTimeoutMs: 50 });
    expect(p.killTimeoutMs).toBe(50);
    expect(p.backoffMaxMs).toBe(15_000);
    expect(p.readyTimeoutMs).toBe(DEFAULT_RESTART_POLICY.readyTimeoutMs);
    expect(DEFAULT_RESTART_POLICY.readyTimeoutMs).toBeGreaterThanOrEqual(10 * 60_000);
  });
});
