// Run 2's tail diagnostics (issue #16): what the proxy says on /metrics about its own delays, taken at
// the edges of a measured window and subtracted, so each run shows the event-loop delay, GC pauses,
// upstream pool waits and admission waits of exactly that window; and the bare relay's event-loop
// delay from its `/__eld` answer. Parsing here is for our own exposition (metrics.ts), not any
// Prometheus text. Layer: bench.

/** One histogram family (optionally summed over a label, e.g. GC kinds) from Prometheus text. */
export interface ScrapedHistogram {
  /** Upper bounds, ascending, +Inf last. */
  bounds: number[];
  /** Cumulative counts per bound. */
  cumulative: number[];
  sum: number;
  count: number;
}

const SERIES = /^([a-z_:][a-z0-9_:]*)(\{([^}]*)\})? (\S+)$/;

/** Every series of `text` as [name, labels, value]; comments skipped. */
function series(text: string): Array<[string, string, number]> {
  const out: Array<[string, string, number]> = [];
  for (const line of text.split('\n')) {
    const m = SERIES.exec(line);
    if (m) out.push([m[1] as string, m[3] ?? '', Number(m[4])]);
  }
  return out;
}

/** The `le` label's bound of a bucket series. */
function boundOf(labels: string): number {
  const le = /le="([^"]+)"/.exec(labels)?.[1];
  return le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
}

/** Histogram `name` summed over all its label sets other than `le` (GC kinds add up). */
export function scrapeHistogram(text: string, name: string): ScrapedHistogram {
  const byBound = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const [n, labels, v] of series(text)) {
    if (n === `${name}_bucket`) {
      const b = boundOf(labels);
      byBound.set(b, (byBound.get(b) ?? 0) + v);
    } else if (n === `${name}_sum`) sum += v;
    else if (n === `${name}_count`) count += v;
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => byBound.get(b) ?? 0), sum, count };
}

/** A gauge or counter without labels; NaN when absent. */
export function scrapeValue(text: string, name: string): number {
  const hit = series(text).find(([n, labels]) => n === name && labels === '');
  return hit === undefined ? Number.NaN : hit[2];
}

/** `after` minus `before` (a histogram that did not exist before counts from zero). */
export function histogramDelta(
  before: ScrapedHistogram,
  after: ScrapedHistogram,
): ScrapedHistogram {
  return {
    bounds: after.bounds,
    cumulative: after.bounds.map((b, i) => {
      const j = before.bounds.indexOf(b);
      return (after.cumulative[i] as number) - (j < 0 ? 0 : (before.cumulative[j] as number));
    }),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** The upper bound of the bucket holding quantile `q` (a bound: "at most"); NaN when empty. */
export function histogramQuantile(h: ScrapedHistogram, q: number): number {
  if (h.count <= 0) return Number.NaN;
  const target = q * h.count;
  for (let i = 0; i < h.bounds.length; i++) {
    if ((h.cumulative[i] as number) >= target) return h.bounds[i] as number;
  }
  return Number.POSITIVE_INFINITY;
}

/** A window's diagnostics of one proxy run, in ms (quantiles are bucket upper bounds). */
export interface ProxyWindowDiagnostics {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcPauseTotalMs: number;
  gcPauseMaxMs: number;
  gcPauses: number;
  poolWaitP99Ms: number;
  poolWaitMaxBucketMs: number;
  connectionsOpened: number;
  admissionWaitP99Ms: number;
  /**
   * Where a first token's time went, p99 of each phase in the proxy's own records (upstream's names):
   * the proxy's TTFT, the context call's round trip, generation request sent to its first token.
   */
  proxyTtftP99Ms: number;
  ctxRoundTripP99Ms: number;
  genFirstTokenP99Ms: number;
}

const P = 'disagg_proxy_';

/** The window between two /metrics texts; the `_max` gauges are read from `after` (reset at each scrape). */
export function proxyWindowDiagnostics(before: string, after: string): ProxyWindowDiagnostics {
  const delta = (name: string): ScrapedHistogram =>
    histogramDelta(scrapeHistogram(before, P + name), scrapeHistogram(after, P + name));
  const eld = delta('event_loop_delay_seconds');
  const gc = delta('gc_pause_seconds');
  const pool = delta('upstream_pool_wait_seconds');
  const admission = delta('admission_wait_seconds');
  const upstreamNamed = (name: string): ScrapedHistogram =>
    histogramDelta(scrapeHistogram(before, name), scrapeHistogram(after, name));
  const ms = (s: number): number => s * 1000;
  return {
    loopDelayP99Ms: ms(histogramQuantile(eld, 0.99)),
    loopDelayMaxMs: ms(scrapeValue(after, `${P}event_loop_delay_max_seconds`)),
    gcPauseTotalMs: ms(gc.sum),
    gcPauseMaxMs: ms(scrapeValue(after, `${P}gc_pause_max_seconds`)),
    gcPauses: gc.count,
    poolWaitP99Ms: ms(histogramQuantile(pool, 0.99)),
    poolWaitMaxBucketMs: ms(histogramQuantile(pool, 1)),
    connectionsOpened:
      scrapeValue(after, `${P}upstream_connections_opened_total`) -
      scrapeValue(before, `${P}upstream_connections_opened_total`),
    admissionWaitP99Ms: ms(histogramQuantile(admission, 0.99)),
    proxyTtftP99Ms: ms(histogramQuantile(delta('time_to_first_token_seconds'), 0.99)),
    ctxRoundTripP99Ms: ms(histogramQuantile(upstreamNamed('ctx_complete_latency_seconds'), 0.99)),
    genFirstTokenP99Ms: ms(
      histogramQuantile(upstreamNamed('gen_first_token_latency_seconds'), 0.99),
    ),
  };
}

/** What the bare relay answers on `GET /__eld` (bench/bare-relay.ts): its delay since the last ask, ms. */
export interface RelayLoopDelay {
  p99Ms: number;
  maxMs: number;
  count: number;
  /** GC pauses in the window (absent from relays older than this field). */
  gcTotalMs?: number;
  gcMaxMs?: number;
  gcCount?: number;
}

/** Percentile of raw samples (the load generator's own rule: the sample at floor(q n)); NaN when empty. */
export function samplePercentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** min / median / max of finite values. */
export function spread(values: readonly number[]): { min: number; median: number; max: number } {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  const mid = Math.floor(v.length / 2);
  const median =
    v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { min: v[0] as number, median, max: v[v.length - 1] as number };
}

/** Per run, a target's TTFT p99 over the reference's in the same run (NaN where either is missing). */
export function p99RatiosPerRun(
  target: readonly { ttftP99: number }[],
  reference: readonly { ttftP99: number }[],
): number[] {
  return target.map((t, i) => t.ttftP99 / (reference[i]?.ttftP99 ?? Number.NaN));
}

/** How many runs met a ratio bound (at most `bound`; a NaN ratio, from a missing run, never does). */
export function runsWithin(ratios: readonly number[], bound: number): number {
  return ratios.filter((r) => r <= bound).length;
}
