// Admission control for the proxy's inference endpoints (reliability.md item 13): a concurrency limit,
// a bounded FIFO queue behind it, and CoDel-style shedding of a standing queue. Modelled on the request
// queues of Facebook's "Fail at scale" (CoDel over a server queue: a queue that never empties within an
// interval is bad, a burst that drains is good) and folly's Codel (overloaded when the minimum sojourn
// over an interval stays above target). While overloaded, a new request whose predicted wait exceeds the
// target is refused at once; a request already queued is never thrown out after waiting.
// Decisions are O(1) and need nothing from the request, so a shed costs no body parse and no upstream
// call. Pure: the clock and timers are injected, so it is unit-tested without waiting. Layer: core.

/** Why a request was refused; `queue_full` answers 429, the others 503 (both with Retry-After). */
export type ShedReason = 'queue_full' | 'overloaded' | 'queue_timeout';

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
  private intervalEnd: number;
  /** Smallest sojourn seen this interval (0 once a request passed without waiting or the queue ran empty). */
  private minSojourn = Infinity;
  /** Mean time a request holds its slot, for the predicted wait of a new arrival. */
  private serviceMs = 0;
  private readonly startedAt: number[] = [];

  constructor(
    private readonly opt: AdmissionOptions,
    private readonly clock: AdmissionClock = REAL_CLOCK,
  ) {
    this.intervalEnd = clock.now() + opt.queueIntervalMs;
  }

  /**
   * Admits at once (`'admitted'`: the caller holds a slot and must `release()` it), refuses at once
   * (a ShedReason), or queues (a QueuedAdmission).
   */
  admit(): AdmissionVerdict | QueuedAdmission {
    const t = this.clock.now();
    this.tick(t);
    if (this.active < this.opt.maxConcurrency && this.queued === 0) {
      this.minSojourn = 0;
      this.take(t);
      return 'admitted';
    }
    if (this.queued >= this.opt.maxQueue) return 'queue_full';
    // A standing queue: join only when the wait this arrival can expect stays within target, so the
    // excess is told at once, before it waited at all (Little's law: position x service time / slots).
    if (this.isOverloaded && this.predictedWaitMs(this.queued + 1) > this.opt.queueTargetMs) return 'overloaded';
    let resolve!: (v: AdmissionVerdict | 'cancelled') => void;
    const result = new Promise<AdmissionVerdict | 'cancelled'>((r) => (resolve = r));
    const w: Waiter = { enqueuedAt: t, resolve, timer: undefined, isDone: false };
    w.timer = this.clock.setTimeout(() => this.drop(w, 'queue_timeout'), this.opt.queueTimeoutMs);
    this.queue.push(w);
    this.queued++;
    return { result, cancel: () => this.drop(w, 'cancelled') };
  }

  /** Gives an admitted request's slot back and admits from the queue. */
  release(): void {
    const t = this.clock.now();
    const started = this.startedAt.shift();
    if (started !== undefined) {
      const d = t - started;
      this.serviceMs = this.serviceMs === 0 ? d : this.serviceMs + SERVICE_EWMA_ALPHA * (d - this.serviceMs);
    }
    this.active--;
    this.tick(t);
    this.pump(t);
  }

  snapshot(): AdmissionSnapshot {
    return { active: this.active, queued: this.queued, limit: this.opt.maxConcurrency, isOverloaded: this.isOverloaded };
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
        // The queue ran empty: not a standing queue.
        this.minSojourn = 0;
        return;
      }
      const sojourn = t - w.enqueuedAt;
      if (sojourn < this.minSojourn) this.minSojourn = sojourn;
      this.take(t);
      this.settle(w, 'admitted');
    }
  }

  /**
   * At each interval's end: overloaded once even the best sojourn of an interval stayed above target (a
   * standing queue, not a burst that drains); normal again after an interval whose best sojourn fell
   * below half the target (the queue drained: arrivals fell below the service rate). The hysteresis
   * matters: while overloaded, arrivals are held to sojourns of about the target, so "best sojourn below
   * target" alone would flip the state every few intervals and let a new standing queue build each time.
   */
  private tick(t: number): void {
    if (t < this.intervalEnd) return;
    let min = this.minSojourn;
    // No request left the queue this interval: the waiting head's age is the sojourn that counts.
    if (min === Infinity) {
      const h = this.peekLive();
      min = h ? t - h.enqueuedAt : 0;
    }
    this.isOverloaded = this.isOverloaded ? min >= this.opt.queueTargetMs / 2 : min > this.opt.queueTargetMs;
    this.minSojourn = Infinity;
    this.intervalEnd = t + this.opt.queueIntervalMs;
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
