// Bounded time series: a ring buffer of the last N points, for live charts in the UI (style-guide §6) and
// the backend's in-memory metrics (an hour at 1 s), and the downsampler that turns an hour of 1 s points into
// at most a few hundred chart rows, so a chart draws the same number of points for a 5 min and a 60 min
// window. Pushing never grows memory past the capacity; reading returns the points oldest first.
// Layer: shared (pure).

/** A point with its time (epoch ms). */
export interface TimedPoint {
  atMs: number;
}

/** A fixed-capacity ring buffer. */
export class RingSeries<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`series capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  /** Number of points held. */
  get length(): number {
    return this.size;
  }

  /** Appends a point, dropping the oldest when full. */
  push(item: T): void {
    const end = (this.start + this.size) % this.capacity;
    this.items[end] = item;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The i-th point, 0 = oldest; undefined out of range. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.items[(this.start + i) % this.capacity];
  }

  /** The newest point. */
  last(): T | undefined {
    return this.at(this.size - 1);
  }

  /** Every point, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  /** Replaces the newest point (e.g. a bucket still filling). No-op when empty. */
  replaceLast(item: T): void {
    if (this.size === 0) return;
    this.items[(this.start + this.size - 1) % this.capacity] = item;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.size = 0;
  }
}

/**
 * A ring of timed points kept in time order, as the charts need it: a point older than the newest is dropped
 * (a late event after a snapshot), one at the same time replaces it (a bucket still filling).
 */
export class TimeSeries<T extends TimedPoint> extends RingSeries<T> {
  override push(item: T): void {
    const last = this.last();
    if (last && item.atMs < last.atMs) return;
    if (last && item.atMs === last.atMs) this.replaceLast(item);
    else super.push(item);
  }

  /** Points with atMs >= fromMs, oldest first. */
  since(fromMs: number): T[] {
    return pointsBetween(this, fromMs, Number.POSITIVE_INFINITY);
  }
}

/** Points with fromMs <= atMs < toMs, oldest first (the series must be in time order). */
export function pointsBetween<T extends TimedPoint>(
  series: RingSeries<T>,
  fromMs: number,
  toMs: number,
): T[] {
  // In time order, so the first point in range is found by bisection: a window of the last minute reads
  // sixty points, not the whole hour.
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (series.at(mid)!.atMs < fromMs) lo = mid + 1;
    else hi = mid;
  }
  const out: T[] = [];
  for (let i = lo; i < series.length; i++) {
    const p = series.at(i)!;
    if (p.atMs >= toMs) break;
    out.push(p);
  }
  return out;
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
export function downsample<T extends TimedPoint>(
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
