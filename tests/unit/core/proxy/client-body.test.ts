// The client body reader's bounds (issue #15 slow-body DoS), on a manual clock: outcomes, not durations.
import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import type { BodyLimits, BodySource } from '../../../../electron/core/proxy/client-body';
import { readClientBody } from '../../../../electron/core/proxy/client-body';
import { DeadlineSweep } from '../../../../electron/core/proxy/deadline-sweep';

/** A sweep whose time moves only when the test says; sweepNow() stands in for the interval. */
function manualSweep(): { sweep: DeadlineSweep; advance(ms: number): void } {
  let now = 0;
  const sweep = new DeadlineSweep(20, { now: () => now, setInterval: () => undefined, clearInterval: () => undefined });
  return {
    sweep,
    advance(ms) {
      now += ms;
      sweep.sweepNow();
    },
  };
}

function source(contentLength?: number): BodySource & EventEmitter {
  const s = new EventEmitter() as BodySource & EventEmitter;
  s.headers = { 'content-length': contentLength === undefined ? undefined : String(contentLength) };
  return s;
}

const LIMITS: BodyLimits = { maxBytes: 100, timeoutMs: 10_000, minBytesPerS: 10, rateGraceMs: 2_000 };

describe('readClientBody', () => {
  it('returns the body once it ended, and leaves the sweep empty', async () => {
    const { sweep } = manualSweep();
    const s = source();
    const read = readClientBody(s, LIMITS, sweep);
    s.emit('data', Buffer.from('{"a":'));
    s.emit('data', Buffer.from('1}'));
    s.emit('end');
    expect((await read).toString()).toBe('{"a":1}');
    expect(sweep.size).toBe(0);
    expect(s.listenerCount('data')).toBe(0);
  });

  it('refuses a declared Content-Length over the limit without reading', async () => {
    const { sweep } = manualSweep();
    expect(await readClientBody(source(101), LIMITS, sweep)).toBe('too_large');
    expect(sweep.size).toBe(0);
  });

  it('refuses a body that grows over the limit', async () => {
    const { sweep } = manualSweep();
    const s = source();
    const read = readClientBody(s, LIMITS, sweep);
    s.emit('data', Buffer.alloc(60));
    s.emit('data', Buffer.alloc(60));
    expect(await read).toBe('too_large');
  });

  it('gives a trickling client the grace period, then refuses it as too slow', async () => {
    const { sweep, advance } = manualSweep();
    const s = source();
    let outcome: unknown;
    void readClientBody(s, LIMITS, sweep).then((r) => (outcome = r));
    // 1 byte per second: below 10 B/s, but within the 2 s grace nothing happens.
    s.emit('data', Buffer.alloc(1));
    advance(1_000);
    s.emit('data', Buffer.alloc(1));
    advance(900);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    advance(100);
    await Promise.resolve();
    expect(outcome).toBe('too_slow');
    expect(sweep.size).toBe(0);
  });

  it('lets a client at the minimum rate continue until the whole-body deadline', async () => {
    const { sweep, advance } = manualSweep();
    const s = source();
    let outcome: unknown;
    void readClientBody(s, { ...LIMITS, maxBytes: 1_000 }, sweep).then((r) => (outcome = r));
    for (let t = 0; t < 9; t++) {
      s.emit('data', Buffer.alloc(12));
      advance(1_000);
    }
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    s.emit('data', Buffer.alloc(12));
    advance(1_000);
    await Promise.resolve();
    expect(outcome).toBe('timeout');
  });

  it('does no rate check when the minimum rate is 0', async () => {
    const { sweep, advance } = manualSweep();
    const s = source();
    let outcome: unknown;
    void readClientBody(s, { ...LIMITS, minBytesPerS: 0 }, sweep).then((r) => (outcome = r));
    advance(9_999);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    s.emit('end');
    await Promise.resolve();
    expect(outcome).toEqual(Buffer.alloc(0));
  });

  it.each(['close', 'error'])('reports a client that left (%s) as aborted', async (event) => {
    const { sweep } = manualSweep();
    const s = source();
    const read = readClientBody(s, LIMITS, sweep);
    s.emit('data', Buffer.alloc(3));
    s.emit(event, new Error('gone'));
    expect(await read).toBe('aborted');
    expect(sweep.size).toBe(0);
  });
});
