// What delays requests inside the proxy's own thread, for /metrics (issue #16, the TTFT tail): the
// event-loop delay (perf_hooks monitorEventLoopDelay at 10 ms resolution, Node's default: at 1 ms the idle
// proxy spent 25 ms of CPU a second on the monitor alone) and garbage-collection pauses
// by kind (a PerformanceObserver on 'gc' entries). Both are per thread: the console's proxy thread and
// each fleet process report their own. Nothing here runs per request: the delay monitor samples in
// native code and is folded into the exported histogram when /metrics is rendered; GC entries arrive
// in batches, a few per second. Layer: core.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

import { Histogram } from '../../../shared/logic/histogram';

/** Event-loop delay buckets (1 ms .. 5 s): fine in the few-ms range where a tail first shows. */
export const LOOP_DELAY_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
  0.5, 0.75, 1, 2, 5,
];

/** GC pause buckets (100 us .. 1 s): scavenges sit at 1-8 ms, mark-compact above. */
export const GC_PAUSE_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 1,
];

/** The delay monitor's default sampling interval. */
const DEFAULT_RESOLUTION_MS = 10;

/**
 * What folding needs of monitorEventLoopDelay's histogram (structural, so tests pass their own):
 * percentiles in ns (percent -> value, ascending), the sample count, reset.
 */
export interface DelaySamples {
  readonly percentiles: Map<number, number>;
  readonly count: number;
  reset(): void;
}

export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb';

/** perf_hooks' gc entry kinds to label values (anything else counts as major: a full collection). */
export function gcKindOf(kind: number | undefined): GcKind {
  if (kind === constants.NODE_PERFORMANCE_GC_MINOR) return 'minor';
  if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) return 'incremental';
  if (kind === constants.NODE_PERFORMANCE_GC_WEAKCB) return 'weakcb';
  return 'major';
}

export class RuntimeDiagnostics {
  readonly loopDelay = new Histogram(LOOP_DELAY_BUCKETS_SECONDS);
  readonly gcPause = new Map<GcKind, Histogram>();
  /** Largest delay and GC pause since the previous render (seconds): a window's max for a scraper. */
  private loopDelayMax = 0;
  private gcPauseMax = 0;
  private samples: (DelaySamples & { disable(): void }) | undefined;
  private gcObserver: PerformanceObserver | undefined;

  /** `resolutionMs`: the delay monitor's sampling interval (a sample is one interval plus the delay). */
  constructor(private readonly resolutionMs = DEFAULT_RESOLUTION_MS) {}

  /** Starts the delay monitor and the GC observer (idempotent). */
  start(): void {
    if (this.samples === undefined) {
      const h = monitorEventLoopDelay({ resolution: this.resolutionMs });
      h.enable();
      this.samples = h;
    }
    if (this.gcObserver === undefined) {
      this.gcObserver = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          // Node 16+ puts the kind under `detail` (typed loosely in @types/node).
          const detail = (e as unknown as { detail?: { kind?: number } }).detail;
          this.observeGc(gcKindOf(detail?.kind), e.duration / 1000);
        }
      });
      this.gcObserver.observe({ entryTypes: ['gc'] });
    }
  }

  stop(): void {
    this.samples?.disable();
    this.samples = undefined;
    this.gcObserver?.disconnect();
    this.gcObserver = undefined;
  }

  observeGc(kind: GcKind, seconds: number): void {
    let h = this.gcPause.get(kind);
    if (h === undefined) {
      h = new Histogram(GC_PAUSE_BUCKETS_SECONDS);
      this.gcPause.set(kind, h);
    }
    h.observe(seconds);
    if (seconds > this.gcPauseMax) this.gcPauseMax = seconds;
  }

  /**
   * Moves what the monitor sampled since the last fold into `loopDelay`, then resets it. The monitor
   * keeps percentiles, not samples: each percentile step's share of the count is added at that step's
   * value. A sample is the time between two timer runs, so the delay is that minus the resolution.
   */
  foldLoopDelay(from: DelaySamples | undefined = this.samples): void {
    if (from === undefined || from.count === 0) return;
    const total = from.count;
    let before = 0;
    for (const [percent, ns] of from.percentiles) {
      const upTo = Math.round((percent / 100) * total);
      const seconds = Math.max(0, ns / 1e6 - this.resolutionMs) / 1000;
      this.loopDelay.observeMany(seconds, upTo - before);
      if (upTo > before && seconds > this.loopDelayMax) this.loopDelayMax = seconds;
      before = Math.max(before, upTo);
    }
    from.reset();
  }

  /** Prometheus lines under `prefix` (the proxy's `disagg_proxy_`); folds the monitor first. */
  render(prefix: string): string[] {
    this.foldLoopDelay();
    const p = prefix;
    const out: string[] = [
      `# HELP ${p}event_loop_delay_seconds Event-loop delay of the proxy's thread (monitorEventLoopDelay, 10 ms resolution).`,
      `# TYPE ${p}event_loop_delay_seconds histogram`,
      ...this.loopDelay.render(`${p}event_loop_delay_seconds`),
      `# HELP ${p}event_loop_delay_max_seconds Largest event-loop delay since the previous /metrics scrape.`,
      `# TYPE ${p}event_loop_delay_max_seconds gauge`,
      `${p}event_loop_delay_max_seconds ${this.loopDelayMax}`,
      `# HELP ${p}gc_pause_seconds Garbage-collection pauses of the proxy's thread, by kind.`,
      `# TYPE ${p}gc_pause_seconds histogram`,
    ];
    for (const [kind, h] of this.gcPause) {
      out.push(...h.render(`${p}gc_pause_seconds`, `kind="${kind}"`));
    }
    out.push(
      `# HELP ${p}gc_pause_max_seconds Longest garbage-collection pause since the previous /metrics scrape.`,
      `# TYPE ${p}gc_pause_max_seconds gauge`,
      `${p}gc_pause_max_seconds ${this.gcPauseMax}`,
    );
    this.loopDelayMax = 0;
    this.gcPauseMax = 0;
    return out;
  }
}
