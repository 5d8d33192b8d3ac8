// Bounded time series for the live charts: a ring buffer of timestamped points (newest kept) and a
// downsampler that turns an hour of 1 s points into at most a few hundred bins, so recharts draws the same
// number of points for a 5 min and a 60 min window (style-guide §6). Layer: renderer (pure, no DOM).

/** Anything with a timestamp in epoch ms. */
export interface Timed {
  atMs: number;
}

/** A fixed-capacity ring buffer; pushing past capacity drops the oldest point. Points stay sorted by atMs. */
export class RingSeries<T extends Timed> {
  private items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`ring capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The newest point, or undefined when empty. */
  last(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }

  /** Appends a point; a point not newer than the last one replaces it when equal in time, else is dropped. */
  push(item: T): void {
    const last = this.last();
    if (last && item.atMs < last.atMs) return;
    if (last && item.atMs === last.atMs) {
      this.items[(this.start + this.count - 1) % this.capacity] = item;
      return;
    }
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count += 1;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Removes every point. */
  clear(): void {
    this.items = new Array<T | undefined>(this.capacity);
    this.start = 0;
    this.count = 0;
  }

  /** Points with atMs >= fromMs, oldest first. */
  since(fromMs: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const item = this.items[(this.start + i) % this.capacity];
      if (item && item.atMs >= fromMs) out.push(item);
    }
    return out;
  }

  /** Every point, oldest first. */
  toArray(): T[] {
    return this.since(Number.NEGATIVE_INFINITY);
  }
}

/** How to merge the points that fall in one bin into the bin's value for one key. */
export type BinReducer = 'mean' | 'max' | 'sum' | 'last';

/** One chart row: a time and named numeric values (null where no point had a value). */
export type ChartRow = { atMs: number } & Record<string, number | null>;

/**
 * Groups points into equal time bins over [fromMs, toMs) and reduces each field. With `maxBins` bins, a chart of
 * any window length draws the same number of points; bins without any point are left out (gaps show as gaps).
 * Bins are aligned to multiples of the bin width in epoch time, so a sliding window does not make lines jitter.
 */
export function downsample<T extends Timed>(
  points: readonly T[],
  opts: {
    fromMs: number;
    toMs: number;
    maxBins: number;
    fields: Record<string, { read: (p: T) => number | null; reduce: BinReducer }>;
  },
): ChartRow[] {
  const { fromMs, toMs, maxBins, fields } = opts;
  const span = Math.max(1, toMs - fromMs);
  const binMs = Math.max(1000, Math.ceil(span / Math.max(1, maxBins) / 1000) * 1000);
  const keys = Object.keys(fields);
  const rows: ChartRow[] = [];
  let binStart = Number.NaN;
  let acc: { sum: number; n: number; max: number; last: number | null }[] = [];
  const flush = (): void => {
    if (Number.isNaN(binStart)) return;
    const row = { atMs: binStart } as ChartRow;
    keys.forEach((key, i) => {
      const a = acc[i]!;
      const reduce = fields[key]!.reduce;
      let v: number | null = null;
      if (a.n > 0) {
        if (reduce === 'mean') v = a.sum / a.n;
        else if (reduce === 'max') v = a.max;
        else if (reduce === 'sum') v = a.sum;
        else v = a.last;
      }
      row[key] = v;
    });
    rows.push(row);
  };
  for (const p of points) {
    if (p.atMs < fromMs || p.atMs >= toMs) continue;
    const start = Math.floor(p.atMs / binMs) * binMs;
    if (start !== binStart) {
      flush();
      binStart = start;
      acc = keys.map(() => ({ sum: 0, n: 0, max: Number.NEGATIVE_INFINITY, last: null }));
    }
    keys.forEach((key, i) => {
      const v = fields[key]!.read(p);
      if (v === null || !Number.isFinite(v)) return;
      const a = acc[i]!;
      a.sum += v;
      a.n += 1;
      if (v > a.max) a.max = v;
      a.last = v;
    });
  }
  flush();
  return rows;
}
