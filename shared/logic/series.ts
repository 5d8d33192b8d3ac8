// A bounded time series: a ring buffer of the last N points, for live charts in the UI (style-guide §6) and
// the backend's in-memory metrics (an hour at 1 s). Pushing never grows memory past the capacity; reading
// returns the points oldest first. Layer: shared (pure).

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

/** Points with fromMs <= atMs < toMs, oldest first (the series must be in time order). */
export function pointsBetween<T extends TimedPoint>(
  series: RingSeries<T>,
  fromMs: number,
  toMs: number,
): T[] {
  return series.toArray().filter((p) => p.atMs >= fromMs && p.atMs < toMs);
}
