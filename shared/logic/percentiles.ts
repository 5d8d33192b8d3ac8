// A mergeable log-bucket histogram for latencies and its percentiles (features O1, O2): values fall into
// buckets whose bounds grow by a fixed ratio, so p50/p90/p99 come from the distribution with a bounded
// relative error (about 2 % at the default ratio), never from averages. Sparse and JSON-safe, so per-second
// histograms can be summed into coarser steps, stored on disk and sent to the UI. Kept rather than
// hdr-histogram-js for that plain JSON form (hdr's portable form is a compressed blob of integers at a fixed
// unit); tests/unit/shared/logic/percentiles-hdr.test.ts holds its percentiles to hdr's. Layer: shared (pure).

/** Bucket growth ratio: a value is reported within +-(ratio-1)/2 of its true value. */
export const DEFAULT_BUCKET_RATIO = 1.04;

/** Values at or below this (e.g. 0 ms) share one bucket that reports 0. */
export const MIN_TRACKED_VALUE = 1e-6;

/** The JSON form of a histogram: bucket index -> count, plus exact count, sum, min and max. */
export interface LogHistogramData {
  ratio: number;
  /** Values <= MIN_TRACKED_VALUE. */
  zeroCount: number;
  /** Keyed by bucket index as a string (JSON object keys). */
  buckets: Record<string, number>;
  count: number;
  sum: number;
  /** null while empty. */
  min: number | null;
  max: number | null;
}

/** A new empty histogram. */
export function createLogHistogram(ratio = DEFAULT_BUCKET_RATIO): LogHistogramData {
  return { ratio, zeroCount: 0, buckets: {}, count: 0, sum: 0, min: null, max: null };
}

/** The index of the bucket (ratio^i, ratio^(i+1)] that holds value. */
export function bucketIndex(value: number, ratio: number): number {
  return Math.ceil(Math.log(value) / Math.log(ratio) - 1e-9) - 1;
}

/** Adds one observation (non-finite and negative values are ignored: they are bugs upstream of here). */
export function observe(h: LogHistogramData, value: number, times = 1): void {
  if (!Number.isFinite(value) || value < 0 || times <= 0) return;
  h.count += times;
  h.sum += value * times;
  h.min = h.min === null ? value : Math.min(h.min, value);
  h.max = h.max === null ? value : Math.max(h.max, value);
  if (value <= MIN_TRACKED_VALUE) {
    h.zeroCount += times;
    return;
  }
  const key = String(bucketIndex(value, h.ratio));
  h.buckets[key] = (h.buckets[key] ?? 0) + times;
}

/** Adds every observation of `from` into `into` (both must use the same ratio). */
export function mergeInto(into: LogHistogramData, from: LogHistogramData): void {
  if (from.count === 0) return;
  if (from.ratio !== into.ratio) {
    throw new Error(`cannot merge histograms of ratio ${from.ratio} and ${into.ratio}`);
  }
  into.count += from.count;
  into.sum += from.sum;
  into.zeroCount += from.zeroCount;
  if (from.min !== null) into.min = into.min === null ? from.min : Math.min(into.min, from.min);
  if (from.max !== null) into.max = into.max === null ? from.max : Math.max(into.max, from.max);
  for (const [k, n] of Object.entries(from.buckets)) into.buckets[k] = (into.buckets[k] ?? 0) + n;
}

/**
 * The q-quantile (0..1) by rank: the geometric middle of the bucket holding the ceil(q * count)-th value,
 * clamped to the exact min and max. null when empty.
 */
export function percentile(h: LogHistogramData, q: number): number | null {
  if (h.count === 0 || h.min === null || h.max === null) return null;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * h.count));
  if (rank <= h.zeroCount) return h.min;
  if (rank === h.count) return h.max;
  let seen = h.zeroCount;
  const indices = Object.keys(h.buckets)
    .map(Number)
    .sort((a, b) => a - b);
  for (const i of indices) {
    seen += h.buckets[String(i)] ?? 0;
    if (seen >= rank) {
      const mid = Math.pow(h.ratio, i + 0.5);
      return Math.min(h.max, Math.max(h.min, mid));
    }
  }
  return h.max;
}

/** count, p50, p90, p99 of one histogram. */
export interface PercentileSummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** The summary the console charts show. */
export function summarize(h: LogHistogramData): PercentileSummary {
  return {
    count: h.count,
    p50: percentile(h, 0.5),
    p90: percentile(h, 0.9),
    p99: percentile(h, 0.99),
  };
}
