// Calls to workers over pooled keep-alive connections (one bounded UpstreamPool per worker), with a
// deadline per phase and abort on client disconnect. Upstream (Oct 2025) opened a fresh TCP connection
// per call (force_close, trtllm-protocol.md 5.6), which exhausts ephemeral ports under load.
// Layer: core.
import { performance } from 'node:perf_hooks';

import { type Deadlined, sharedDeadlines } from './deadline-sweep';
import { UpstreamError, type UpstreamFailureKind } from './upstream-error';
import {
  type ExchangeHandler,
  type RequestBody,
  type UpstreamExchange,
  UpstreamPool,
} from './upstream-pool';

export { UpstreamError, type UpstreamFailureKind } from './upstream-error';
export { type RequestBody, UpstreamPool } from './upstream-pool';

export interface UpstreamTarget {
  readonly pool: UpstreamPool;
}

/** The pool of keep-alive connections to one worker at `host:port`. */
export function createUpstreamPool(host: string, port: number, maxSockets: number): UpstreamPool {
  return new UpstreamPool(host, port, maxSockets);
}

export interface WholeResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /** Server-Timing / X-TRTLLM-* headers by lower-case name (TensorRT-LLM 1.3 per-request metrics). */
  metricsHeaders?: Record<string, string>;
}

export interface WholeCall {
  result: Promise<WholeResponse>;
  abort(): void;
}

const deadlines = sharedDeadlines;

/** A whole answer's buffer is allocated from its Content-Length up to this size; above, it grows by reads. */
const PREALLOCATE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A POST on a worker's pool under a deadline on the shared sweep: what both call kinds share. The
 * exchange is sent from here; its handler callbacks come from socket reads, after the subclass is built.
 */
abstract class DeadlinedPost implements ExchangeHandler, Deadlined {
  slot = -1;
  readonly deadline: number;
  protected readonly exchange: UpstreamExchange;

  constructor(
    target: UpstreamTarget,
    path: string,
    body: RequestBody,
    timeoutMs: number,
    extraHeaders: string,
  ) {
    this.deadline = performance.now() + timeoutMs;
    deadlines.add(this);
    this.exchange = target.pool.request('POST', path, body, this, extraHeaders);
  }

  abstract onDeadline(now: number): void;
  abstract onHead(
    status: number,
    contentType: string | undefined,
    metricsHeaders?: Record<string, string>,
    bodyLength?: number,
  ): void;
  abstract onData(chunk: Buffer): void;
  abstract onEnd(): void;
  abstract onFail(kind: UpstreamFailureKind, message: string): void;
}

/** One whole-answer call (context phase, non-streamed generation): body collected, one promise. */
class WholeRequest extends DeadlinedPost implements WholeCall {
  // The resolvers are declared before the promise that sets them (fields are defined in order).
  private resolveResult!: (v: WholeResponse) => void;
  private rejectResult!: (e: UpstreamError) => void;
  readonly result = new Promise<WholeResponse>((resolve, reject) => {
    this.resolveResult = resolve;
    this.rejectResult = reject;
  });
  private isDone = false;
  private status = 0;
  private contentType: string | undefined;
  private metricsHeaders: Record<string, string> | undefined;
  private first: Buffer | undefined;
  private rest: Buffer[] | undefined;
  /** With a Content-Length: the body's one buffer, filled as bytes arrive (no per-read copy, no concat). */
  private whole: Buffer | undefined;
  private filled = 0;

  abort(): void {
    this.fail('aborted', 'aborted');
  }

  onDeadline(): void {
    this.fail('timeout', 'upstream did not answer in time');
  }

  onHead(
    status: number,
    contentType: string | undefined,
    metricsHeaders?: Record<string, string>,
    bodyLength?: number,
  ): void {
    this.status = status;
    this.contentType = contentType;
    this.metricsHeaders = metricsHeaders;
    // A large answer (a context answer with 256k token ids) would otherwise be copied twice, and on a
    // busy machine each fresh large buffer costs its page faults. The parser holds the worker to it.
    if (bodyLength !== undefined && bodyLength > 0 && bodyLength <= PREALLOCATE_MAX_BYTES) {
      this.whole = Buffer.allocUnsafe(bodyLength);
    }
  }

  onData(chunk: Buffer): void {
    // The pool's view is valid only during this call: copied.
    if (this.whole !== undefined) {
      this.filled += chunk.copy(this.whole, this.filled);
      return;
    }
    const copy = Buffer.from(chunk);
    if (this.first === undefined) this.first = copy;
    else (this.rest ??= [this.first]).push(copy);
  }

  onEnd(): void {
    if (this.isDone) return;
    this.isDone = true;
    deadlines.delete(this);
    const body =
      this.whole?.subarray(0, this.filled) ??
      (this.rest ? Buffer.concat(this.rest) : (this.first ?? Buffer.alloc(0)));
    this.resolveResult({
      status: this.status,
      contentType: this.contentType,
      body,
      ...(this.metricsHeaders ? { metricsHeaders: this.metricsHeaders } : {}),
    });
  }

  onFail(kind: UpstreamFailureKind, message: string): void {
    this.fail(kind, message);
  }

  private fail(kind: UpstreamFailureKind, message: string): void {
    if (this.isDone) return;
    this.isDone = true;
    deadlines.delete(this);
    this.exchange.abort();
    this.rejectResult(new UpstreamError(kind, message));
  }
}

/** POSTs a JSON body and reads the whole answer, bounded by `timeoutMs` for the whole call. */
export function postWhole(
  target: UpstreamTarget,
  path: string,
  body: RequestBody,
  timeoutMs: number,
  headers?: Readonly<Record<string, string>>,
): WholeCall {
  return new WholeRequest(target, path, body, timeoutMs, headerLines(headers));
}

/** Extra request headers as HTTP/1.1 lines; names and values are ours (ASCII, no line breaks). */
export function headerLines(headers: Readonly<Record<string, string>> | undefined): string {
  if (!headers) return '';
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name + value)) throw new Error(`header ${name} holds a line break`);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

/** Status and content type of a streamed answer. */
export interface StreamHead {
  status: number;
  contentType: string | undefined;
}

/** Where a streamed answer's body goes once its head was seen. */
export interface StreamBodyHandler {
  /** Body bytes; a view valid until the read that carried them ends (copy what you keep longer). */
  onData(chunk: Buffer): void;
  /** That read ended: views handed over during it go stale now (one call after its onData calls). */
  onReadEnd?(): void;
  onEnd(): void;
  /** The connection broke or the answer was not valid HTTP, after the head. */
  onFail(kind: UpstreamFailureKind, message: string): void;
}

/**
 * A streamed POST (the generation phase with `stream: true`). `head` resolves when the status line
 * and headers arrive, or rejects with UpstreamError (connect, reset, the first-byte deadline, abort).
 * The caller then attaches a body handler; body bytes that came in the same read as the head are
 * held until then.
 */
export class StreamCall extends DeadlinedPost {
  private resolveHead!: (h: StreamHead) => void;
  private rejectHead!: (e: UpstreamError) => void;
  readonly head = new Promise<StreamHead>((resolve, reject) => {
    this.resolveHead = resolve;
    this.rejectHead = reject;
  });
  private hasHead = false;
  private isDone = false;
  private body: StreamBodyHandler | undefined;
  /** Body events that arrived before a handler was attached, replayed on attach. */
  private held: Buffer[] = [];
  private heldEnd: { kind?: UpstreamFailureKind; message?: string } | undefined;

  /** Attaches the body handler and replays what arrived with the head. */
  attach(handler: StreamBodyHandler): void {
    this.body = handler;
    const held = this.held;
    this.held = [];
    for (const c of held) handler.onData(c);
    if (held.length > 0) handler.onReadEnd?.();
    const end = this.heldEnd;
    if (end === undefined) return;
    this.heldEnd = undefined;
    if (end.kind === undefined) handler.onEnd();
    else handler.onFail(end.kind, end.message ?? '');
  }

  /** Reads the rest of the answer as one buffer (an error body), bounded by `timeoutMs`. */
  readRest(timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        this.abort();
        reject(new UpstreamError('timeout', 'upstream body timed out'));
      }, timeoutMs);
      this.attach({
        onData: (c) => chunks.push(Buffer.from(c)),
        onEnd: () => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks));
        },
        onFail: (kind, message) => {
          clearTimeout(timer);
          reject(new UpstreamError(kind, message));
        },
      });
    });
  }

  pause(): void {
    this.exchange.pause();
  }

  resume(): void {
    this.exchange.resume();
  }

  /** Closes the call (the worker sees the disconnect and frees its KV); a pending head rejects with `kind`. */
  abort(kind: UpstreamFailureKind = 'aborted', message = 'aborted'): void {
    if (this.isDone) return;
    this.isDone = true;
    deadlines.delete(this);
    this.exchange.abort();
    if (!this.hasHead) this.rejectHead(new UpstreamError(kind, message));
  }

  onDeadline(): void {
    this.abort('timeout', 'upstream did not answer in time');
  }

  onHead(status: number, contentType: string | undefined): void {
    this.hasHead = true;
    deadlines.delete(this);
    this.resolveHead({ status, contentType });
  }

  onData(chunk: Buffer): void {
    if (this.body !== undefined) this.body.onData(chunk);
    else this.held.push(Buffer.from(chunk)); // kept past this read: copied out of the shared buffer
  }

  onReadEnd(): void {
    this.body?.onReadEnd?.();
  }

  onEnd(): void {
    this.isDone = true;
    if (this.body !== undefined) this.body.onEnd();
    else this.heldEnd = {};
  }

  onFail(kind: UpstreamFailureKind, message: string): void {
    this.isDone = true;
    deadlines.delete(this);
    if (!this.hasHead) this.rejectHead(new UpstreamError(kind, message));
    else if (this.body !== undefined) this.body.onFail(kind, message);
    else this.heldEnd = { kind, message };
  }
}

/** Starts a streamed POST; see StreamCall. */
export function postStream(
  target: UpstreamTarget,
  path: string,
  payload: RequestBody,
  firstByteTimeoutMs: number,
  headers?: Readonly<Record<string, string>>,
): StreamCall {
  return new StreamCall(target, path, payload, firstByteTimeoutMs, headerLines(headers));
}

/** A small call's answer, or why there was none (connect, reset, timeout...). */
export type SmallAnswer = { status: number; body: Buffer } | { error: string };

/**
 * One small call with a timeout (probes, /v1/models, clock sync): a GET, or a POST with a JSON body
 * (an empty one when `body` is omitted). Never rejects.
 */
export function requestUpstream(
  target: UpstreamTarget,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs: number,
  body?: string,
): Promise<SmallAnswer> {
  return new Promise((resolve) => {
    let status = 0;
    const chunks: Buffer[] = [];
    let isDone = false;
    const finish = (v: SmallAnswer): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      resolve(v);
    };
    const exchange = target.pool.request(
      method,
      path,
      method === 'POST' ? (body ?? '') : undefined,
      {
        onHead: (s) => (status = s),
        onData: (c) => chunks.push(Buffer.from(c)),
        onEnd: () => finish({ status, body: Buffer.concat(chunks) }),
        onFail: (kind, message) => finish({ error: `${kind}: ${message}` }),
      },
    );
    const timer = setTimeout(() => {
      exchange.abort();
      finish({ error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
  });
}

/** GET (or an empty POST) with a timeout; resolves with status and body, or undefined on any failure. */
export async function getUpstream(
  target: UpstreamTarget,
  path: string,
  timeoutMs: number,
  method: 'GET' | 'POST' = 'GET',
): Promise<{ status: number; body: Buffer } | undefined> {
  const answer = await requestUpstream(target, method, path, timeoutMs);
  return 'error' in answer ? undefined : answer;
}

/** Splits `host:port` (upstream's url form, optionally with an http:// prefix). */
export function parseHostPort(url: string): { host: string; port: number } {
  const bare = url.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const i = bare.lastIndexOf(':');
  if (i <= 0) return { host: bare, port: 80 };
  return { host: bare.slice(0, i), port: Number(bare.slice(i + 1)) };
}
