// Exact summary statistics for the load test, computed the way benchmark_serving computes them with numpy:
// mean, population standard deviation (np.std, ddof 0), median and percentiles with linear interpolation
// between closest ranks (np.percentile's default). An empty list gives 0, as upstream's `np.mean(x or 0)`.
// Exact rather than log-bucketed (shared/logic/percentiles.ts) because result files are compared with
// upstream's numbers. Layer: core (pure functions, no I/O).

/** Arithmetic mean; 0 for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation (numpy's default ddof=0); 0 for an empty list. */
export function std(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = mean(values);
  let acc = 0;
  for (const v of values) acc += (v - m) * (v - m);
  return Math.sqrt(acc / values.length);
}

/** Percentile q in [0, 100] of already sorted values, linear interpolation (numpy 'linear'); 0 when empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${q}`);
  const rank = (q / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (rank - lo);
}

/** Percentile q in [0, 100] of unsorted values. */
export function percentile(values: readonly number[], q: number): number {
  return percentileOfSorted(Float64Array.from(values).sort(), q);
}

/** Median (the 50th percentile). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Mean, median, std and the chosen percentiles of one metric. */
export interface MetricSummary {
  mean: number;
  median: number;
  std: number;
  percentiles: Array<[number, number]>;
}

/** Summarises values (one sort for all percentiles). */
export function summarize(
  values: readonly number[],
  percentiles: readonly number[],
): MetricSummary {
  const sorted = Float64Array.from(values).sort();
  return {
    mean: mean(values),
    median: percentileOfSorted(sorted, 50),
    std: std(values),
    percentiles: percentiles.map((q) => [q, percentileOfSorted(sorted, q)]),
  };
}
