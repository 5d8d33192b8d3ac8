// The shared deadline sweep: fires past deadlines only, follows moved deadlines, stops its timer when empty.
import { describe, expect, it } from 'vitest';

import type { Deadlined } from '../../../../electron/core/proxy/deadline-sweep';
import { DeadlineSweep } from '../../../../electron/core/proxy/deadline-sweep';

describe('DeadlineSweep', () => {
  it('runs only past deadlines, lets an owner move its deadline, and stops the timer when empty', () => {
    let now = 0;
    let timers = 0;
    const sweep = new DeadlineSweep(20, {
      now: () => now,
      setInterval: () => {
        timers++;
        return {};
      },
      clearInterval: () => timers--,
    });
    const fired: string[] = [];
    const once = (name: string, deadline: number): Deadlined => {
      const d: Deadlined = {
        slot: -1,
        deadline,
        onDeadline: () => {
          fired.push(name);
          sweep.delete(d);
        },
      };
      return d;
    };
    const mover = {
      slot: -1,
      deadline: 50,
      onDeadline(t: number) {
        fired.push(`move@${t}`);
        if (t >= 150) sweep.delete(this);
        else this.deadline = t + 100;
      },
    };
    sweep.add(once('a', 100));
    sweep.add(once('b', 30));
    sweep.add(mover);
    expect(timers).toBe(1);
    now = 40;
    sweep.sweepNow();
    expect(fired).toEqual(['b']);
    now = 100;
    sweep.sweepNow();
    expect(fired).toEqual(['b', 'a', 'move@100']);
    now = 160;
    sweep.sweepNow();
    expect(fired).toEqual(['b', 'a', 'move@100']);
    now = 200;
    sweep.sweepNow();
    expect(fired.at(-1)).toBe('move@200');
    expect(sweep.size).toBe(0);
    expect(timers).toBe(0);
  });
});
