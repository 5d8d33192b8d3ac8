// One periodic sweep for many deadlines (upstream calls, request bodies, whole requests) instead of a
// timer per object: with thousands of requests a second, a Timeout per request is garbage the
// scavenger has to trace (see slot-set.ts). A deadline fires within `periodMs` after it passed, and the
// sweep runs only while something is registered. Layer: core.
import { performance } from 'node:perf_hooks';

import { SlotSet, type Slotted } from './slot-set';

/** Something with a deadline the sweep checks. */
export interface Deadlined extends Slotted {
  /** Clock time (the sweep's `now()`) after which `onDeadline()` runs; may be moved later by its owner. */
  readonly deadline: number;
  /** Called once per sweep while the deadline is past; the owner removes itself or moves its deadline. */
  onDeadline(now: number): void;
}

/** The time source and timer a sweep runs on; tests pass a manual clock and call `sweepNow()`. */
export interface SweepClock {
  now(): number;
  setInterval(fn: () => void, ms: number): { unref?(): unknown } | undefined;
  clearInterval(handle: unknown): void;
}

const REAL_CLOCK: SweepClock = {
  now: () => performance.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export class DeadlineSweep {
  /** A SlotSet, not a Set: members come and go at the request rate (see slot-set.ts). */
  private readonly items = new SlotSet<Deadlined>();
  private timer: { unref?(): unknown } | undefined;

  constructor(
    private readonly periodMs = 20,
    readonly clock: SweepClock = REAL_CLOCK,
  ) {}

  now(): number {
    return this.clock.now();
  }

  add(item: Deadlined): void {
    this.items.add(item);
    if (this.timer === undefined) {
      this.timer = this.clock.setInterval(() => this.sweepNow(), this.periodMs);
      this.timer?.unref?.();
    }
  }

  delete(item: Deadlined): void {
    this.items.delete(item);
  }

  get size(): number {
    return this.items.size;
  }

  /** Runs every past deadline's handler; stops the timer when nothing is left. */
  sweepNow(): void {
    const t = this.clock.now();
    for (const item of this.items.snapshot()) if (t >= item.deadline) item.onDeadline(t);
    if (this.items.size === 0 && this.timer !== undefined) {
      this.clock.clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The process-wide sweep on the real clock. */
export const sharedDeadlines = new DeadlineSweep();
