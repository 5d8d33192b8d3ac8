// CPU-pressure admission (issue #16, reliability.md item 13): when the proxy's own event loop is the
// bottleneck, the slot and queue limits see nothing (the excess waits in sockets and in the loop, and
// every request in the process shares the CPU, so latency explodes). This watches the loop like
// fastify's @fastify/under-pressure (event-loop delay: how late a timer runs; event-loop utilization
// from perf_hooks) and, like Envoy's overload manager, turns a resource's pressure
// into an action: while overloaded, a cap on the requests in the process, so arrivals beyond it are shed
// at headers time (admission.ts `refuseEarly`), before their body is read.
//
// The state is CoDel-style, as the queue's: overloaded once every sample stayed above target for a whole
// interval (a GC pause or one large body is a spike and passes); normal again once the loop stayed calm
// for an interval with the cap not reached. While overloaded the cap follows the pressure each sample
// (a gradient, as Netflix's concurrency-limits): cap x target/measured, at most halved and at most +20%
// per sample, so a loop at 4x its target delay sheds fast and one near it trims gently.
// Pure (samples and times are passed in); `startLoopSampler` is the perf_hooks wiring. Layer: core.
import { performance } from 'node:perf_hooks';

import type { AdmissionController } from './admission';
import type { ProxyLimits, ProxyLog } from './proxy-options';

export interface LoopPressureOptions {
  /** Mean event-loop delay (ms) above which the loop counts as saturated; 0: delay not watched. */
  maxDelayMs: number;
  /** Event-loop utilization (0..1) above which the loop counts as saturated; >= 1: not watched. */
  maxUtilization: number;
  /** How long the loop must stay saturated before shedding starts, and calm before it stops. */
  intervalMs: number;
}

/** One sample of the loop since the previous one. */
export interface LoopSample {
  /** Mean delay of the loop's timers beyond their due time, ms. */
  delayMs: number;
  /** Share of the time the loop was busy, 0..1. */
  utilization: number;
}

/** The smallest cap: a saturated loop still serves a few requests (shedding everything helps nobody). */
export const MIN_LOOP_LIMIT = 4;
const MAX_DECREASE = 0.5;
const MAX_INCREASE = 1.2;

export class LoopPressure {
  private overloaded = false;
  private aboveSince: number | undefined;
  private calmSince: number | undefined;
  private cap = Infinity;

  constructor(private readonly opt: LoopPressureOptions) {}

  get isOverloaded(): boolean {
    return this.overloaded;
  }

  /** The cap on requests in the process: Infinity unless overloaded. */
  get limit(): number {
    return this.cap;
  }

  /** Whether any signal is watched (both off: the monitor need not run). */
  get isEnabled(): boolean {
    return this.opt.maxDelayMs > 0 || this.opt.maxUtilization < 1;
  }

  /**
   * Pressure relative to target: > 1 is saturated. The larger of the watched signals' ratios.
   */
  pressure(s: LoopSample): number {
    const byDelay = this.opt.maxDelayMs > 0 ? s.delayMs / this.opt.maxDelayMs : 0;
    const byUse = this.opt.maxUtilization < 1 ? s.utilization / this.opt.maxUtilization : 0;
    return Math.max(byDelay, byUse);
  }

  /** One sample taken at time `t` (ms) with `inProcess` requests being handled; returns the new cap. */
  update(s: LoopSample, t: number, inProcess: number): number {
    const p = this.pressure(s);
    if (!this.overloaded) return this.watch(p, t, inProcess);
    if (p > 1) {
      this.calmSince = undefined;
      // The cap collapses to what is really in use first, then follows the pressure.
      this.cap = this.scaled(Math.min(this.cap, inProcess), p);
      return this.cap;
    }
    this.calmSince ??= t;
    if (t - this.calmSince >= this.opt.intervalMs && inProcess < this.cap) {
      this.overloaded = false;
      this.aboveSince = undefined;
      this.cap = Infinity;
      return this.cap;
    }
    // Calm: let more in, but never far above what is in use (a cap nobody reaches means nothing).
    this.cap = Math.min(this.scaled(this.cap, p), 2 * inProcess + MIN_LOOP_LIMIT);
    return this.cap;
  }

  private watch(p: number, t: number, inProcess: number): number {
    if (p <= 1) {
      this.aboveSince = undefined;
      return this.cap;
    }
    this.aboveSince ??= t;
    if (t - this.aboveSince < this.opt.intervalMs) return this.cap;
    this.overloaded = true;
    this.calmSince = undefined;
    this.cap = this.scaled(inProcess, p);
    return this.cap;
  }

  private scaled(n: number, p: number): number {
    const factor = Math.min(MAX_INCREASE, Math.max(MAX_DECREASE, p > 0 ? 1 / p : MAX_INCREASE));
    return Math.max(MIN_LOOP_LIMIT, Math.floor(n * factor));
  }
}

/** How often a pressure sample is taken: a few per interval. */
export const LOOP_SAMPLE_MS = 50;
/** The probe timer's period: its lateness is the loop's delay (5 readings per sample). */
const PROBE_MS = 10;

export interface LoopSampler {
  stop(): void;
}

/**
 * Samples the real event loop and feeds `pressure`; `onLimit` gets the cap after each sample. The delay
 * is the mean lateness of a 10 ms probe timer (what monitorEventLoopDelay records, but that histogram
 * loses the first interval after each reset, which under saturation is every interval); utilization
 * is perf_hooks' eventLoopUtilization. About 100 timer callbacks a second, each a few reads: far below
 * 0.1% of a core. The timer is unref'd: it never keeps a process alive.
 */
export function startLoopSampler(
  pressure: LoopPressure,
  inProcess: () => number,
  onLimit: (limit: number) => void,
): LoopSampler {
  let lastUse = performance.eventLoopUtilization();
  let last = performance.now();
  let sampleStart = last;
  let lateSum = 0;
  let probes = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lateSum += Math.max(0, now - last - PROBE_MS);
    probes++;
    last = now;
    if (now - sampleStart < LOOP_SAMPLE_MS) return;
    const use = performance.eventLoopUtilization(lastUse);
    lastUse = performance.eventLoopUtilization();
    const sample = { delayMs: lateSum / probes, utilization: use.utilization };
    lateSum = 0;
    probes = 0;
    sampleStart = now;
    onLimit(pressure.update(sample, now, inProcess()));
  }, PROBE_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * CPU-pressure shedding for one proxy process: samples its loop (when a signal is watched) and hands the
 * cap to admission; the start and end of shedding go to the log. Undefined when both signals are off.
 */
export function startLoopShedding(
  limits: Pick<ProxyLimits, 'maxLoopDelayMs' | 'maxLoopUtilization' | 'loopIntervalMs'>,
  admission: Pick<AdmissionController, 'setLoopLimit'>,
  inProcess: () => number,
  log: ProxyLog,
): LoopSampler | undefined {
  const pressure = new LoopPressure({
    maxDelayMs: limits.maxLoopDelayMs,
    maxUtilization: limits.maxLoopUtilization,
    intervalMs: limits.loopIntervalMs,
  });
  if (!pressure.isEnabled) return undefined;
  let wasCapped = false;
  return startLoopSampler(pressure, inProcess, (limit) => {
    const isCapped = limit !== Infinity;
    if (isCapped !== wasCapped) {
      log(
        isCapped ? 'warning' : 'info',
        isCapped
          ? `event loop saturated: requests beyond ${limit} in this process get 503 at headers time`
          : 'event loop calm again: CPU-pressure shedding off',
      );
    }
    wasCapped = isCapped;
    admission.setLoopLimit(limit);
  });
}
