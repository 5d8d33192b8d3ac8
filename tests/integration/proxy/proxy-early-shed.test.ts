// Issue #16: shedding before the body. A request that arrives while admission would refuse it is answered
// 429/503 + Retry-After at headers time: a client that sends its headers and never its body still gets the
// answer (before this, the proxy waited for the body first). A small declared body is dropped by Node and
// the connection serves the next request; a large or chunked one closes the connection. And CPU-pressure
// admission end to end: while this process's event loop is kept saturated, arrivals beyond the loop's cap
// get 503 `loop_overloaded`; once it is calm again requests pass. Every assertion is an outcome or a
// count, every wait has a timeout (the answer is awaited as an event, never timed).
import http from 'node:http';
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { ProxyServerOptions } from '../../../electron/core/proxy/proxy-server';
import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  completionBody,
  metricValue,
  postHead,
  request,
  startFakeWorker,
  startProxy,
  waitFor,
} from './proxy-test-kit';

/** One answer read off a raw socket: status, headers (lower-cased) and body. */
interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw client connection: write bytes, await whole answers (by Content-Length), see when it closes. */
class RawClient {
  private readonly socket: net.Socket;
  private buffered = '';
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => {
      this.buffered += c.toString('latin1');
      this.waiter?.();
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((r) => this.socket.once('close', () => r()));
    void this.closed.then(() => this.waiter?.());
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** The next whole answer; rejects after `timeoutMs` or when the connection closes first. */
  async reply(timeoutMs = 10_000): Promise<RawReply> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.socket.destroyed) throw new Error(`closed before an answer: '${this.buffered}'`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no answer in ${timeoutMs} ms: '${this.buffered}'`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private take(): RawReply | undefined {
    const split = this.buffered.indexOf('\r\n\r\n');
    if (split < 0) return undefined;
    const lines = this.buffered.slice(0, split).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.buffered.length < split + 4 + length) return undefined;
    const body = this.buffered.slice(split + 4, split + 4 + length);
    this.buffered = this.buffered.slice(split + 4 + length);
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0), headers, body };
  }
}

/** A streamed request that holds its admission slot until `release()` (its client goes away). */
interface Held {
  headers: Promise<number>;
  release(): void;
}

function holdStream(port: number): Held {
  let req!: http.ClientRequest;
  const headers = new Promise<number>((resolve, reject) => {
    req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/completions',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('error', () => undefined);
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(completionBody({ stream: true, max_tokens: 50 }));
  });
  headers.catch(() => undefined);
  return { headers, release: () => req.destroy() };
}

const BODY = completionBody({ max_tokens: 2 });

describe('shedding before the body (issue #16)', () => {
  let workers: FakeWorker[] = [];
  let p: ProxyUnderTest | undefined;
  let held: Held[] = [];
  let clients: RawClient[] = [];

  async function setup(opts: Partial<ProxyServerOptions>): Promise<ProxyUnderTest> {
    workers = await Promise.all([startFakeWorker(), startFakeWorker()]);
    const [ctx, gen] = workers as [FakeWorker, FakeWorker];
    // Streams of 50 tokens 200 ms apart: a held stream keeps its slot for the whole test.
    await gen.control({ tokenDelayMs: 200 });
    p = await startProxy({ contextUrls: [ctx.url], generationUrls: [gen.url], ...opts });
    return p;
  }

  function raw(port: number): RawClient {
    const c = new RawClient(port);
    clients.push(c);
    return c;
  }

  /** Fills the only slot (and the queue is 0): the next arrival is refused with queue_full. */
  async function fillSlot(port: number): Promise<void> {
    const h = holdStream(port);
    held.push(h);
    expect(await h.headers).toBe(200);
  }

  afterEach(async () => {
    for (const c of clients) c.destroy();
    for (const h of held) h.release();
    clients = [];
    held = [];
    await p?.proxy.close();
    p = undefined;
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
  });

  const FULL = { maxConcurrency: 1, maxQueue: 0, maxLoopDelayMs: 0 };

  it(
    'headers with a Content-Length and no body: 429 + Retry-After at once; the small body is then dropped and the connection kept',
    { timeout: 30_000 },
    async () => {
      const { port } = await setup(FULL);
      await fillSlot(port);
      const c = raw(port);
      c.write(postHead('/v1/completions', BODY.length));
      const shed = await c.reply();
      expect(shed.status).toBe(429);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.headers['connection']).not.toBe('close');
      expect(JSON.parse(shed.body)).toMatchObject({ error: { code: 429 } });
      // The body arrives late: Node reads and drops it, and the same connection answers the next request
      // (were the body left unread, its bytes would be parsed as a request line: 400).
      c.write(BODY);
      c.write('GET /version HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      const next = await c.reply();
      expect(next.status).toBe(200);
      expect(JSON.parse(next.body)).toHaveProperty('version');
      const metrics = (await request(port, 'GET', '/metrics')).body;
      expect(metricValue(metrics, 'disagg_proxy_shed_total', 'reason="queue_full"')).toBe(1);
    },
  );

  it(
    'a large declared body or a chunked one is refused unread and its connection closed',
    { timeout: 30_000 },
    async () => {
      const { port } = await setup(FULL);
      await fillSlot(port);
      const large = raw(port);
      large.write(postHead('/v1/completions', 8 * 1024 * 1024));
      const a = await large.reply();
      expect(a.status).toBe(429);
      expect(a.headers['retry-after']).toBe('1');
      expect(a.headers['connection']).toBe('close');
      await large.closed;

      const chunked = raw(port);
      chunked.write(
        'POST /v1/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      );
      const b = await chunked.reply();
      expect(b.status).toBe(429);
      expect(b.headers['connection']).toBe('close');
      await chunked.closed;
    },
  );

  it(
    'an admitted request is unaffected: the same raw request passes once the slot is free',
    { timeout: 30_000 },
    async () => {
      const { port } = await setup(FULL);
      await fillSlot(port);
      const c = raw(port);
      c.write(postHead('/v1/completions', BODY.length) + BODY);
      expect((await c.reply()).status).toBe(429);
      held.splice(0).forEach((h) => h.release());
      await waitFor(
        async () =>
          metricValue((await request(port, 'GET', '/metrics')).body, 'disagg_proxy_in_flight') ===
          0,
        5_000,
        'the held stream to end',
      );
      c.write(postHead('/v1/completions', BODY.length) + BODY);
      const ok = await c.reply();
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ object: 'text_completion' });
    },
  );

  it(
    'CPU pressure: while the event loop is kept saturated, arrivals beyond the cap get 503 loop_overloaded; calm again, they pass',
    { timeout: 30_000 },
    async () => {
      const { port, logs } = await setup({ maxLoopDelayMs: 20, loopIntervalMs: 150 });
      // Five streams in the process: the cap is set from them (never below 4) when overload starts.
      for (let i = 0; i < 5; i++) await fillSlot(port);
      // Saturate this process's loop: 60 ms of busy work, a turn for I/O, again.
      let isBusy = true;
      const spin = (): void => {
        if (!isBusy) return;
        const until = performance.now() + 60;
        while (performance.now() < until) {
          /* busy: the loop's timers run late */
        }
        setImmediate(spin);
      };
      spin();
      try {
        await waitFor(
          () => logs.some((l) => l.includes('event loop saturated')),
          10_000,
          'overload',
        );
        const c = raw(port);
        c.write(postHead('/v1/completions', BODY.length));
        const shed = await c.reply();
        expect(shed.status).toBe(503);
        expect(shed.headers['retry-after']).toBe('1');
        expect(JSON.parse(shed.body)).toMatchObject({ error: { code: 503 } });
      } finally {
        isBusy = false;
      }
      const metrics = (await request(port, 'GET', '/metrics')).body;
      expect(metricValue(metrics, 'disagg_proxy_shed_total', 'reason="loop_overloaded"')).toBe(1);
      held.splice(0).forEach((h) => h.release());
      await waitFor(() => logs.some((l) => l.includes('calm again')), 10_000, 'calm again');
      expect((await request(port, 'POST', '/v1/completions', BODY)).status).toBe(200);
    },
  );
});
