import { describe, expect, it } from 'vitest';

import { SlotSet } from '../../../../electron/core/proxy/slot-set';

interface Item {
  id: number;
  slot: number;
}

const item = (id: number): Item => ({ id, slot: -1 });
const ids = (s: SlotSet<Item>): number[] =>
  s
    .snapshot()
    .map((i) => i.id)
    .sort((a, b) => a - b);

describe('SlotSet', () => {
  it('adds, removes from any position and keeps the remaining members', () => {
    const s = new SlotSet<Item>();
    const items = [1, 2, 3, 4, 5].map(item);
    for (const i of items) s.add(i);
    expect(s.size).toBe(5);
    s.delete(items[1] as Item); // middle: the last member moves into its slot
    s.delete(items[4] as Item); // last
    s.delete(items[0] as Item); // first
    expect(ids(s)).toEqual([3, 4]);
    expect(s.size).toBe(2);
    for (const i of s.snapshot()) expect(s.has(i)).toBe(true);
    expect(s.has(items[1] as Item)).toBe(false);
    expect(items[1]?.slot).toBe(-1);
  });

  it('ignores a second add and a delete of a non-member, including a member of another set', () => {
    const a = new SlotSet<Item>();
    const b = new SlotSet<Item>();
    const x = item(1);
    const y = item(2);
    a.add(x);
    a.add(x);
    expect(a.size).toBe(1);
    b.add(y);
    // y's slot (0) points at x's slot in `a`: deleting y from `a` must not remove x.
    a.delete(y);
    expect(ids(a)).toEqual([1]);
    a.delete(item(3));
    expect(a.size).toBe(1);
  });

  it('a snapshot can be iterated while members remove themselves', () => {
    const s = new SlotSet<Item>();
    const items = Array.from({ length: 10 }, (_, i) => item(i));
    for (const i of items) s.add(i);
    for (const i of s.snapshot()) if (i.id % 2 === 0) s.delete(i);
    expect(ids(s)).toEqual([1, 3, 5, 7, 9]);
  });

  it('stays consistent under random churn (same members as a reference Set)', () => {
    const s = new SlotSet<Item>();
    const ref = new Set<Item>();
    const pool = Array.from({ length: 50 }, (_, i) => item(i));
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 5000; n++) {
      const it = pool[Math.floor(rand() * pool.length)] as Item;
      if (rand() < 0.5) {
        s.add(it);
        ref.add(it);
      } else {
        s.delete(it);
        ref.delete(it);
      }
      expect(s.size).toBe(ref.size);
    }
    expect(ids(s)).toEqual([...ref].map((i) => i.id).sort((a, b) => a - b));
    for (const i of pool) expect(s.has(i)).toBe(ref.has(i));
  });
});
