// Calls to workers over pooled keep-alive connections (one bounded http.Agent per worker), with a
// timeout per phase and abort on client disconnect. Upstream (Oct 2025) opened a fresh TCP connection
// per call (force_close, trtllm-protocol.md 5.6), which exhausts ephemeral ports under load.
// Layer: core.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** How an upstream call failed; decides retry and ejection (reliability.md items 1-7). */
export type UpstreamFailureKind =
  /** Connection refused / unreachable: the request never reached the worker. Safe to retry elsewhere. */
  | 'connect'
  /** Socket reset or closed before any response byte. */
  | 'reset'
  /** A phase timeout fired. */
  | 'timeout'
  /** We aborted (client went away or shutdown). */
  | 'aborted'
  /** The response started but the connection broke before its end. */
  | 'truncated';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamTarget {
  host: string;
  port: number;
  agent: http.Agent;
}

/**
 * A keep-alive agent for one worker: bounded sockets, no per-request connection. Every free socket is
 * kept (no close-and-reconnect churn after a burst) and the most recently used is reused first.
 */
export function createWorkerAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

function classify(err: NodeJS.ErrnoException): UpstreamFailureKind {
  if (err.code !== undefined && CONNECT_CODES.has(err.code)) return 'connect';
  return 'reset';
}

export interface UpstreamCall {
  /** Resolves with the response once headers arrived. */
  response: Promise<http.IncomingMessage>;
  /** Destroys the request and its socket (the worker sees the disconnect and frees its KV). */
  abort(kind?: UpstreamFailureKind, message?: string): void;
}

/**
 * POSTs a JSON body and resolves when response headers arrive, or rejects with UpstreamError
 * (`headersTimeoutMs` covers connect + waiting for the first response byte).
 */
export function postUpstream(
  target: UpstreamTarget,
  path: string,
  body: string,
  headersTimeoutMs: number,
): UpstreamCall {
  let settled = false;
  let req: http.ClientRequest | undefined;
  let reject: ((e: Error) => void) | undefined;
  const response = new Promise<http.IncomingMessage>((resolve, rej) => {
    reject = rej;
    req = http.request({
      host: target.host,
      port: target.port,
      path,
      method: 'POST',
      agent: target.agent,
      headers: jsonPostHeaders(target, body),
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req?.destroy();
      rej(new UpstreamError('timeout', 'upstream did not answer in time'));
    }, headersTimeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      resolve(res);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      rej(new UpstreamError(classify(err), err.code ?? err.message));
    });
    req.end(body);
  });
  return {
    response,
    abort(kind: UpstreamFailureKind = 'aborted', message = 'aborted') {
      if (!settled) {
        settled = true;
        reject?.(new UpstreamError(kind, message));
      }
      req?.destroy();
    },
  };
}

export interface WholeResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export interface WholeCall {
  result: Promise<WholeResponse>;
  abort(): void;
}

/**
 * One whole-answer call. A class rather than closures: this runs twice per request, and every named
 * closure costs a property definition under tsx (esbuild keepNames) besides its allocation.
 */
class WholeRequest implements WholeCall {
  readonly result: Promise<WholeResponse>;
  private resolveResult!: (v: WholeResponse) => void;
  private rejectResult!: (e: UpstreamError) => void;
  private isDone = false;
  private hasResponse = false;
  private chunks: Buffer[] = [];
  private readonly req: http.ClientRequest;
  /** performance.now() after which the deadline sweep times the call out. */
  readonly deadline: number;

  constructor(target: UpstreamTarget, path: string, body: string, timeoutMs: number) {
    this.result = new Promise<WholeResponse>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    this.deadline = performance.now() + timeoutMs;
    deadlines.add(this);
    const req = http.request({
      host: target.host,
      port: target.port,
      path,
      method: 'POST',
      agent: target.agent,
      headers: jsonPostHeaders(target, body),
    });
    this.req = req;
    req.on('response', (res: http.IncomingMessage) => this.onResponse(res));
    req.on('error', (err: NodeJS.ErrnoException) => {
      this.finish(new UpstreamError(this.hasResponse ? 'truncated' : classify(err), err.code ?? err.message));
    });
    req.end(body);
  }

  abort(): void {
    this.finish(new UpstreamError('aborted', 'aborted'));
  }

  timeout(): void {
    this.finish(new UpstreamError('timeout', 'upstream did not answer in time'));
  }

  private onResponse(res: http.IncomingMessage): void {
    this.hasResponse = true;
    res.on('data', (c: Buffer) => this.chunks.push(c));
    res.on('end', () => {
      const chunks = this.chunks;
      this.finish(undefined, {
        status: res.statusCode ?? 0,
        contentType: res.headers['content-type'],
        body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
      });
    });
    res.on('close', () => {
      if (!res.complete) this.finish(new UpstreamError('truncated', 'upstream closed the response early'));
    });
  }

  private finish(err: UpstreamError | undefined, value?: WholeResponse): void {
    if (this.isDone) return;
    this.isDone = true;
    deadlines.delete(this);
    if (err) {
      this.req.destroy();
      this.rejectResult(err);
    } else this.resolveResult(value as WholeResponse);
  }
}

function hostHeader(target: UpstreamTarget): string {
  return target.port === 80 ? target.host : `${target.host}:${target.port}`;
}

/**
 * Headers of a JSON POST as a raw list: Node writes it as is instead of filling and re-reading a header
 * map per call. Host must then be given explicitly (HTTP/1.1 servers such as uvicorn require it).
 */
function jsonPostHeaders(target: UpstreamTarget, body: string): string[] {
  return ['host', hostHeader(target), 'content-type', 'application/json', 'content-length', String(Buffer.byteLength(body))];
}

/** How often in-flight whole-answer calls are checked against their deadlines. */
const SWEEP_MS = 20;

/**
 * One periodic sweep for every whole-answer call's deadline instead of a timer per call (two per
 * request): a phase timeout fires within SWEEP_MS after its deadline, and the sweep runs only while
 * calls are in flight.
 */
class DeadlineSweep {
  private readonly calls = new Set<WholeRequest>();
  private timer: NodeJS.Timeout | undefined;

  add(call: WholeRequest): void {
    this.calls.add(call);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
  }

  delete(call: WholeRequest): void {
    this.calls.delete(call);
  }

  private sweep(): void {
    const t = performance.now();
    for (const c of this.calls) if (t >= c.deadline) c.timeout();
    if (this.calls.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const deadlines = new DeadlineSweep();

/**
 * POSTs and reads the whole answer with one timer for the whole call (context phase, non-streamed
 * generation): the cheap path, one promise and a handful of listeners per call.
 */
export function postWhole(target: UpstreamTarget, path: string, body: string, timeoutMs: number): WholeCall {
  return new WholeRequest(target, path, body, timeoutMs);
}

/** Reads a whole response body, bounded by `timeoutMs`; rejects with UpstreamError on reset or timeout. */
export function readBody(res: http.IncomingMessage, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      res.destroy();
      reject(new UpstreamError('timeout', 'upstream body timed out'));
    }, timeoutMs);
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    const fail = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new UpstreamError('reset', 'upstream closed the response early'));
    };
    res.on('error', fail);
    res.on('aborted', fail);
    res.on('close', () => {
      if (!res.complete) fail();
    });
  });
}

/** GET with a timeout; resolves with status and body, or undefined on any failure (probes, /v1/models). */
export function getUpstream(
  target: UpstreamTarget,
  path: string,
  timeoutMs: number,
  method: 'GET' | 'POST' = 'GET',
): Promise<{ status: number; body: Buffer } | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: { status: number; body: Buffer } | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    const req = http.request({ host: target.host, port: target.port, path, method, agent: target.agent });
    const timer = setTimeout(() => {
      req.destroy();
      finish(undefined);
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', () => finish(undefined));
      res.on('close', () => {
        if (!res.complete) finish(undefined);
      });
    });
    req.on('error', () => finish(undefined));
    req.end();
  });
}

/** Splits `host:port` (upstream's url form, optionally with an http:// prefix). */
export function parseHostPort(url: string): { host: string; port: number } {
  const bare = url.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const i = bare.lastIndexOf(':');
  if (i <= 0) return { host: bare, port: 80 };
  return { host: bare.slice(0, i), port: Number(bare.slice(i + 1)) };
}
