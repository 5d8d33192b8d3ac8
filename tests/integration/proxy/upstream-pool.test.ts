// The pooled upstream HTTP/1.1 client against loopback servers written on raw `net` sockets, so each
// test decides exactly what a worker does on the wire: answer, hold, close idle, reset, cut a body
// short, send garbage, ignore backpressure. Every test ends with no connection left open on the
// server side.
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import {
  getUpstream,
  postStream,
  postWhole,
  UpstreamError,
} from '../../../electron/core/proxy/upstream-client';
import {
  type ExchangeHandler,
  PoolWaitStats,
  type UpstreamExchange,
  UpstreamPool,
} from '../../../electron/core/proxy/upstream-pool';

/** A request as the server read it. */
interface SeenRequest {
  /** Which accepted connection (0-based, in accept order) carried it. */
  conn: number;
  /** Its index among the requests on that connection. */
  nth: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  socket: net.Socket;
}

type Responder = (req: SeenRequest) => void;

/** A worker on a raw socket: parses requests (Content-Length bodies only) and lets `respond` act. */
class RawServer {
  readonly server: net.Server;
  port = 0;
  accepted = 0;
  readonly open = new Set<net.Socket>();
  readonly requests: SeenRequest[] = [];
  /** Connection numbers in the order the server saw them close. */
  readonly closed: number[] = [];

  constructor(public respond: Responder) {
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  paths(): string[] {
    return this.requests.map((r) => r.path);
  }

  private onConnection(socket: net.Socket): void {
    const conn = this.accepted++;
    this.open.add(socket);
    socket.on('close', () => {
      this.open.delete(socket);
      this.closed.push(conn);
    });
    socket.on('error', () => {}); // resets are part of several tests
    let buf = Buffer.alloc(0);
    let nth = 0;
    socket.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const [method = '', path = ''] = (lines[0] ?? '').split(' ');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const c = l.indexOf(':');
          headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
        }
        const len = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.toString('utf8', end + 4, end + 4 + len);
        buf = buf.subarray(end + 4 + len);
        const req: SeenRequest = { conn, nth: nth++, method, path, headers, body, socket };
        this.requests.push(req);
        this.respond(req);
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function ok(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`.concat(
    body,
  );
}

function chunk(s: string): string {
  return `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
}

const SSE_HEAD =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';

/** Answers every request with its path as the body. */
const echoPath: Responder = (r) => r.socket.write(ok(r.path));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One exchange's events, and a promise for its end (onEnd or onFail), bounded in time. */
class Recorder implements ExchangeHandler {
  status = 0;
  contentType: string | undefined;
  readonly chunks: Buffer[] = [];
  readonly events: string[] = [];
  failure: { kind: string; message: string } | undefined;
  private settle!: () => void;
  readonly done = new Promise<void>((r) => (this.settle = r));
  onDataHook: ((c: Buffer) => void) | undefined;

  onHead(status: number, contentType: string | undefined): void {
    this.status = status;
    this.contentType = contentType;
    this.events.push('head');
  }

  onData(c: Buffer): void {
    this.chunks.push(Buffer.from(c));
    if (this.events[this.events.length - 1] !== 'data') this.events.push('data');
    this.onDataHook?.(c);
  }

  onEnd(): void {
    this.events.push('end');
    this.settle();
  }

  onFail(kind: string, message: string): void {
    this.failure = { kind, message };
    this.events.push(`fail:${kind}`);
    this.settle();
  }

  body(): string {
    return Buffer.concat(this.chunks).toString();
  }

  async finished(timeoutMs = 5_000): Promise<this> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `exchange did not finish in ${timeoutMs} ms (events: ${this.events.join(',')})`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.done, limit]);
    } finally {
      clearTimeout(timer);
    }
    return this;
  }
}

let servers: RawServer[] = [];
let pools: UpstreamPool[] = [];

async function serve(respond: Responder): Promise<RawServer> {
  const s = await new RawServer(respond).listen();
  servers.push(s);
  return s;
}

function poolFor(s: RawServer | number, maxSockets = 4, idleTimeoutMs = 3_000): UpstreamPool {
  const p = new UpstreamPool(
    '127.0.0.1',
    typeof s === 'number' ? s : s.port,
    maxSockets,
    idleTimeoutMs,
  );
  pools.push(p);
  return p;
}

/** A POST with `body`, or a GET when `body` is null. */
function send(
  pool: UpstreamPool,
  path: string,
  body: string | null = '{}',
): { rec: Recorder; ex: UpstreamExchange } {
  const rec = new Recorder();
  const ex =
    body === null
      ? pool.request('GET', path, undefined, rec)
      : pool.request('POST', path, body, rec);
  return { rec, ex };
}

afterEach(async () => {
  for (const p of pools) p.destroy();
  pools = [];
  try {
    // No leaked sockets: once the pools are destroyed, the server sees every connection close.
    for (const s of servers) {
      await waitFor(() => s.open.size === 0, 'the server to see every connection closed');
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  }
});

describe('UpstreamPool: connections', () => {
  it('carries N sequential requests on one keep-alive connection', async () => {
    const s = await serve(echoPath);
    const pool = poolFor(s);
    for (let i = 0; i < 6; i++) {
      const { rec } = send(pool, `/r${i}`, i % 2 ? null : `{"i":${i}}`);
      await rec.finished();
      expect(rec.events).toEqual(['head', 'data', 'end']);
      expect([rec.status, rec.contentType, rec.body()]).toEqual([
        200,
        'application/json',
        `/r${i}`,
      ]);
    }
    expect(s.accepted).toBe(1);
    expect(pool.openSockets()).toBe(1);
    expect(s.requests.map((r) => [r.method, r.nth, r.body])).toEqual([
      ['POST', 0, '{"i":0}'],
      ['GET', 1, ''],
      ['POST', 2, '{"i":2}'],
      ['GET', 3, ''],
      ['POST', 4, '{"i":4}'],
      ['GET', 5, ''],
    ]);
    // The request head names the worker and frames a JSON body.
    expect(s.requests[0]?.headers).toMatchObject({
      host: `127.0.0.1:${s.port}`,
      'content-type': 'application/json',
      'content-length': '7',
    });
  });

  it('sends a body larger than one joined write intact', async () => {
    const s = await serve((r) => r.socket.write(ok(String(r.body.length))));
    const pool = poolFor(s);
    const big = JSON.stringify({ prompt: 'é'.repeat(100_000) });
    const { rec } = send(pool, '/big', big);
    await rec.finished();
    expect(rec.body()).toBe(String(big.length));
    expect(s.requests[0]?.headers['content-length']).toBe(String(Buffer.byteLength(big)));
  });

  it('opens at most maxSockets connections; the rest wait and are served FIFO as connections free up', async () => {
    const held: SeenRequest[] = [];
    const s = await serve((r) => held.push(r));
    const pool = poolFor(s, 2);
    const calls = Array.from({ length: 5 }, (_, i) => send(pool, `/q${i}`));
    await waitFor(() => held.length === 2, 'two requests at the server');
    await sleep(100);
    expect(s.accepted).toBe(2);
    expect(held.map((r) => r.path)).toEqual(['/q0', '/q1']);
    expect(pool.openSockets()).toBe(2);
    // Free one connection at a time: each time exactly the oldest waiting request goes out on it.
    for (let k = 0; k < 5; k++) {
      const r = held.shift() as SeenRequest;
      r.socket.write(ok(r.path));
      await calls[k]?.rec.finished();
      expect(calls[k]?.rec.body()).toBe(`/q${k}`);
      if (k + 2 < 5) {
        await waitFor(() => s.requests.length === k + 3, `request ${k + 2} at the server`);
      }
    }
    expect(s.paths()).toEqual(['/q0', '/q1', '/q2', '/q3', '/q4']);
    expect(s.accepted).toBe(2);
  });

  it('reuses the most recently freed connection first (LIFO)', async () => {
    const held: SeenRequest[] = [];
    const s = await serve((r) =>
      r.path.startsWith('/hold') ? held.push(r) : r.socket.write(ok(r.path)),
    );
    const pool = poolFor(s, 3);
    const calls = [send(pool, '/hold0'), send(pool, '/hold1'), send(pool, '/hold2')];
    await waitFor(() => held.length === 3, 'three held requests');
    // Answer in the order of connections 2, 0, 1: connection 1 is freed last.
    const byConn = new Map(held.map((r) => [r.path, r]));
    const answer = async (i: number): Promise<void> => {
      const r = byConn.get(`/hold${i}`) as SeenRequest;
      r.socket.write(ok(r.path));
      await calls[i]?.rec.finished();
    };
    await answer(2);
    await answer(0);
    await answer(1);
    const lastFreed = s.requests.find((r) => r.path === '/hold1')?.conn;
    const { rec } = send(pool, '/next');
    await rec.finished();
    expect(s.requests.find((r) => r.path === '/next')?.conn).toBe(lastFreed);
    const { rec: rec2 } = send(pool, '/next2');
    await rec2.finished();
    expect(s.requests.find((r) => r.path === '/next2')?.conn).toBe(lastFreed);
    expect(s.accepted).toBe(3);
  });

  it('closes idle connections after the idle timeout', async () => {
    const s = await serve(echoPath);
    const pool = poolFor(s, 4, 200);
    await Promise.all([send(pool, '/a'), send(pool, '/b')].map((c) => c.rec.finished()));
    expect(pool.openSockets()).toBe(2);
    expect(s.open.size).toBe(2);
    await waitFor(() => s.open.size === 0, 'idle connections to close', 5_000);
    await waitFor(() => pool.openSockets() === 0, 'the pool to drop them');
    // The next request simply opens a new one.
    const { rec } = send(pool, '/c');
    await rec.finished();
    expect(rec.body()).toBe('/c');
    expect(s.accepted).toBe(3);
  });

  it("follows the worker's Keep-Alive timeout: idle connections stay open past the default", async () => {
    // The worker keeps idle connections 30 s: the pool keeps them 29 s, not its 200 ms default.
    const s = await serve((r) => r.socket.write(ok(r.path, 'keep-alive: timeout=30\r\n')));
    const pool = poolFor(s, 4, 200);
    await send(pool, '/a').rec.finished();
    // Well past the default, which closes an idle connection within 200 ms plus a 100 ms sweep.
    await sleep(600);
    expect([pool.openSockets(), s.open.size]).toEqual([1, 1]);
    await send(pool, '/b').rec.finished();
    expect(s.accepted).toBe(1);
  });

  it('keeps a connection that is used more often than the idle timeout', async () => {
    const s = await serve(echoPath);
    const pool = poolFor(s, 4, 400);
    for (let i = 0; i < 8; i++) {
      await send(pool, `/k${i}`).rec.finished();
      await sleep(100);
    }
    expect(s.accepted).toBe(1);
  });
});

describe('UpstreamPool: connection wait times (the /metrics pool wait)', () => {
  it('counts a connect wait per new connection, a queue wait per queued call and no wait on reuse', async () => {
    const held: SeenRequest[] = [];
    const s = await serve((r) => held.push(r));
    const stats = new PoolWaitStats();
    const pool = new UpstreamPool('127.0.0.1', s.port, 1, 3_000, stats);
    pools.push(pool);
    const first = send(pool, '/a');
    const queued = send(pool, '/b');
    await waitFor(() => held.length === 1, 'the first request at the server');
    // The first call waited for its new connection to connect; the second is still queued.
    expect([stats.wait.count, stats.opened]).toEqual([1, 1]);
    for (const call of [first, queued]) {
      await waitFor(() => held.length === 1, `${call === first ? 'first' : 'queued'} request held`);
      const r = held.shift() as SeenRequest;
      r.socket.write(ok(r.path));
      await call.rec.finished();
    }
    expect([stats.wait.count, stats.opened]).toEqual([2, 1]);
    // The queued call waited across at least one event-loop turn.
    const waitedSum = stats.wait.sum;
    expect(waitedSum).toBeGreaterThan(0);
    // A call that finds the idle keep-alive connection does not wait: one more observation, adding
    // exactly 0 to the sum.
    s.respond = echoPath;
    await send(pool, '/c').rec.finished();
    expect([stats.wait.count, stats.opened, stats.wait.sum]).toEqual([3, 1, waitedSum]);
  });

  it('a re-sent call after a stale connection is not counted twice', async () => {
    const s = await serve(echoPath);
    const stats = new PoolWaitStats();
    const pool = new UpstreamPool('127.0.0.1', s.port, 4, 3_000, stats);
    pools.push(pool);
    await send(pool, '/warm').rec.finished();
    // The worker closes the idle connection after its answer went out; the next call reuses it first.
    s.respond = (r) => r.socket.destroy();
    const { rec } = send(pool, '/stale');
    await rec.finished();
    // Two calls (the stale one re-sent once, then failed): two waits, whatever the re-sends.
    expect(stats.wait.count).toBe(2);
    expect(stats.opened).toBe(2);
  });
});

describe('UpstreamPool: stale keep-alive and broken connections', () => {
  it('re-sends once, on a new connection, a request whose reused connection the worker closed', async () => {
    // The worker answers the first request on a connection and drops the connection at the second,
    // without a byte: the keep-alive race (the worker closed it just as we reused it).
    const s = await serve((r) => (r.nth === 0 ? r.socket.write(ok(r.path)) : r.socket.destroy()));
    const pool = poolFor(s, 1);
    await send(pool, '/first').rec.finished();
    const { rec } = send(pool, '/second', '{"x":1}');
    await rec.finished();
    expect(rec.events).toEqual(['head', 'data', 'end']);
    expect(rec.body()).toBe('/second');
    expect(s.requests.map((r) => [r.path, r.conn, r.body])).toEqual([
      ['/first', 0, '{}'],
      ['/second', 0, '{"x":1}'],
      ['/second', 1, '{"x":1}'],
    ]);
  });

  it('recovers when the worker closes an idle keep-alive connection (its own keep-alive timeout)', async () => {
    const s = await serve((r) => {
      r.socket.write(ok(r.path));
      setTimeout(() => r.socket.end(), 30);
    });
    const pool = poolFor(s, 2);
    await send(pool, '/a').rec.finished();
    await waitFor(() => s.closed.includes(0), 'the worker to close the idle connection');
    const { rec } = send(pool, '/b');
    await rec.finished();
    expect(rec.body()).toBe('/b');
    expect(s.requests.filter((r) => r.path === '/b').map((r) => r.conn)).toEqual([1]);
  });

  it('back-to-back requests succeed when the worker closes each connection right after its answer', async () => {
    // The close comes with (or just after) the answer, without Connection: close: each next request,
    // sent from the previous one's onEnd, may go onto a connection that is already half closed.
    const s = await serve((r) => r.socket.end(ok(r.path)));
    const pool = poolFor(s, 1);
    const bodies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stalled after ${bodies.length} answers`)),
        10_000,
      );
      const next = (i: number): void => {
        if (i === 10) {
          clearTimeout(timer);
          resolve();
          return;
        }
        const rec = new Recorder();
        rec.onEnd = () => {
          bodies.push(Buffer.concat(rec.chunks).toString());
          next(i + 1);
        };
        rec.onFail = (kind) => {
          clearTimeout(timer);
          reject(new Error(`request ${i} failed: ${kind}`));
        };
        pool.request('POST', `/b${i}`, '{}', rec);
      };
      next(0);
    });
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `/b${i}`));
    // One answer per connection: a request that hit a half-closed one was re-sent on a fresh one.
    expect(s.accepted).toBe(10);
  });

  it("a worker that resets every request gives onFail('reset') after exactly one re-send", async () => {
    const s = await serve((r) =>
      r.conn === 0 && r.nth === 0 ? r.socket.write(ok(r.path)) : r.socket.destroy(),
    );
    const pool = poolFor(s, 4);
    await send(pool, '/warm').rec.finished();
    const { rec } = send(pool, '/doomed');
    await rec.finished();
    expect(rec.events).toEqual(['fail:reset']);
    // The original attempt on the reused connection and one re-send; nothing more, even later.
    await sleep(300);
    expect(s.paths()).toEqual(['/warm', '/doomed', '/doomed']);
    expect(s.accepted).toBe(2);
  });

  it('a reset on a fresh connection is not re-sent', async () => {
    const s = await serve((r) => r.socket.destroy());
    const pool = poolFor(s);
    const { rec } = send(pool, '/x');
    await rec.finished();
    expect(rec.events).toEqual(['fail:reset']);
    await sleep(200);
    expect(s.accepted).toBe(1);
  });

  it("a refused connection fails with 'connect'", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const pool = poolFor(port);
    const { rec } = send(pool, '/x');
    await rec.finished();
    expect(rec.events).toEqual(['fail:connect']);
    expect(rec.failure?.message).toBe('ECONNREFUSED');
    await waitFor(() => pool.openSockets() === 0, 'the refused connection to be dropped');
  });

  it("a worker that closes mid-body gives onFail('truncated') after the head and the bytes it sent", async () => {
    const s = await serve((r) => {
      if (r.path === '/length') {
        r.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
      } else r.socket.end(SSE_HEAD + chunk('data: 1\n\n') + '20\r\npartial');
    });
    const pool = poolFor(s);
    for (const path of ['/length', '/chunked']) {
      const { rec } = send(pool, path);
      await rec.finished();
      expect(rec.events, path).toEqual(['head', 'data', 'fail:truncated']);
      expect(rec.body(), path).toBe(path === '/length' ? '0123456789' : 'data: 1\n\npartial');
    }
  });

  it('a worker that is destroyed mid-body (RST) gives truncated too', async () => {
    const s = await serve((r) => {
      r.socket.write(SSE_HEAD + chunk('data: 1\n\n'));
      setTimeout(() => r.socket.resetAndDestroy(), 50);
    });
    const pool = poolFor(s);
    const { rec } = send(pool, '/x');
    await rec.finished();
    expect(rec.events).toEqual(['head', 'data', 'fail:truncated']);
  });

  it('an invalid response fails the request and its connection is not reused', async () => {
    const s = await serve((r) => {
      if (r.path === '/garbage') r.socket.write('SSH-2.0-OpenSSH\r\n\r\n');
      else if (r.path === '/badchunk') r.socket.write(SSE_HEAD + chunk('data: 1\n\n') + 'zz\r\n');
      else r.socket.write(ok(r.path));
    });
    const pool = poolFor(s, 1);
    const bad = send(pool, '/garbage');
    await bad.rec.finished();
    expect(bad.rec.events).toEqual(['fail:protocol']);
    expect(bad.rec.failure?.message).toMatch(/invalid HTTP response/);
    await waitFor(() => s.closed.includes(0), 'the server to see the bad connection closed');
    const after = send(pool, '/fine');
    await after.rec.finished();
    expect(after.rec.body()).toBe('/fine');

    const badChunk = send(pool, '/badchunk');
    await badChunk.rec.finished();
    expect(badChunk.rec.events).toEqual(['head', 'data', 'fail:protocol']);
    await send(pool, '/fine2').rec.finished();
    expect(s.requests.map((r) => [r.path, r.conn])).toEqual([
      ['/garbage', 0],
      ['/fine', 1],
      ['/badchunk', 1],
      ['/fine2', 2],
    ]);
  });

  it('bytes after a complete response (unasked for) close the connection', async () => {
    const s = await serve((r) => r.socket.write(ok(r.path) + ok('/extra')));
    const pool = poolFor(s, 1);
    const { rec } = send(pool, '/a');
    await rec.finished();
    expect(rec.body()).toBe('/a');
    await waitFor(() => s.closed.includes(0), 'the connection with extra bytes to close');
    await send(pool, '/b').rec.finished();
    expect(s.accepted).toBe(2);
  });

  it('Connection: close is honoured: the pool closes the connection and the next request opens a new one', async () => {
    // The server does not close it itself: only the client's close ends the connection.
    const s = await serve((r) => r.socket.write(ok(r.path, 'connection: close\r\n')));
    const pool = poolFor(s, 1);
    await send(pool, '/a').rec.finished();
    await waitFor(() => s.closed.includes(0), 'the client to close the connection');
    const { rec } = send(pool, '/b');
    await rec.finished();
    expect(rec.body()).toBe('/b');
    expect(s.requests.map((r) => r.conn)).toEqual([0, 1]);
  });

  it('a close-delimited body completes at the end of input', async () => {
    const s = await serve((r) =>
      r.socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'),
    );
    const pool = poolFor(s);
    const { rec } = send(pool, '/x');
    await rec.finished();
    expect(rec.events).toEqual(['head', 'data', 'end']);
    expect(rec.body()).toBe('until the end');
  });
});

describe('UpstreamPool: abort, backpressure, destroy', () => {
  it('abort() closes the connection (the worker sees it) and the handler hears nothing more', async () => {
    const s = await serve((r) =>
      r.socket.write(r.path === '/stream' ? SSE_HEAD + chunk('data: 1\n\n') : ok(r.path)),
    );
    const pool = poolFor(s, 1);
    const { rec, ex } = send(pool, '/stream');
    await waitFor(() => rec.events.includes('data'), 'the first event');
    ex.abort();
    await waitFor(() => s.closed.includes(0), 'the worker to see the disconnect');
    const before = [...rec.events];
    await sleep(100);
    expect(rec.events).toEqual(before);
    expect(rec.events).toEqual(['head', 'data']);
    // The pool goes on with a new connection.
    await send(pool, '/after').rec.finished();
    expect(s.accepted).toBe(2);
  });

  it('abort() before the head also closes the connection', async () => {
    const s = await serve(() => {});
    const pool = poolFor(s, 1);
    const { rec, ex } = send(pool, '/slow');
    await waitFor(() => s.requests.length === 1, 'the request at the server');
    ex.abort();
    await waitFor(() => s.closed.includes(0), 'the worker to see the disconnect');
    await sleep(50);
    expect(rec.events).toEqual([]);
  });

  it('an aborted queued request never reaches the worker', async () => {
    const held: SeenRequest[] = [];
    const s = await serve((r) => (r.path === '/hold' ? held.push(r) : r.socket.write(ok(r.path))));
    const pool = poolFor(s, 1);
    const first = send(pool, '/hold');
    const queued = send(pool, '/queued');
    const third = send(pool, '/third');
    await waitFor(() => held.length === 1, 'the held request');
    queued.ex.abort();
    (held[0] as SeenRequest).socket.write(ok('/hold'));
    await first.rec.finished();
    await third.rec.finished();
    await sleep(100);
    expect(s.paths()).toEqual(['/hold', '/third']);
    expect(queued.rec.events).toEqual([]);
    expect(s.accepted).toBe(1);
  });

  it('pause() stops delivery (the worker is held back) and resume() delivers the rest', async () => {
    const total = 16 * 1024 * 1024;
    const piece = 'x'.repeat(64 * 1024);
    let serverBlocked = false;
    const s = await serve((r) => {
      const sock = r.socket;
      sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += piece.length;
          if (!sock.write(piece)) {
            serverBlocked = true;
            sock.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const pool = poolFor(s, 1);
    const { rec, ex } = send(pool, '/big');
    let received = 0;
    rec.onDataHook = (c) => {
      received += c.length;
      if (received >= 256 * 1024 && received - c.length < 256 * 1024) ex.pause();
    };
    await waitFor(() => received >= 256 * 1024, 'the first 256 KB');
    await waitFor(() => serverBlocked, 'the worker to be held back by backpressure');
    const atPause = received;
    await sleep(300);
    expect(received).toBe(atPause);
    expect(received).toBeLessThan(total);
    ex.resume();
    await rec.finished(10_000);
    expect(rec.events[rec.events.length - 1]).toBe('end');
    expect(received).toBe(total);
  });

  it('a connection paused by its last exchange is not left paused for the next one', async () => {
    // The owner pauses in onData (its client is slow) and that read also ended the response: the
    // connection goes back to the pool, and the next request on it must still be read.
    const s = await serve((r) => r.socket.write(ok(r.path)));
    const pool = poolFor(s, 1);
    const first = send(pool, '/paused');
    first.rec.onDataHook = () => first.ex.pause();
    await first.rec.finished();
    const { rec } = send(pool, '/next');
    await rec.finished(3_000);
    expect(rec.body()).toBe('/next');
    expect(s.accepted).toBe(1);
  });

  it('destroy() closes every connection and fails in-flight and queued requests', async () => {
    const s = await serve(() => {});
    const pool = poolFor(s, 2);
    const calls = Array.from({ length: 4 }, (_, i) => send(pool, `/d${i}`));
    await waitFor(() => s.requests.length === 2, 'two requests at the server');
    pool.destroy();
    for (const c of calls) {
      await c.rec.finished();
      expect(c.rec.events).toEqual(['fail:reset']);
    }
    await waitFor(() => s.open.size === 0, 'the server to see both connections close');
    expect(pool.openSockets()).toBe(0);
    const late = send(pool, '/late');
    expect(late.rec.events).toEqual([]); // failed asynchronously, after the caller kept the exchange
    await late.rec.finished();
    expect(late.rec.events).toEqual(['fail:reset']);
    await sleep(100);
    expect(s.accepted).toBe(2);
  });
});

describe('upstream-client over the pool', () => {
  it('postWhole resolves with status, content type and the whole (chunked) body', async () => {
    const s = await serve((r) =>
      r.socket.write(
        SSE_HEAD.replace('text/event-stream', 'application/json') +
          chunk('{"a":') +
          chunk('1}') +
          '0\r\n\r\n',
      ),
    );
    const pool = poolFor(s);
    const res = await postWhole({ pool }, '/v1/completions', '{"prompt":"x"}', 5_000).result;
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    expect(res.body.toString()).toBe('{"a":1}');
    expect(s.requests[0]?.body).toBe('{"prompt":"x"}');
  });

  it("postWhole rejects with kind 'timeout' at its deadline and closes the connection", async () => {
    const s = await serve(() => {});
    const pool = poolFor(s);
    const t0 = Date.now();
    const err = await postWhole({ pool }, '/v1/completions', '{}', 300).result.catch(
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('timeout');
    // Not before its deadline (timers never fire early, so load cannot break this); how late is not bounded.
    expect(took).toBeGreaterThanOrEqual(290);
    await waitFor(() => s.closed.includes(0), 'the worker to see the disconnect');
  });

  it('a postWhole that times out while queued is dropped from the queue and never reaches the worker', async () => {
    const held: SeenRequest[] = [];
    const s = await serve((r) => (r.path === '/hold' ? held.push(r) : r.socket.write(ok(r.path))));
    const pool = poolFor(s, 1);
    const first = send(pool, '/hold');
    const queued = postWhole({ pool }, '/queued', '{}', 200);
    const err = await queued.result.catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe('timeout');
    (held[0] as SeenRequest).socket.write(ok('/hold'));
    await first.rec.finished();
    await send(pool, '/after').rec.finished();
    expect(s.paths()).toEqual(['/hold', '/after']);
  });

  it("postWhole abort() rejects with 'aborted'; a refused worker with 'connect'", async () => {
    const s = await serve(() => {});
    const pool = poolFor(s);
    const call = postWhole({ pool }, '/x', '{}', 5_000);
    await waitFor(() => s.requests.length === 1, 'the request at the server');
    call.abort();
    const err = await call.result.catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe('aborted');
    await waitFor(() => s.closed.includes(0), 'the worker to see the disconnect');

    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const refused = await postWhole({ pool: poolFor(port) }, '/x', '{}', 5_000).result.catch(
      (e: unknown) => e,
    );
    expect((refused as UpstreamError).kind).toBe('connect');
  });

  it('postStream: body bytes that came in the same packet as the head are replayed on attach, then the rest follows', async () => {
    let sock: net.Socket | undefined;
    const s = await serve((r) => {
      if (r.path !== '/v1/completions') return void r.socket.write(ok(r.path));
      sock = r.socket;
      r.socket.write(SSE_HEAD + chunk('data: 1\n\n') + chunk('data: 2\n\n'));
    });
    const pool = poolFor(s);
    const call = postStream({ pool }, '/v1/completions', '{"stream":true}', 5_000);
    const head = await call.head;
    expect(head).toEqual({ status: 200, contentType: 'text/event-stream' });
    // Before attaching, let other connections read (they share the pool's read buffer): what was
    // held must be the worker's bytes still, not whatever a later read left in that buffer.
    const other = poolFor(s);
    for (let i = 0; i < 3; i++) {
      await send(other, `/overwrite-${'z'.repeat(40)}-${i}`).rec.finished();
    }
    const got: string[] = [];
    let ended = false;
    call.attach({
      onData: (c) => got.push(c.toString()),
      onEnd: () => (ended = true),
      onFail: (k) => got.push(`fail:${k}`),
    });
    expect(got.join('')).toBe('data: 1\n\ndata: 2\n\n');
    sock?.write(chunk('data: [DONE]\n\n') + '0\r\n\r\n');
    await waitFor(() => ended, 'the end of the stream');
    expect(got.join('')).toBe('data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
    // The connection went back to the pool.
    await send(pool, '/again').rec.finished();
    expect(s.requests.find((r) => r.path === '/again')?.conn).toBe(0);
  });

  it('postStream: an answer that ended before attach replays its end; readRest reads an error body', async () => {
    const s = await serve((r) =>
      r.socket.write(
        r.path === '/err'
          ? 'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{"error":"x"}'
          : SSE_HEAD + chunk('data: 1\n\n') + '0\r\n\r\n',
      ),
    );
    const pool = poolFor(s);
    const call = postStream({ pool }, '/ok', '{}', 5_000);
    await call.head;
    await sleep(50);
    const got: string[] = [];
    call.attach({
      onData: (c) => got.push(c.toString()),
      onEnd: () => got.push('end'),
      onFail: (k) => got.push(`fail:${k}`),
    });
    expect(got).toEqual(['data: 1\n\n', 'end']);

    const errCall = postStream({ pool }, '/err', '{}', 5_000);
    expect((await errCall.head).status).toBe(400);
    expect((await errCall.readRest(5_000)).toString()).toBe('{"error":"x"}');
  });

  it("postStream: the first-byte deadline rejects the head with 'timeout' and closes the connection", async () => {
    const s = await serve(() => {});
    const pool = poolFor(s);
    const call = postStream({ pool }, '/x', '{}', 250);
    const err = await call.head.catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe('timeout');
    await waitFor(() => s.closed.includes(0), 'the worker to see the disconnect');
  });

  it('postStream: a break after the head reaches the attached handler as truncated', async () => {
    const s = await serve((r) => {
      r.socket.write(SSE_HEAD + chunk('data: 1\n\n'));
      setTimeout(() => r.socket.destroy(), 100);
    });
    const pool = poolFor(s);
    const call = postStream({ pool }, '/x', '{}', 5_000);
    await call.head;
    const got: string[] = [];
    call.attach({
      onData: (c) => got.push(c.toString()),
      onEnd: () => got.push('end'),
      onFail: (k) => got.push(`fail:${k}`),
    });
    await waitFor(() => got.length === 2, 'the failure');
    expect(got).toEqual(['data: 1\n\n', 'fail:truncated']);
  });

  it('getUpstream: answers, a POST probe with an empty body, and undefined on refusal or timeout', async () => {
    const s = await serve((r) => {
      if (r.path === '/stall') return;
      r.socket.write(ok(`${r.method} ${r.path} ${r.headers['content-length'] ?? '-'}`));
    });
    const pool = poolFor(s);
    const got = await getUpstream({ pool }, '/health', 5_000);
    expect(got?.status).toBe(200);
    expect(got?.body.toString()).toBe('GET /health -');
    const posted = await getUpstream({ pool }, '/probe', 5_000, 'POST');
    expect(posted?.body.toString()).toBe('POST /probe 0');

    // The stall never answers, so undefined here is the 250 ms timer's doing (a hang would hit the test timeout).
    expect(await getUpstream({ pool }, '/stall', 250)).toBeUndefined();
    await waitFor(() => s.open.size === 1, 'the stalled connection to be closed');

    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await getUpstream({ pool: poolFor(port) }, '/health', 5_000)).toBeUndefined();
  });
});
