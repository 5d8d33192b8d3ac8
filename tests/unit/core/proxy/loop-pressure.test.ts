// LoopPressure (issue #16): the CPU-pressure state machine driven by hand-made samples and times, no
// waiting: CoDel-style entry (saturated for a whole interval, not one spike), a cap that follows the
// pressure while overloaded, and the way back to normal.
import { describe, expect, it } from 'vitest';

import {
  LoopPressure,
  type LoopPressureOptions,
  MIN_LOOP_LIMIT,
} from '../../../../electron/core/proxy/loop-pressure';

const OPTS: LoopPressureOptions = { maxDelayMs: 20, maxUtilization: 1, intervalMs: 300 };
const calm = { delayMs: 1, utilization: 0.4 };
const busy = (delayMs: number): { delayMs: number; utilization: number } => ({
  delayMs,
  utilization: 1,
});

/** Feeds `sample` every 50 ms from `from` to `to` (inclusive) with `inProcess` requests; returns the last cap. */
function feed(
  p: LoopPressure,
  sample: { delayMs: number; utilization: number },
  from: number,
  to: number,
  inProcess: number,
): number {
  let cap = p.limit;
  for (let t = from; t <= to; t += 50) cap = p.update(sample, t, inProcess);
  return cap;
}

describe('LoopPressure', () => {
  it('a calm loop never caps anything', () => {
    const p = new LoopPressure(OPTS);
    expect(feed(p, calm, 0, 10_000, 500)).toBe(Infinity);
    expect(p.isOverloaded).toBe(false);
  });

  it('a spike shorter than the interval passes; one sustained for the interval starts the cap', () => {
    const p = new LoopPressure(OPTS);
    feed(p, busy(100), 0, 250, 200); // 250 ms above target: a spike
    expect(feed(p, calm, 300, 300, 200)).toBe(Infinity);
    feed(p, busy(40), 350, 600, 200);
    expect(p.isOverloaded).toBe(false);
    // 300 ms above target since 350: overloaded, the cap is in-process scaled by target/measured (20/40).
    expect(p.update(busy(40), 650, 200)).toBe(100);
    expect(p.isOverloaded).toBe(true);
  });

  it('while saturated the cap falls at most by half per sample, never below the minimum', () => {
    const p = new LoopPressure(OPTS);
    feed(p, busy(1_000), 0, 300, 400);
    expect(p.limit).toBe(200); // 400 x max(0.5, 20/1000)
    expect(p.update(busy(1_000), 350, 400)).toBe(100);
    expect(p.update(busy(22), 400, 400)).toBe(90); // 100 x 20/22: a gentle trim near the target
    expect(feed(p, busy(1_000), 450, 2_000, 400)).toBe(MIN_LOOP_LIMIT);
  });

  it('a cap above what is in use collapses to the use first', () => {
    const p = new LoopPressure(OPTS);
    feed(p, busy(40), 0, 300, 400);
    expect(p.limit).toBe(200);
    expect(p.update(busy(40), 350, 60)).toBe(30);
  });

  it('calm while capped: the cap grows by at most 20% a sample, bounded by twice the use', () => {
    const p = new LoopPressure(OPTS);
    feed(p, busy(40), 0, 300, 200);
    expect(p.limit).toBe(100);
    expect(p.update(calm, 350, 100)).toBe(120);
    expect(p.update(calm, 400, 20)).toBe(2 * 20 + MIN_LOOP_LIMIT);
  });

  it('ends after a calm interval with the cap not reached, not while arrivals still fill it', () => {
    const p = new LoopPressure(OPTS);
    feed(p, busy(40), 0, 300, 200);
    // Calm, but every sample finds the process at its cap: demand still exceeds what the loop can do.
    let cap = p.limit;
    for (let t = 350; t <= 1_000; t += 50) cap = p.update(calm, t, cap);
    expect(p.isOverloaded).toBe(true);
    // Calm and below the cap for a whole interval: back to normal.
    feed(p, calm, 1_050, 1_400, 10);
    expect(p.isOverloaded).toBe(false);
    expect(p.limit).toBe(Infinity);
  });

  it('a saturated sample restarts the calm interval', () => {
    const p = new LoopPressure(OPTS);
    feed(p, busy(40), 0, 300, 200);
    feed(p, calm, 350, 550, 10);
    p.update(busy(40), 600, 10);
    feed(p, calm, 650, 900, 10);
    expect(p.isOverloaded).toBe(true);
    feed(p, calm, 950, 950, 10);
    expect(p.isOverloaded).toBe(false);
  });

  it('utilization is watched when its limit is below 1; both off means disabled', () => {
    const byUse = new LoopPressure({ maxDelayMs: 0, maxUtilization: 0.9, intervalMs: 100 });
    expect(byUse.isEnabled).toBe(true);
    feed(byUse, { delayMs: 500, utilization: 0.85 }, 0, 500, 100);
    expect(byUse.isOverloaded).toBe(false);
    feed(byUse, { delayMs: 0, utilization: 0.99 }, 550, 650, 100);
    expect(byUse.isOverloaded).toBe(true);
    expect(byUse.limit).toBe(90); // 100 x 0.9/0.99
    expect(new LoopPressure({ maxDelayMs: 0, maxUtilization: 1, intervalMs: 100 }).isEnabled).toBe(
      false,
    );
  });
});
