// The NTP offset math of the steady-clock alignment (trtllm-protocol.md 8.3) and the sign of what is pushed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { ntpOffset, SteadyClockSync } from '../../../../electron/core/proxy/clock-sync';

describe('ntpOffset', () => {
  it('recovers a worker clock ahead of the proxy with a symmetric path', () => {
    // Proxy sends at 100.000, 10 ms each way, worker holds the request 200 ms, its clock is +50 s.
    const s = ntpOffset(100.0, 150.01, 150.21, 100.22);
    expect(s.offset).toBeCloseTo(50, 9);
    expect(s.delay).toBeCloseTo(0.02, 9);
  });

  it('recovers a worker clock behind the proxy', () => {
    const s = ntpOffset(1000.0, 700.005, 700.205, 1000.21);
    expect(s.offset).toBeCloseTo(-300, 9);
    expect(s.delay).toBeCloseTo(0.01, 9);
  });

  it('errs by at most half the path asymmetry', () => {
    // 2 ms out, 18 ms back, true offset 7 s: the estimate is off by (2 - 18) / 2 = -8 ms.
    const s = ntpOffset(10.0, 17.002, 17.202, 10.22);
    expect(s.offset).toBeCloseTo(7 - 0.008, 9);
  });
});

describe('SteadyClockSync', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** A worker whose steady clock is the proxy's (injected) clock plus `skew`, recording what is pushed. */
  async function fakeWorker(
    skew: number,
    clock: { t: number },
    getStatus = 200,
  ): Promise<{ url: string; pushed: unknown[]; gets: () => number }> {
    const pushed: unknown[] = [];
    let gets = 0;
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') {
          gets += 1;
          clock.t += 0.01; // 10 ms on the way in
          const receive = clock.t + skew;
          clock.t += 0.2;
          const transmit = clock.t + skew;
          clock.t += 0.01; // and on the way back
          res.writeHead(getStatus, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ receive_ts: receive, transmit_ts: transmit }));
          return;
        }
        pushed.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-length': 0 });
        res.end();
      });
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
      pushed,
      gets: () => gets,
    };
  }

  it('pushes the negated offset, so worker time + pushed offset = proxy time', async () => {
    const clock = { t: 5000 };
    const w = await fakeWorker(123.5, clock);
    const logs: string[] = [];
    const sync = new SteadyClockSync({ log: (_l, m) => logs.push(m), now: () => clock.t });
    sync.reconcile([w.url]);
    await sync.idle();
    expect(w.pushed).toHaveLength(1);
    const offset = (w.pushed[0] as { offset: number }).offset;
    expect(offset).toBeCloseTo(-123.5, 6);
    expect(sync.pushedOffset(w.url)).toBe(offset);
    expect(logs.some((m) => m.includes('offset: 123.5'))).toBe(true);
    // Once per member: a second reconcile with the same membership measures nothing again.
    sync.reconcile([w.url]);
    await sync.idle();
    expect(w.gets()).toBe(1);
    sync.close();
  });

  it('a failure is logged, not thrown, and retried until it succeeds', async () => {
    const clock = { t: 0 };
    const w = await fakeWorker(0, clock, 500);
    const logs: Array<[string, string]> = [];
    const sync = new SteadyClockSync({
      log: (l, m) => logs.push([l, m]),
      now: () => clock.t,
      retryMs: 20,
      maxRetryMs: 40,
    });
    sync.reconcile([w.url]);
    await sync.idle();
    expect(sync.pushedOffset(w.url)).toBeUndefined();
    expect(logs[0]?.[0]).toBe('warning');
    expect(logs[0]?.[1]).toContain('answered 500');
    const deadline = Date.now() + 5_000;
    while (w.gets() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(w.gets()).toBeGreaterThanOrEqual(3);
    // Only the first failure is a warning; the retries log at debug.
    expect(logs.filter(([l]) => l === 'warning')).toHaveLength(1);
    sync.close();
    const after = w.gets();
    await new Promise((r) => setTimeout(r, 150));
    expect(w.gets()).toBe(after);
  });

  it('an unreachable worker times out and does not block others', async () => {
    const clock = { t: 0 };
    // A listener that accepts and never answers.
    const silent = http.createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const w = await fakeWorker(-2, clock);
    const logs: string[] = [];
    const sync = new SteadyClockSync({
      log: (_l, m) => logs.push(m),
      now: () => clock.t,
      timeoutMs: 300,
      retryMs: 60_000,
    });
    sync.reconcile([silentUrl, w.url]);
    await sync.idle();
    // idle() settled, so the silent worker's exchange ended by its own 300 ms timeout (logged below).
    expect(sync.pushedOffset(w.url)).toBeCloseTo(2, 6);
    expect(sync.pushedOffset(silentUrl)).toBeUndefined();
    expect(logs.some((m) => m.includes(silentUrl) && m.includes('timed out'))).toBe(true);
    sync.close();
    silent.closeAllConnections();
  });

  it('a worker that leaves and joins again is measured again', async () => {
    const clock = { t: 0 };
    const w = await fakeWorker(1, clock);
    const sync = new SteadyClockSync({ log: () => undefined, now: () => clock.t });
    sync.reconcile([w.url]);
    await sync.idle();
    sync.reconcile([]);
    sync.reconcile([w.url]);
    await sync.idle();
    expect(w.gets()).toBe(2);
    expect(w.pushed).toHaveLength(2);
    sync.close();
  });
});
