import { describe, expect, it } from 'vitest';

import {
  type EngineClock,
  type EngineJob,
  type EngineLimits,
  type IterationStats,
  SimEngine,
} from '../../../../electron/sim/sim-engine';

/** A virtual clock: schedule() queues tasks, run() executes them in time order without real waiting. */
class FakeClock implements EngineClock {
  now = 0;
  private tasks: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  nowMs(): number {
    return this.now;
  }
  schedule(fn: () => void, delayMs: number): void {
    this.tasks.push({ at: this.now + Math.max(0, delayMs), seq: this.seq++, fn });
  }
  run(limit = 100_000): void {
    for (let i = 0; i < limit && this.tasks.length > 0; i += 1) {
      this.tasks.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const task = this.tasks.shift();
      if (!task) return;
      this.now = Math.max(this.now, task.at);
      task.fn();
    }
  }
}

interface Tracked {
  job: EngineJob;
  tokens: number[];
  scheduledAt: number | null;
  doneAt: number | null;
}

function track(
  prefillTokens: number,
  outputTokens: number,
  kvTokens = prefillTokens + outputTokens,
): Tracked {
  const t: Tracked = {
    tokens: [],
    scheduledAt: null,
    doneAt: null,
    job: undefined as unknown as EngineJob,
  };
  t.job = {
    prefillTokens,
    kvTokens,
    onScheduled: (now) => {
      t.scheduledAt = now;
    },
    step: (now) => {
      t.tokens.push(now);
      if (t.tokens.length >= outputTokens) {
        t.doneAt = now;
        return true;
      }
      return false;
    },
  };
  return t;
}

const LIMITS: EngineLimits = {
  maxBatchSize: 4,
  maxNumTokens: 1000,
  kvCapacityTokens: 32 * 100,
  tokensPerBlock: 32,
};
/** 1 ms per 100 prefill tokens plus 10 ms + 1 ms per decoding request. */
const TIMING = {
  iterationMs: (prefills: readonly number[], gen: number) =>
    prefills.reduce((a, b) => a + b, 0) / 100 + (gen > 0 ? 10 + gen : 0),
};

describe('SimEngine', () => {
  it('runs prefill then one decode step per iteration with the timing model', () => {
    const clock = new FakeClock();
    const engine = new SimEngine({ limits: LIMITS, timing: TIMING, clock });
    const a = track(500, 3);
    engine.submit(a.job);
    clock.run();
    // prefill 5 ms (first token), then two decode steps of 11 ms each.
    expect(a.tokens).toEqual([5, 16, 27]);
    expect(a.doneAt).toBe(27);
  });

  it('bounds the batch by max_batch_size and queues the rest', () => {
    const clock = new FakeClock();
    const stats: IterationStats[] = [];
    const engine = new SimEngine({
      limits: LIMITS,
      timing: TIMING,
      clock,
      onIteration: (s) => stats.push(s),
    });
    const jobs = Array.from({ length: 6 }, () => track(100, 2));
    for (const j of jobs) engine.submit(j.job);
    expect(engine.snapshot().queued).toBe(6);
    clock.run();
    expect(jobs.every((j) => j.doneAt !== null)).toBe(true);
    expect(Math.max(...stats.map((s) => s.numActiveRequests))).toBe(4);
    // The 5th and 6th start only after the first ones finish.
    expect(jobs[4]?.scheduledAt).toBeGreaterThan(0);
    expect(jobs[4]?.scheduledAt).toBeGreaterThanOrEqual(jobs[0]?.doneAt ?? Infinity);
    expect(stats[0]).toMatchObject({
      iter: 0,
      numNewActiveRequests: 4,
      numQueuedRequests: 2,
      maxBatchSizeStatic: 4,
      maxNumTokensStatic: 1000,
    });
    expect(stats[0]?.inflightBatchingStats).toMatchObject({
      numContextRequests: 4,
      numCtxTokens: 400,
      numGenRequests: 0,
    });
  });

  it('bounds prefill tokens per iteration by max_num_tokens', () => {
    const clock = new FakeClock();
    const stats: IterationStats[] = [];
    const engine = new SimEngine({
      limits: { ...LIMITS, maxNumTokens: 600 },
      timing: TIMING,
      clock,
      onIteration: (s) => stats.push(s),
    });
    engine.submit(track(400, 1).job);
    engine.submit(track(400, 1).job);
    clock.run();
    expect(stats.map((s) => s.inflightBatchingStats.numCtxTokens)).toEqual([400, 400]);
  });

  it('admits only what fits in the KV cache and rejects a job larger than the cache', () => {
    const clock = new FakeClock();
    const engine = new SimEngine({
      limits: { ...LIMITS, kvCapacityTokens: 320 },
      timing: TIMING,
      clock,
    });
    const a = track(200, 10);
    const b = track(200, 10);
    engine.submit(a.job);
    engine.submit(b.job);
    clock.run();
    expect(b.scheduledAt).toBeGreaterThanOrEqual(a.doneAt ?? Infinity);
    let rejected = '';
    engine.submit({
      prefillTokens: 1000,
      kvTokens: 1000,
      step: () => true,
      onRejected: (r) => (rejected = r),
    });
    expect(rejected).toContain('KV cache holds 320');
  });

  it('decodes faster per request in a bigger batch only as the timing model says (shared iterations)', () => {
    const clock = new FakeClock();
    const engine = new SimEngine({ limits: LIMITS, timing: TIMING, clock });
    const a = track(100, 3);
    const b = track(100, 3);
    engine.submit(a.job);
    engine.submit(b.job);
    clock.run();
    // Both are in the same iterations: prefill 2 ms, then decode steps of 12 ms (2 requests).
    expect(a.tokens).toEqual([2, 14, 26]);
    expect(b.tokens).toEqual(a.tokens);
  });

  it('frees the slot of a cancelled job and keeps held KV until released', () => {
    const clock = new FakeClock();
    const engine = new SimEngine({
      limits: { ...LIMITS, kvCapacityTokens: 320 },
      timing: TIMING,
      clock,
    });
    const release = engine.holdKv(320);
    const a = track(100, 2);
    const handle = engine.submit(a.job);
    clock.run();
    expect(a.scheduledAt).toBeNull();
    expect(engine.snapshot()).toMatchObject({ queued: 1, heldKvTokens: 320 });
    release();
    clock.run();
    expect(a.doneAt).not.toBeNull();
    const b = track(100, 50);
    const hb = engine.submit(b.job);
    clock.now += 0;
    hb.cancel();
    handle.cancel();
    clock.run();
    expect(b.tokens.length).toBe(0);
    expect(engine.snapshot()).toMatchObject({ queued: 0, active: 0, usedKvTokens: 0 });
  });

  it("tells the timing model each prefill and the decoding requests' average context", () => {
    const clock = new FakeClock();
    const calls: [number[], number, number][] = [];
    const engine = new SimEngine({
      limits: LIMITS,
      timing: { iterationMs: (p, g, c) => (calls.push([[...p], g, c]), 1) },
      clock,
    });
    engine.submit(track(100, 3).job);
    engine.submit({ ...track(0, 2).job, contextTokens: 50 });
    clock.run();
    expect(calls).toEqual([
      [[100], 1, 50],
      [[], 2, 76],
      [[], 1, 102],
    ]);
  });

  it('applies the slowdown fault to iteration durations', () => {
    const clock = new FakeClock();
    const engine = new SimEngine({ limits: LIMITS, timing: TIMING, clock });
    engine.setSlowdown(2, 1);
    const a = track(500, 2);
    engine.submit(a.job);
    clock.run();
    expect(a.tokens).toEqual([11, 34]);
  });
});
