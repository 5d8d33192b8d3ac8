// A set for objects that come and go thousands of times a second (in-flight requests, calls with
// deadlines), kept in an array with each member's index stored on the member.
//
// Why not a JS Set: a Set with constant add/delete churn is rebuilt every so often, and V8 keeps a
// link from each retired table to its successor (for live iterators). Retired tables that reached the
// old generation keep the young objects they point at alive through scavenges. In the proxy under
// load that was every in-flight request's objects: about 2 MB promoted per scavenge, scavenges
// 4-5x longer, and about 15% of the proxy's throughput (measured with --trace-gc-nvp in the
// bench:proxy setup; bench/README.md). An array whose freed slots are cleared holds nothing dead.
// Layer: core.

/** A member remembers where it sits; -1 when it is in no set. */
export interface Slotted {
  slot: number;
}

export class SlotSet<T extends Slotted> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (item.slot >= 0 && this.items[item.slot] === item) return;
    item.slot = this.items.length;
    this.items.push(item);
  }

  /** Removes in O(1): the last member moves into the freed slot. */
  delete(item: T): void {
    const i = item.slot;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop() as T;
    if (last !== item) {
      this.items[i] = last;
      last.slot = i;
    }
    item.slot = -1;
  }

  has(item: T): boolean {
    return item.slot >= 0 && this.items[item.slot] === item;
  }

  /** A copy of the members, safe to iterate while members are removed. */
  snapshot(): T[] {
    return this.items.slice();
  }
}
