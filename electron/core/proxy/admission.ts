// Admission control for the proxy's inference endpoints (reliability.md item 13): a concurrency limit,
// a bounded FIFO queue behind it (429 when full), and CoDel-style shedding of a standing queue, after
// Facebook's "Fail at scale" server queues and CoDel: a queue whose wait stays above a target for a whole
// interval is bad (overload), a burst that drains within it is good and passes. While overloaded, a new
// request whose predicted wait exceeds the target is refused at once with 503, before it waited at all;
// a request already queued is never thrown out after waiting (only the hard queue timeout ends a wait).
// Overload ends after two intervals in a row with a slot free and no more arrivals than departures.
// Decisions are O(1) and need nothing from the request: `refuseEarly` decides at headers time, before
// the body is read, so a shed costs no body read, no parse and no upstream call. Besides the slots, a
// cap on the requests in the process, set while the proxy's own event loop is saturated (loop-pressure.ts),
// sheds at headers time too. The limit is fixed (no gradient adaptation): the operator sets it to the generation workers'
// batch capacity. Pure: the clock and timers are injected, so it is unit-tested without waiting. Layer: core.

/**
 * Why a request was refused; `queue_full` answers 429, the others 503 (both with Retry-After).
 * `loop_overloaded`: the proxy's own event loop is saturated (loop-pressure.ts).
 */
export type ShedReason = 'queue_full' | 'overloaded' | 'queue_timeout' | 'loop_overloaded';

export type AdmissionVerdict = 'admitted' | ShedReason;

/** A request waiting in the queue: `result` settles once it is admitted, shed, or cancelled. */
export interface QueuedAdmission {
  readonly result: Promise<AdmissionVerdict | 'cancelled'>;
  /** The client went away while waiting: leave the queue (no slot was taken). */
  cancel(): void;
}

export interface AdmissionOptions {
  /** Requests served at once; the rest wait in the queue. */
  maxConcurrency: number;
  /** Queue capacity; a request arriving to a full queue gets 429 at once. */
  maxQueue: number;
  /**
   * Acceptable queue wait (CoDel target). Once the queue has stood above it for a whole interval, new
   * requests whose predicted wait exceeds it are shed at once (503).
   */
  queueTargetMs: number;
  /** CoDel interval: how long the queue must stay above target before shedding starts (bursts shorter than this pass). */
  queueIntervalMs: number;
  /** Hard bound on any queue wait, overloaded or not (503). */
  queueTimeoutMs: number;
}

export interface AdmissionClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: AdmissionClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Waiter {
  enqueuedAt: number;
  resolve: (v: AdmissionVerdict | 'cancelled') => void;
  timer: unknown;
  isDone: boolean;
}

export interface AdmissionSnapshot {
  active: number;
  queued: number;
  limit: number;
  isOverloaded: boolean;
  /** The cap on requests in the process while the event loop is saturated; Infinity otherwise (always set by the controller). */
  loopLimit?: number;
}

/** Weight of a new sample in the service-time average (about the last 10 requests). */
const SERVICE_EWMA_ALPHA = 0.1;

export class AdmissionController {
  private active = 0;
  /** FIFO; cancelled or timed-out waiters are removed lazily (head index), so every operation is O(1). */
  private queue: Waiter[] = [];
  private head = 0;
  private queued = 0;
  private isOverloaded = false;
  /** Since when the queue's wait has stayed above target (CoDel's first_above_time); undefined while below. */
  private aboveSince: number | undefined;
  /** While overloaded: the current interval's end, whether a slot went free with nobody waiting, and its arrivals and departures. */
  private windowEnd = 0;
  private sawIdleSlot = false;
  private arrivals = 0;
  private departures = 0;
  /** Consecutive intervals that looked like spare capacity. */
  private calmIntervals = 0;
  /** Mean time a request holds its slot, for the predicted wait of a new arrival. */
  private serviceMs = 0;
  private readonly startedAt: number[] = [];
  /** Requests the process may hold while its event loop is saturated (Infinity: no CPU pressure). */
  private loopLimit = Infinity;

  constructor(
    private readonly opt: AdmissionOptions,
    private readonly clock: AdmissionClock = REAL_CLOCK,
  ) {}

  /**
   * Admits at once (`'admitted'`: the caller holds a slot and must `release()` it), refuses at once
   * (a ShedReason), or queues (a QueuedAdmission).
   */
  admit(): AdmissionVerdict | QueuedAdmission {
    const t = this.clock.now();
    this.arrivals++;
    this.endWindow(t);
    this.observe(t);
    if (this.active < this.opt.maxConcurrency && this.queued === 0) {
      this.sawIdleSlot = true;
      this.take(t);
      return 'admitted';
    }
    if (this.queued >= this.opt.maxQueue) return 'queue_full';
    // A standing queue: join only when the wait this arrival can expect stays within target, so the
    // excess is told at once, before it waited at all (Little's law: position x service time / slots).
    if (this.isOverloaded && this.predictedWaitMs(this.queued + 1) > this.opt.queueTargetMs) {
      return 'overloaded';
    }
    let resolve!: (v: AdmissionVerdict | 'cancelled') => void;
    const result = new Promise<AdmissionVerdict | 'cancelled'>((r) => (resolve = r));
    const w: Waiter = { enqueuedAt: t, resolve, timer: undefined, isDone: false };
    w.timer = this.clock.setTimeout(() => this.drop(w, 'queue_timeout'), this.opt.queueTimeoutMs);
    this.queue.push(w);
    this.queued++;
    return { result, cancel: () => this.drop(w, 'cancelled') };
  }

  /**
   * At headers time, before the body is read: the reason to refuse this arrival now, or undefined to
   * read its body and then `admit()` (which decides again). Refuses when the loop is saturated and
   * `inProcess` requests (this one included) exceed its cap, or when `admit()` would refuse now (queue
   * full, or a standing queue this arrival would wait behind past the target). Takes nothing; a refusal
   * counts as an arrival for the overload windows, as admit()'s own refusals do.
   */
  refuseEarly(inProcess: number): ShedReason | undefined {
    const reason = this.earlyReason(inProcess);
    if (reason === undefined) return undefined;
    const t = this.clock.now();
    this.arrivals++;
    this.endWindow(t);
    return reason;
  }

  /** Sets the cap on requests in the process (loop-pressure.ts); Infinity lifts it. */
  setLoopLimit(limit: number): void {
    this.loopLimit = limit;
  }

  /** Gives an admitted request's slot back and admits from the queue. */
  release(): void {
    const t = this.clock.now();
    const started = this.startedAt.shift();
    if (started !== undefined) {
      const d = t - started;
      this.serviceMs =
        this.serviceMs === 0 ? d : this.serviceMs + SERVICE_EWMA_ALPHA * (d - this.serviceMs);
    }
    this.active--;
    this.departures++;
    this.endWindow(t);
    this.pump(t);
    this.observe(t);
  }

  snapshot(): AdmissionSnapshot {
    return {
      active: this.active,
      queued: this.queued,
      limit: this.opt.maxConcurrency,
      isOverloaded: this.isOverloaded,
      loopLimit: this.loopLimit,
    };
  }

  private earlyReason(inProcess: number): ShedReason | undefined {
    if (inProcess > this.loopLimit) return 'loop_overloaded';
    if (this.active < this.opt.maxConcurrency && this.queued === 0) return undefined;
    if (this.queued >= this.opt.maxQueue) return 'queue_full';
    if (this.isOverloaded && this.predictedWaitMs(this.queued + 1) > this.opt.queueTargetMs) {
      return 'overloaded';
    }
    return undefined;
  }

  /** Expected wait of the n-th in line: the slots turn over every serviceMs / limit on average. */
  private predictedWaitMs(position: number): number {
    return (position * this.serviceMs) / Math.max(1, this.opt.maxConcurrency);
  }

  private take(t: number): void {
    this.active++;
    // Start times in admission order; release order differs, but the average only needs a typical
    // holding time, and FIFO pairing keeps this O(1) without a per-request handle.
    this.startedAt.push(t);
  }

  /**
   * Fills free slots from the queue head. A request that was let into the queue is never shed later
   * (only the hard queue timeout ends its wait): dropping it at the head, as CoDel drops packets, would
   * make its client wait and then get nothing. Shedding happens at arrival instead (admit()).
   */
  private pump(t: number): void {
    while (this.active < this.opt.maxConcurrency) {
      const w = this.shiftLive();
      if (!w) {
        this.sawIdleSlot = true;
        return;
      }
      this.take(t);
      this.settle(w, 'admitted');
    }
  }

  /**
   * Samples the queue's wait (the head's age; 0 when empty) at every admit and release. Overload starts
   * once it has stayed above target for a whole interval, as CoDel's first_above_time: a burst that
   * drains within the interval is a good queue and passes.
   */
  private observe(t: number): void {
    if (this.isOverloaded) return;
    const h = this.peekLive();
    const wait = h ? t - h.enqueuedAt : 0;
    if (wait <= this.opt.queueTargetMs) {
      this.aboveSince = undefined;
      return;
    }
    this.aboveSince ??= t;
    if (t - this.aboveSince >= this.opt.queueIntervalMs) {
      this.isOverloaded = true;
      this.calmIntervals = 0;
      this.startWindow(t);
    }
  }

  private startWindow(t: number): void {
    this.windowEnd = t + this.opt.queueIntervalMs;
    this.sawIdleSlot = false;
    this.arrivals = 0;
    this.departures = 0;
  }

  /**
   * While overloaded, at each interval's end: normal again after two intervals in a row in which a slot
   * went free with nobody waiting and arrivals (shed ones included) did not outnumber departures: offered
   * load at or under capacity. Not "the wait fell below target": the shedding itself holds the wait near
   * the target, and a lull in arrivals briefly empties the queue (the open loop at 1.5x left the state on
   * those every second or so, and on one calm interval about every 3 s, each time letting a new standing
   * queue build for an interval). Staying overloaded too long costs little: requests are still admitted
   * up to the target wait.
   */
  private endWindow(t: number): void {
    if (!this.isOverloaded || t < this.windowEnd) return;
    this.calmIntervals =
      this.sawIdleSlot && this.arrivals <= this.departures ? this.calmIntervals + 1 : 0;
    if (this.calmIntervals >= 2) {
      this.isOverloaded = false;
      this.aboveSince = undefined;
      return;
    }
    this.startWindow(t);
  }

  private drop(w: Waiter, why: 'queue_timeout' | 'cancelled'): void {
    if (w.isDone) return;
    this.settle(w, why);
  }

  private settle(w: Waiter, v: AdmissionVerdict | 'cancelled'): void {
    if (w.isDone) return;
    w.isDone = true;
    this.queued--;
    this.clock.clearTimeout(w.timer);
    w.resolve(v);
  }

  private peekLive(): Waiter | undefined {
    while (this.head < this.queue.length && (this.queue[this.head] as Waiter).isDone) this.head++;
    this.compact();
    return this.queue[this.head];
  }

  private shiftLive(): Waiter | undefined {
    const w = this.peekLive();
    if (w) this.head++;
    this.compact();
    return w;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
