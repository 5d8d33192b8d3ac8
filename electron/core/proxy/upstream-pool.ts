// Pooled keep-alive HTTP/1.1 connections to one worker, written on `net` sockets instead of Node's
// http.Agent: one write per request, one parse pass per read, no per-call stream objects. At most
// `maxSockets` connections; requests beyond that wait in FIFO order. The most recently used idle
// connection is reused first, and idle ones close after `idleTimeoutMs` (or a second before the idle
// timeout the worker names in `Keep-Alive: timeout=N`), before the worker's own
// keep-alive timeout (uvicorn's default is 5 s) can close them under a request. A request that finds its
// reused connection already closed by the worker (no response byte) is sent once more on a new
// connection: that race is inherent to keep-alive, and it says nothing about the worker's health.
// Layer: core.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

import { Histogram, LATENCY_BUCKETS_SECONDS } from '../../../shared/logic/histogram';
import { Http1ResponseParser, type ResponseSink } from './http1-response-parser';
import type { UpstreamFailureKind } from './upstream-error';

/**
 * What one request's owner hears. Nothing is called after `onEnd`, `onFail`, or the owner's abort().
 * `onHead` is the parser's, passed on as it comes (its arguments are documented at ResponseSink).
 */
export interface ExchangeHandler extends Pick<ResponseSink, 'onHead'> {
  /**
   * Body bytes, de-chunked: a view of the shared read buffer, valid until the read ends (onReadEnd).
   * An owner that keeps them longer copies them (the stream relay copies a read's views once, straight
   * into its outgoing frame).
   */
  onData(chunk: Buffer): void;
  /** The read that delivered the onData calls before it ended; the shared buffer is reused next. */
  onReadEnd?(): void;
  onEnd(): void;
  onFail(kind: UpstreamFailureKind, message: string): void;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Bodies below this are sent in one write with the head; larger ones as further writes, corked (one writev). */
const JOINED_WRITE_MAX = 64 * 1024;

/**
 * A request body: text, or chunks written in order. Chunks let a large body go out as views of the
 * bytes it was read in (the client's request, the context answer's token ids), never copied or
 * re-encoded here; they must stay unchanged until the exchange ends (a stale connection re-sends them).
 */
export type RequestBody = string | readonly Buffer[];

function byteLengthOf(body: RequestBody): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  let n = 0;
  for (const c of body) n += c.length;
  return n;
}

/** `head` and `chunks` copied into one buffer of `size` bytes (a small body: one write, one syscall). */
function joined(head: string, chunks: readonly Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafe(Buffer.byteLength(head) + size);
  let at = out.write(head, 0, 'utf8');
  for (const c of chunks) at += c.copy(out, at);
  return out;
}

/**
 * Every upstream socket reads into this one buffer (net's `onread`): no allocation per read and no
 * readable-stream machinery per token. Safe to share: each read is handled to the end, synchronously,
 * before the next one is delivered. What outlives a read (body bytes) is copied out by its owner.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * How long calls waited for a connection (issue #16, the TTFT tail): from the request until it is on a
 * connected socket. A reused idle connection is no wait; otherwise the time queued for a free one (at
 * `maxSockets`) plus, on a new connection, its TCP connect.
 */
export interface PoolWaitSink {
  observeWait(seconds: number): void;
  countOpened(): void;
}

/** Every pool of this thread reports here unless given its own sink (/metrics renders it). */
export class PoolWaitStats implements PoolWaitSink {
  readonly wait = new Histogram(LATENCY_BUCKETS_SECONDS);
  opened = 0;

  observeWait(seconds: number): void {
    this.wait.observe(seconds);
  }

  countOpened(): void {
    this.opened++;
  }
}

export const poolWaitStats = new PoolWaitStats();

/** One request on the pool, from queued to answered. */
export class UpstreamExchange {
  /** The connection carrying it, once dispatched. */
  conn: UpstreamConnection | undefined;
  isFinished = false;
  /** Whether it was already re-sent after a stale keep-alive connection. */
  hasResent = false;
  /** performance.now() when it started waiting for a connection; 0 once on a connected socket. */
  waitingSince = 0;

  constructor(
    readonly pool: UpstreamPool,
    readonly head: string,
    readonly body: RequestBody | undefined,
    /** `body`'s size in bytes (0 without a body). */
    readonly bodyLength: number,
    readonly handler: ExchangeHandler,
  ) {}

  /** Stops it without telling the handler; the connection is closed, so the worker sees the disconnect. */
  abort(): void {
    if (this.isFinished) return;
    this.isFinished = true;
    const conn = this.conn;
    if (conn) conn.drop(this);
    else this.pool.unqueue(this);
  }

  /** Backpressure: stop reading the worker's answer (the worker's writes block once buffers fill). */
  pause(): void {
    this.conn?.socket.pause();
  }

  resume(): void {
    this.conn?.socket.resume();
  }
}

class UpstreamConnection implements ResponseSink {
  readonly socket: net.Socket;
  private readonly parser = new Http1ResponseParser(this);
  private exchange: UpstreamExchange | undefined;
  /** Requests completed on this connection; a failure after one or more may be a stale keep-alive. */
  private served = 0;
  private isReusable = false;
  idleSince = 0;

  constructor(private readonly pool: UpstreamPool) {
    const socket = net.connect({
      host: pool.host,
      port: pool.port,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number): boolean => {
          this.onRead(READ_BUFFER.subarray(0, n));
          return true; // not false: false would pause the socket; backpressure pauses it explicitly
        },
      },
    });
    socket.setNoDelay(true);
    socket.once('connect', () => this.onConnect());
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
    socket.on('close', () => this.onSocketClose());
    this.socket = socket;
  }

  start(ex: UpstreamExchange): void {
    this.parser.reset();
    this.exchange = ex;
    ex.conn = this;
    const s = this.socket;
    if (ex.waitingSince > 0 && !s.connecting) this.pool.endWait(ex);
    const body = ex.body;
    if (body === undefined) s.write(ex.head);
    else if (typeof body === 'string' && ex.bodyLength < JOINED_WRITE_MAX) s.write(ex.head + body);
    else if (typeof body !== 'string' && ex.bodyLength < JOINED_WRITE_MAX) {
      s.write(joined(ex.head, body, ex.bodyLength));
    } else {
      s.cork();
      s.write(ex.head);
      if (typeof body === 'string') s.write(body);
      else for (const c of body) s.write(c);
      s.uncork();
    }
  }

  /** A new connection is up: the request written onto it while connecting stops waiting. */
  private onConnect(): void {
    const ex = this.exchange;
    if (ex !== undefined && ex.waitingSince > 0) this.pool.endWait(ex);
  }

  /** The owner aborted `ex`: close the connection (never reuse one with an unread answer). */
  drop(ex: UpstreamExchange): void {
    if (this.exchange !== ex) return;
    this.exchange = undefined;
    ex.conn = undefined;
    this.socket.destroy();
  }

  // ResponseSink: called from parser.push, only for the current exchange.
  onHead(
    status: number,
    contentType: string | undefined,
    metricsHeaders?: Record<string, string>,
    bodyLength?: number,
  ): void {
    const ex = this.exchange;
    if (ex !== undefined && !ex.isFinished) {
      ex.handler.onHead(status, contentType, metricsHeaders, bodyLength);
    }
  }

  onBody(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex !== undefined && !ex.isFinished) ex.handler.onData(chunk);
  }

  onComplete(canReuse: boolean): void {
    this.isReusable = canReuse;
  }

  /** One read from the socket; `b` is valid only during this call. */
  private onRead(b: Buffer): void {
    const ex = this.exchange;
    if (ex === undefined) {
      // Bytes while idle: the worker is not answering what we asked; this connection cannot be trusted.
      this.socket.destroy();
      return;
    }
    let leftover: number;
    try {
      leftover = this.parser.push(b);
    } catch (err) {
      // Closes the connection (fail destroys the socket): after a framing error, where the next answer
      // would start on this connection is unknown.
      this.fail('protocol', `invalid HTTP response: ${(err as Error).message}`);
      return;
    }
    if (this.exchange === ex && !ex.isFinished) ex.handler.onReadEnd?.();
    if (this.parser.isDone && this.exchange === ex) {
      this.complete(ex, this.isReusable && leftover === 0);
    }
  }

  private complete(ex: UpstreamExchange, canReuse: boolean): void {
    this.exchange = undefined;
    ex.conn = undefined;
    this.served++;
    const keepAliveS = this.parser.workerKeepAliveS;
    if (keepAliveS >= 0) this.pool.followWorkerKeepAlive(keepAliveS);
    const wasAborted = ex.isFinished;
    ex.isFinished = true;
    // The owner may have paused (backpressure) in the read that ended its answer; a connection left
    // paused would never read the next exchange's answer, nor the worker closing it while idle.
    if (this.socket.isPaused()) this.socket.resume();
    this.pool.release(this, canReuse);
    if (!wasAborted) ex.handler.onEnd();
  }

  private onSocketEnd(): void {
    const ex = this.exchange;
    if (ex === undefined) return;
    if (this.parser.endOfInput()) this.complete(ex, false);
    else this.fail(this.parser.hasStarted ? 'truncated' : 'reset', 'worker closed the connection');
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    if (this.exchange === undefined) return;
    const code = err.code ?? err.message;
    if (err.code !== undefined && CONNECT_CODES.has(err.code)) this.fail('connect', code);
    else this.fail(this.parser.hasStarted ? 'truncated' : 'reset', code);
  }

  private onSocketClose(): void {
    if (this.exchange !== undefined) {
      this.fail(this.parser.hasStarted ? 'truncated' : 'reset', 'connection closed');
    }
    this.pool.onClosed(this);
  }

  /** Ends the current exchange with a failure and closes the connection; a stale reuse is re-sent once. */
  private fail(kind: UpstreamFailureKind, message: string): void {
    const ex = this.exchange;
    if (ex === undefined) return;
    this.exchange = undefined;
    ex.conn = undefined;
    this.socket.destroy();
    if (ex.isFinished) return;
    if (kind === 'reset' && this.served > 0 && !this.parser.hasStarted && !ex.hasResent) {
      ex.hasResent = true;
      this.pool.resend(ex);
      return;
    }
    ex.isFinished = true;
    ex.handler.onFail(kind, message);
  }
}

export class UpstreamPool {
  /** `HTTP/1.1` and the Host header, written after each request's path. */
  private readonly headSuffix: string;
  private readonly free: UpstreamConnection[] = [];
  private readonly waiting: UpstreamExchange[] = [];
  private readonly conns = new Set<UpstreamConnection>();
  private isDestroyed = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly maxSockets: number,
    private idleTimeoutMs = 3_000,
    private readonly waits: PoolWaitSink = poolWaitStats,
  ) {
    const hostHeader = port === 80 ? host : `${host}:${port}`;
    this.headSuffix = ` HTTP/1.1\r\nhost: ${hostHeader}\r\n`;
  }

  /**
   * Sends a request; a JSON body when `body` is given. The handler hears the answer. `extraHeaders` are
   * complete `name: value\r\n` lines (internal-auth signature, metrics opt-in), empty on the usual path.
   */
  request(
    method: 'GET' | 'POST',
    path: string,
    body: RequestBody | undefined,
    handler: ExchangeHandler,
    extraHeaders = '',
  ): UpstreamExchange {
    const bodyLength = body === undefined ? 0 : byteLengthOf(body);
    const head =
      body === undefined
        ? `${method} ${path}${this.headSuffix}${extraHeaders}\r\n`
        : `${method} ${path}${this.headSuffix}${extraHeaders}content-type: application/json\r\ncontent-length: ${bodyLength}\r\n\r\n`;
    const ex = new UpstreamExchange(this, head, body, bodyLength, handler);
    if (this.isDestroyed) {
      // Asynchronously, like any other failure: the caller has not kept `ex` yet.
      queueMicrotask(() => {
        if (ex.isFinished) return;
        ex.isFinished = true;
        handler.onFail('reset', 'worker connections were closed');
      });
      return ex;
    }
    const conn = this.popUsable();
    if (conn !== undefined) {
      this.waits.observeWait(0);
      conn.start(ex);
      return ex;
    }
    ex.waitingSince = performance.now();
    if (this.conns.size < this.maxSockets) this.open().start(ex);
    else this.waiting.push(ex);
    return ex;
  }

  /**
   * The worker named its own idle timeout (`Keep-Alive: timeout=N`): idle connections are kept until a
   * second before it (at least 0.5 s, at most 60 s) instead of the default. A burst after a quiet spell
   * then finds warm connections instead of opening hundreds at once (issue #16: connection bursts in
   * the TTFT tail); a worker that names nothing (uvicorn) keeps the safe default.
   */
  followWorkerKeepAlive(seconds: number): void {
    const ms = Math.min(60_000, Math.max(500, seconds * 1000 - 1000));
    if (ms === this.idleTimeoutMs) return;
    this.idleTimeoutMs = ms;
    // The sweep's period follows the timeout.
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.free.length > 0) this.armSweep();
  }

  /** `ex` is on a connected socket: its wait for a connection ends. */
  endWait(ex: UpstreamExchange): void {
    this.waits.observeWait((performance.now() - ex.waitingSince) / 1000);
    ex.waitingSince = 0;
  }

  /** Connections open to the worker, busy and idle. */
  openSockets(): number {
    return this.conns.size;
  }

  /** Closes every connection; queued requests fail as resets (the worker was removed). */
  destroy(): void {
    this.isDestroyed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const c of [...this.conns]) c.socket.destroy();
    this.free.length = 0;
    for (const ex of this.waiting.splice(0)) {
      if (ex.isFinished) continue;
      ex.isFinished = true;
      ex.handler.onFail('reset', 'worker connections were closed');
    }
  }

  /** A connection finished its exchange: hand it to the next waiting request, keep it idle, or close it. */
  release(conn: UpstreamConnection, canReuse: boolean): void {
    if (!canReuse || this.isDestroyed) {
      conn.socket.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) {
      conn.start(next);
      return;
    }
    conn.idleSince = performance.now();
    this.free.push(conn);
    this.armSweep();
  }

  private armSweep(): void {
    this.sweepTimer ??= setInterval(
      () => this.closeIdle(),
      Math.max(100, this.idleTimeoutMs / 3),
    ).unref();
  }

  /** Re-sends a request whose reused connection turned out closed, on a new connection. */
  resend(ex: UpstreamExchange): void {
    if (this.isDestroyed) {
      ex.isFinished = true;
      ex.handler.onFail('reset', 'worker connections were closed');
    } else if (this.conns.size < this.maxSockets) {
      this.open().start(ex);
    } else {
      // The failed connection still counts until its close event, which dispatches this one.
      this.waiting.unshift(ex);
    }
  }

  unqueue(ex: UpstreamExchange): void {
    const i = this.waiting.indexOf(ex);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  onClosed(conn: UpstreamConnection): void {
    this.conns.delete(conn);
    const i = this.free.indexOf(conn);
    if (i >= 0) this.free.splice(i, 1);
    if (this.isDestroyed) return;
    const next = this.waiting.shift();
    if (next !== undefined) this.open().start(next);
  }

  /**
   * The most recently used idle connection the worker has not closed: one whose FIN already arrived
   * (ended, its close event still to come) is dropped rather than handed a request that would fail.
   */
  private popUsable(): UpstreamConnection | undefined {
    for (let conn = this.free.pop(); conn !== undefined; conn = this.free.pop()) {
      if (!conn.socket.readableEnded && !conn.socket.destroyed) return conn;
      conn.socket.destroy();
    }
    return undefined;
  }

  private open(): UpstreamConnection {
    const conn = new UpstreamConnection(this);
    this.conns.add(conn);
    this.waits.countOpened();
    return conn;
  }

  private closeIdle(): void {
    const cutoff = performance.now() - this.idleTimeoutMs;
    // `free` is oldest-first (used from the end), so the idle ones are at the front.
    let n = 0;
    while (n < this.free.length && (this.free[n] as UpstreamConnection).idleSince <= cutoff) n++;
    for (const c of this.free.splice(0, n)) c.socket.destroy();
    if (this.free.length === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}
