// Fixed-bucket cumulative histogram for Prometheus text exposition (the proxy's /metrics).
// Ours, not prom-client's: an observation costs about 50 ns here against about 1 us in prom-client
// (bench/metrics-observe-bench.ts), and the proxy observes one inter-token gap per streamed token
// (~15 us of proxy CPU each); prom-client's exposition is also async where /metrics renders in one
// pass. tests/unit/core/proxy/metrics-prom-client.test.ts holds the output to prom-client's.
// Layer: shared (pure).

/** Default latency buckets in seconds (1 ms .. 60 s). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Buckets for the proxy's own added time (10 us .. 100 ms). */
export const OVERHEAD_BUCKETS_SECONDS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
];

/** A Prometheus-style histogram: counts per upper bound, plus sum and count. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }

  /** `n` observations of one value at once (folding another histogram's distribution into this one). */
  observeMany(value: number, n: number): void {
    if (n <= 0) return;
    this.sum += value * n;
    this.count += n;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + n;
        return;
      }
    }
  }

  /** Prometheus text lines for this histogram (`name_bucket{le=..}`, `_sum`, `_count`). */
  render(name: string, labels = ''): string[] {
    const lines: string[] = [];
    let cumulative = 0;
    const sep = labels === '' ? '' : labels + ',';
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i] as number;
      lines.push(`${name}_bucket{${sep}le="${this.bounds[i]}"} ${cumulative}`);
    }
    lines.push(`${name}_bucket{${sep}le="+Inf"} ${this.count}`);
    const l = labels === '' ? '' : `{${labels}}`;
    lines.push(`${name}_sum${l} ${this.sum}`);
    lines.push(`${name}_count${l} ${this.count}`);
    return lines;
  }

  /** Approximate quantile (upper bound of the bucket holding it); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const target = q * this.count;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i] as number;
      if (cumulative >= target) return this.bounds[i] as number;
    }
    return Number.POSITIVE_INFINITY;
  }
}
