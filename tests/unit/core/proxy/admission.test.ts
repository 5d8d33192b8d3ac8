// AdmissionController (reliability.md item 13) on a manual clock: limit, FIFO queue, 429 when full,
// CoDel-style 503 once the queue stands above target for an interval, timeouts and cancellation.
import { describe, expect, it } from 'vitest';

import type {
  AdmissionClock,
  AdmissionOptions,
  AdmissionVerdict,
  QueuedAdmission,
} from '../../../../electron/core/proxy/admission';
import { AdmissionController } from '../../../../electron/core/proxy/admission';

class ManualClock implements AdmissionClock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= until && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = until;
  }
  pending(): number {
    return this.timers.size;
  }
}

const OPTS: AdmissionOptions = {
  maxConcurrency: 2,
  maxQueue: 3,
  queueTargetMs: 10,
  queueIntervalMs: 100,
  queueTimeoutMs: 1_000,
};

function make(o: Partial<AdmissionOptions> = {}): { c: AdmissionController; clock: ManualClock } {
  const clock = new ManualClock();
  return { c: new AdmissionController({ ...OPTS, ...o }, clock), clock };
}

function queued(v: AdmissionVerdict | QueuedAdmission): QueuedAdmission {
  if (typeof v === 'string') throw new Error(`expected to be queued, got ${v}`);
  return v;
}

/** Settled value of a promise, or 'pending' (microtasks flushed first). */
async function state<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), 0))]);
}

describe('AdmissionController', () => {
  it('admits up to the limit at once, queues FIFO behind it, and answers queue_full when the queue is full', async () => {
    const { c } = make();
    expect(c.admit()).toBe('admitted');
    expect(c.admit()).toBe('admitted');
    const q = [queued(c.admit()), queued(c.admit()), queued(c.admit())];
    expect(c.admit()).toBe('queue_full');
    expect(c.snapshot()).toMatchObject({ active: 2, queued: 3, limit: 2 });
    c.release();
    expect(await state(q[0]!.result)).toBe('admitted');
    expect(await state(q[1]!.result)).toBe('pending');
    c.release();
    expect(await state(q[1]!.result)).toBe('admitted');
    expect(await state(q[2]!.result)).toBe('pending');
    expect(c.snapshot()).toMatchObject({ active: 2, queued: 1 });
  });

  it('a burst shorter than the interval waits and is admitted (good queue), even past the target', async () => {
    const { c, clock } = make();
    c.admit();
    c.admit();
    const q = queued(c.admit());
    clock.advance(50); // 5x target, but within the first interval
    c.release();
    expect(await state(q.result)).toBe('admitted');
    expect(c.snapshot().isOverloaded).toBe(false);
  });

  it('a queue whose wait stays above target for a whole interval turns overloaded: new arrivals are refused at once, queued ones keep their place', async () => {
    const { c, clock } = make({ maxConcurrency: 2, maxQueue: 100 });
    c.admit();
    c.admit();
    const waiting = [queued(c.admit()), queued(c.admit()), queued(c.admit())];
    clock.advance(20);
    waiting.push(queued(c.admit())); // the head has waited 20 ms > 10 ms target: above since 20 ms
    clock.advance(40);
    c.release(); // at 60 ms: still above, but only for 40 ms
    expect(c.snapshot().isOverloaded).toBe(false);
    clock.advance(60);
    c.release(); // at 120 ms: above target for a whole interval (100 ms)
    expect(c.snapshot()).toMatchObject({ isOverloaded: true, active: 2, queued: 2 });
    // A new arrival would wait about 1.5 slot turnovers of ~33 ms > target: refused at once, not queued.
    expect(c.admit()).toBe('overloaded');
    expect(c.snapshot().queued).toBe(2);
    // Those already queued are admitted in turn, not thrown out.
    c.release();
    c.release();
    expect(await Promise.all(waiting.map((w) => state(w.result)))).toEqual([
      'admitted',
      'admitted',
      'admitted',
      'admitted',
    ]);
  });

  it('a queue that drains restarts the interval (only a standing queue counts)', () => {
    const { c, clock } = make({ maxConcurrency: 1, maxQueue: 100 });
    c.admit();
    queued(c.admit());
    clock.advance(20);
    const q2 = queued(c.admit()); // the head waited 20 ms > target: above since 20 ms
    clock.advance(30);
    c.release(); // at 50 ms the next head has waited 30 ms: still above
    q2.cancel();
    clock.advance(10);
    c.release(); // at 60 ms the queue is empty: the wait is 0, the interval restarts
    c.admit();
    queued(c.admit());
    clock.advance(50);
    queued(c.admit()); // at 110 ms the head waited 50 ms: above again, since 110 ms
    clock.advance(60);
    c.release(); // at 170 ms: 150 ms after the first above-target sample, but only 60 ms since the drain
    expect(c.snapshot().isOverloaded).toBe(false);
    clock.advance(50);
    c.admit(); // at 220 ms: above at every sample since 110 ms, a whole interval
    expect(c.snapshot().isOverloaded).toBe(true);
  });

  it('while overloaded, arrivals join while their predicted wait (position x service time / limit) is within target', () => {
    const { c, clock } = make({ maxConcurrency: 100, maxQueue: 100 });
    for (let i = 0; i < 100; i++) expect(c.admit()).toBe('admitted');
    c.admit();
    c.admit();
    c.admit();
    clock.advance(20);
    c.admit();
    clock.advance(130);
    c.release(); // service time 150 ms; above target since 20 ms: overloaded at 150 ms, 3 in line
    expect(c.snapshot()).toMatchObject({ isOverloaded: true, queued: 3 });
    // A slot turns over every 150 / 100 = 1.5 ms: positions 4..6 expect 6, 7.5 and 9 ms (within the
    // 10 ms target); position 7 expects 10.5 ms.
    const joined = [c.admit(), c.admit(), c.admit()];
    expect(joined.every((v) => typeof v !== 'string')).toBe(true);
    expect(c.admit()).toBe('overloaded');
    expect(c.snapshot().queued).toBe(6);
  });

  it('stays overloaded while arrivals outnumber departures or every slot stays busy, and leaves after two intervals in which neither held', () => {
    const { c, clock } = make({ maxConcurrency: 100, maxQueue: 100 });
    for (let i = 0; i < 103; i++) c.admit();
    clock.advance(20);
    c.admit();
    clock.advance(130);
    c.release(); // overloaded at 150 ms; the interval runs to 250 ms
    for (let i = 0; i < 4; i++) c.admit(); // 3 join, 1 refused
    clock.advance(10);
    for (let i = 0; i < 6; i++) c.release(); // the queue drains: a lull, wait 0
    expect(c.snapshot().queued).toBe(0);
    clock.advance(10);
    for (let i = 0; i < 7; i++) c.admit(); // more arrivals: 11 in this interval against 6 departures
    clock.advance(80);
    c.release(); // at 250 ms
    expect(c.snapshot().isOverloaded).toBe(true);
    clock.advance(10);
    for (let i = 0; i < 3; i++) c.release(); // the next interval: only departures, but the slots stay busy
    clock.advance(90);
    c.release(); // at 350 ms: arrivals (0) <= departures, yet no slot went free: still overloaded
    expect(c.snapshot()).toMatchObject({ isOverloaded: true, queued: 1 });
    clock.advance(10);
    for (let i = 0; i < 2; i++) c.release(); // the queue drains and a slot goes free
    clock.advance(90);
    c.release(); // at 450 ms: spare capacity and arrivals <= departures, once
    expect(c.snapshot().isOverloaded).toBe(true);
    clock.advance(100);
    c.release(); // at 550 ms: a second calm interval in a row: normal again
    expect(c.snapshot().isOverloaded).toBe(false);
    expect(c.admit()).toBe('admitted');
  });

  it('a queued request times out with queue_timeout and its place is freed', async () => {
    const { c, clock } = make({ queueTimeoutMs: 500 });
    c.admit();
    c.admit();
    const q = queued(c.admit());
    clock.advance(499);
    expect(await state(q.result)).toBe('pending');
    clock.advance(1);
    expect(await state(q.result)).toBe('queue_timeout');
    expect(c.snapshot().queued).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('cancel leaves the queue: the next release admits the one behind, and the timer is cleared', async () => {
    const { c, clock } = make();
    c.admit();
    c.admit();
    const a = queued(c.admit());
    const b = queued(c.admit());
    a.cancel();
    expect(await state(a.result)).toBe('cancelled');
    expect(c.snapshot().queued).toBe(1);
    c.release();
    expect(await state(b.result)).toBe('admitted');
    expect(clock.pending()).toBe(0);
    a.cancel(); // twice is harmless
    expect(c.snapshot()).toMatchObject({ active: 2, queued: 0 });
  });

  it('counts stay exact over many admit/cancel/release cycles (no leak of slots or queue places)', async () => {
    const { c, clock } = make({ maxConcurrency: 3, maxQueue: 5 });
    let held = 0;
    const waiting: QueuedAdmission[] = [];
    for (let i = 0; i < 800; i++) {
      const v = c.admit();
      if (v === 'admitted') held++;
      else if (typeof v !== 'string') waiting.push(v);
      if (i % 3 === 0 && waiting.length > 0) waiting.shift()?.cancel();
      if (i % 2 === 0 && held > 0) {
        held--;
        c.release();
      }
      clock.advance(1);
      // Admissions from the queue become holders.
      const settled = await Promise.all(waiting.map((w) => state(w.result)));
      for (let k = settled.length - 1; k >= 0; k--) {
        if (settled[k] === 'pending') continue;
        if (settled[k] === 'admitted') held++;
        waiting.splice(k, 1);
      }
      expect(c.snapshot().active).toBe(held);
      expect(c.snapshot().queued).toBe(waiting.length);
    }
  });
});

describe('AdmissionController.refuseEarly (headers time, issue #16)', () => {
  it('passes while a slot is free, and takes nothing', () => {
    const { c } = make();
    expect(c.refuseEarly(1)).toBeUndefined();
    expect(c.snapshot()).toMatchObject({ active: 0, queued: 0 });
    c.admit();
    expect(c.refuseEarly(2)).toBeUndefined();
  });

  it('passes while the queue has room (admit() decides after the body), refuses once it is full', () => {
    const { c } = make();
    c.admit();
    c.admit();
    expect(c.refuseEarly(3)).toBeUndefined();
    for (let i = 0; i < 3; i++) queued(c.admit());
    expect(c.refuseEarly(6)).toBe('queue_full');
    expect(c.snapshot().queued).toBe(3);
  });

  it('refuses with overloaded while a standing queue would make this arrival wait past the target', () => {
    const { c, clock } = make({ maxConcurrency: 2, maxQueue: 100 });
    c.admit();
    c.admit();
    for (let i = 0; i < 3; i++) queued(c.admit());
    clock.advance(20);
    queued(c.admit());
    clock.advance(100);
    c.release(); // above target for a whole interval: overloaded, as in the test above
    expect(c.snapshot().isOverloaded).toBe(true);
    expect(c.refuseEarly(5)).toBe('overloaded');
  });

  it('refuses with loop_overloaded while more requests are in the process than the loop cap, whatever the slots', () => {
    const { c } = make({ maxConcurrency: 4096 });
    c.setLoopLimit(10);
    expect(c.refuseEarly(10)).toBeUndefined();
    expect(c.refuseEarly(11)).toBe('loop_overloaded');
    expect(c.snapshot()).toMatchObject({ loopLimit: 10, active: 0 });
    c.setLoopLimit(Infinity);
    expect(c.refuseEarly(5_000)).toBeUndefined();
  });

  it('early refusals count as arrivals: refused excess keeps the overloaded state from ending', () => {
    /** Overloaded at 130 ms (the head waited above target since 20 ms), then drained by 150 ms. */
    const overloadedThenDrained = (): { c: AdmissionController; clock: ManualClock } => {
      const m = make({ maxConcurrency: 1, maxQueue: 1 });
      m.c.admit();
      queued(m.c.admit());
      m.clock.advance(20);
      expect(m.c.admit()).toBe('queue_full');
      m.clock.advance(110);
      expect(m.c.admit()).toBe('queue_full');
      expect(m.c.snapshot().isOverloaded).toBe(true);
      m.clock.advance(10);
      m.c.release();
      m.clock.advance(10);
      m.c.release();
      return m;
    };
    const plain = overloadedThenDrained();
    const withExcess = overloadedThenDrained();
    for (let k = 0; k < 3; k++) {
      for (const { c, clock } of [plain, withExcess]) {
        clock.advance(100);
        expect(c.admit()).toBe('admitted');
      }
      // Two more arrive while the slot is busy: refused at headers time, and counted.
      expect(withExcess.c.refuseEarly(2)).toBe('overloaded');
      expect(withExcess.c.refuseEarly(2)).toBe('overloaded');
      for (const { c, clock } of [plain, withExcess]) {
        clock.advance(10);
        c.release();
      }
    }
    expect(plain.c.snapshot().isOverloaded).toBe(false);
    expect(withExcess.c.snapshot().isOverloaded).toBe(true);
  });
});
