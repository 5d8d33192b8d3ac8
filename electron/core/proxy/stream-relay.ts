// Relays a generation worker's SSE stream to the client as the bytes arrive (reliability.md items 1, 5,
// 8, 15, 17). Parses framing only to timestamp token events and to see `[DONE]`; a stream that ends
// without it, stalls or resets is closed with an SSE error event and `[DONE]`, never silently cut.
// Backpressure from a slow client pauses the upstream read. Resolves with how the request ended; the
// lifecycle answers nothing more once the stream began except, for a cancel, the SSE error. Layer: core.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import { formatSseError, isDoneEvent, isErrorEvent, SseParser } from '../../../shared/logic/sse';
import { frameChunks, setRouteHeaders } from './client-reply';
import type { ProxyMetrics } from './metrics';
import type { ProxyRequest } from './proxy-request';
import { Ending } from './proxy-request';
import { metricsFromSseEvent, type MetricsHeaders } from './request-metrics';
import { epochNow } from './request-records';
import { isNonTokenData, scanPlainSseChunk, SseChunkScan } from './sse-byte-scan';
import type { RecordOutcome } from './types';
import type { StreamCall, StreamHead } from './upstream-client';
import type { WorkerEndpoint, WorkerPool } from './worker-pool';

export interface RelayTimeouts {
  /** Longest silence between upstream chunks. */
  idleTimeoutMs: number;
  /** Bound of the whole upstream call (`-r`). */
  requestTimeoutMs: number;
}

export interface RelayDeps {
  pool: WorkerPool;
  metrics: ProxyMetrics;
  timeouts: RelayTimeouts;
}

const COMPLETION_TOKENS = /"completion_tokens"\s*:\s*(\d+)/;

export function relayStream(
  deps: RelayDeps,
  request: ProxyRequest,
  worker: WorkerEndpoint,
  head: StreamHead,
  call: StreamCall,
): Promise<Ending> {
  return new StreamRelay(deps, request, worker, head, call).ended;
}

class StreamRelay {
  readonly ended: Promise<Ending>;
  private resolveEnded!: (e: Ending) => void;
  private readonly out: ServerResponse;
  /** The client's socket when this response may write chunk frames straight onto it (see constructor). */
  private readonly direct: Socket | null;
  private readonly parser = new SseParser();
  private readonly scan = new SseChunkScan();
  private isDone = false;
  private sawError = false;
  private isFinished = false;
  private isPausedForClient = false;
  // The last data event's text, kept as bytes (fast path) or text (full parser), decoded at the end.
  private lastData = '';
  private lastDataChunk: Buffer | undefined;
  /** The fast path saw a data event in this read's views; its bytes settle when they are copied. */
  private isLastDataPending = false;
  private lastDataStart = 0;
  private lastDataEnd = 0;
  private lastActivity = performance.now();
  private readonly startedAt = performance.now();
  private idleTimer: NodeJS.Timeout | undefined;
  /** This upstream read's body bytes so far (views of the pool's read buffer; direct writing only). */
  private readonly views: Buffer[] = [];
  private viewBytes = 0;

  constructor(
    private readonly deps: RelayDeps,
    private readonly request: ProxyRequest,
    private readonly worker: WorkerEndpoint,
    head: StreamHead,
    private readonly call: StreamCall,
  ) {
    this.ended = new Promise((r) => (this.resolveEnded = r));
    const out = request.res;
    this.out = out;
    setRouteHeaders(out, request.rec);
    // An HTTP/1.1 client whose connection this response owns gets the chunked framing written by us,
    // straight onto its socket: one buffer and one write per upstream read, instead of
    // ServerResponse.write's four-part framing with a cork per chunk (bench/README.md). Node still
    // writes the head and the last chunk (out.end), so keep-alive and its bookkeeping stay its own.
    // Anyone else (HTTP/1.0, a pipelined response still queued: no socket yet) goes through out.write.
    this.direct = request.req.httpVersion === '1.1' && out.socket !== null ? out.socket : null;
    out.writeHead(200, {
      'content-type': head.contentType ?? 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...(this.direct ? { 'transfer-encoding': 'chunked' } : {}),
    });
    if (this.direct) out.flushHeaders();
    request.onCancel = () => this.onCancel();
    this.armIdle(deps.timeouts.idleTimeoutMs);
    call.attach({
      onData: (v) => this.onData(v),
      onReadEnd: () => this.onReadEnd(),
      onEnd: () => this.onEnd(),
      onFail: () => this.onBroken(),
    });
  }

  private onData(view: Buffer): void {
    const tp = performance.now();
    this.lastActivity = tp;
    if (this.isDone || view.length === 0) return;
    const t = performance.timeOrigin + tp;
    const direct = this.direct;
    if (direct !== null) {
      // Kept as a view of the pool's read buffer until the read ends (onReadEnd): everything one
      // read carries goes to the client as one chunk frame, in one write.
      this.classify(view, t, this.viewBytes);
      this.views.push(view);
      this.viewBytes += view.length;
      if (this.isDone) this.endDirect();
      return;
    }
    // Written through out.write (HTTP/1.0, a pipelined response still queued): one plain copy.
    const chunk = Buffer.from(view);
    this.classify(chunk, t, 0);
    this.settleLastData(chunk);
    if (this.request.isCancelled) return;
    const tail = this.request.streamMetricsTail;
    // Up to [DONE] only (later chunks are ignored), so the client sees it exactly once.
    if (this.isDone) this.out.end(tail ? withMetricsTail(chunk, tail) : chunk);
    else this.afterWrite(this.out.write(chunk));
  }

  /** Times the chunk's token events and notes [DONE]; `at` is the chunk's offset in this read's views. */
  private classify(chunk: Buffer, t: number, at: number): void {
    if (this.parser.isIdle() && scanPlainSseChunk(chunk, this.scan)) this.takeScanned(t, at);
    // latin1 is a byte-for-byte view: the framing and the patterns we look for are ASCII, and the
    // bytes forwarded are the original chunk, so no UTF-8 decoding is needed on the token path.
    else this.takeEvents(this.parser.push(chunk.toString('latin1')), t);
  }

  /**
   * The upstream read that delivered the last views ended (the pool's buffer is about to be reused):
   * they go out now as one frame. At 256 streams a saturated proxy finds several tokens per read, and
   * one write system call for them all is what makes it catch up (bench/README.md).
   */
  onReadEnd(): void {
    const direct = this.direct;
    if (this.viewBytes === 0 || direct === null) return;
    const { frame } = this.frameViews();
    if (this.request.isCancelled || direct.destroyed) return;
    this.afterWrite(direct.write(frame));
  }

  /** The stream's last bytes: this read's views up to [DONE], with the metrics event if asked for. */
  private endDirect(): void {
    const { body } = this.frameViews();
    if (this.request.isCancelled) return;
    const tail = this.request.streamMetricsTail;
    // Through out.end, which corks the socket: the last chunk and the terminating zero chunk go out in
    // one write. 1.3 per-request metrics: the stream ends with [DONE] and the proxy's merged event,
    // which replaces the generation worker's own event (read from the same chunk, where the worker
    // writes it).
    this.out.end(tail ? withMetricsTail(body, tail) : body);
  }

  /** The one copy out of the pool's read buffer: this read's views into one chunk frame. */
  private frameViews(): { frame: Buffer; body: Buffer } {
    const size = this.viewBytes;
    const frame = frameChunks(this.views, size);
    const body = frame.subarray(frame.length - 2 - size, frame.length - 2);
    this.views.length = 0;
    this.viewBytes = 0;
    this.settleLastData(body);
    return { frame, body };
  }

  private afterWrite(isWritten: boolean): void {
    // Once paused, a chunk already on its way is queued too, but one 'drain' listener is enough.
    if (!isWritten && !this.isPausedForClient) this.pauseForClient();
  }

  /** Fast path: whole single-line data events, classified on the bytes (no decoding, no objects). */
  private takeScanned(t: number, at: number): void {
    const scan = this.scan;
    const times = this.request.rec.tokenTimes;
    for (let i = 0; i < scan.tokens; i++) times.push(t);
    if (scan.lastDataStart >= 0) {
      this.isLastDataPending = true;
      this.lastDataStart = at + scan.lastDataStart;
      this.lastDataEnd = at + scan.lastDataEnd;
    }
    if (scan.isDone) this.isDone = true;
  }

  /** The last data event's offsets point into `bytes` (stable) from now on. */
  private settleLastData(bytes: Buffer): void {
    if (!this.isLastDataPending) return;
    this.isLastDataPending = false;
    this.lastDataChunk = bytes;
  }

  private takeEvents(events: ReturnType<SseParser['push']>, t: number): void {
    for (const ev of events) {
      if (isDoneEvent(ev)) {
        this.isDone = true;
        continue;
      }
      if (isErrorEvent(ev)) {
        this.sawError = true;
        continue;
      }
      this.lastData = ev.data;
      this.lastDataChunk = undefined;
      this.isLastDataPending = false;
      if (!isNonTokenData(ev.data)) this.request.rec.tokenTimes.push(t);
    }
  }

  /** Backpressure: stop reading upstream until the client drains (slow reader, item 15). */
  private pauseForClient(): void {
    this.call.pause();
    this.isPausedForClient = true;
    (this.direct ?? this.out).once('drain', () => {
      this.isPausedForClient = false;
      this.lastActivity = performance.now();
      this.call.resume();
    });
  }

  private onEnd(): void {
    if (this.isFinished) return;
    this.takeEvents(this.parser.end(), epochNow());
    if (!this.isDone) return this.failStream('Generation stream ended before [DONE]', 'truncated');
    this.deps.pool.reportSuccess(this.worker);
    if (!this.out.writableEnded && !this.request.isCancelled) this.out.end();
    this.finish(Ending.written(this.sawError ? 'upstream_error' : 'ok', 200));
  }

  private onBroken(): void {
    if (this.isFinished || this.request.isCancelled) return;
    if (this.isDone) {
      if (!this.out.writableEnded) this.out.end();
      return this.finish(Ending.written('ok', 200));
    }
    this.failStream('Generation server connection lost', 'reset');
  }

  /** The request was cancelled: the client left, the total timeout fired, or the proxy shuts down. */
  private onCancel(): void {
    if (this.isFinished) return;
    this.call.abort();
    this.finish(this.request.cancelEnding());
  }

  /** A worker fault after the head: charged to the worker; the lifecycle writes the SSE error and [DONE]. */
  private failStream(message: string, cls: 'timeout' | 'truncated' | 'reset'): void {
    if (this.isFinished) return;
    this.deps.pool.reportFailure(this.worker, cls === 'timeout' ? 'timeout' : 'reset');
    this.deps.metrics.countUpstreamError(`generation_stream_${cls}`);
    this.call.abort();
    const outcome: RecordOutcome = cls === 'timeout' ? 'timeout' : 'upstream_error';
    this.finish(
      new Ending(
        outcome,
        200,
        { kind: 'error', status: cls === 'timeout' ? 504 : 502, message },
        message,
      ),
    );
  }

  private armIdle(delayMs: number): void {
    this.idleTimer = setTimeout(() => this.onIdleCheck(), delayMs);
  }

  private onIdleCheck(): void {
    const { idleTimeoutMs, requestTimeoutMs } = this.deps.timeouts;
    const now = performance.now();
    const idle = now - this.lastActivity;
    if (this.isPausedForClient && idle >= idleTimeoutMs) return this.dropSlowReader();
    if (idle >= idleTimeoutMs || now - this.startedAt >= requestTimeoutMs) {
      return this.failStream('Generation stream timed out', 'timeout');
    }
    this.armIdle(Math.min(idleTimeoutMs - idle, requestTimeoutMs - (now - this.startedAt)) + 1);
  }

  /**
   * Slow reader (item 15): the client stopped reading for a whole idle period. Its buffer is bounded by
   * backpressure; give up on it without blaming the worker. Reset rather than close: a FIN queues behind
   * the unread bytes, so the client (not reading) would never see it and the kernel would hold the
   * connection's buffers while it probes the zero window.
   */
  private dropSlowReader(): void {
    this.call.abort();
    this.finish(Ending.written('client_disconnected', 499, 'client stopped reading'));
    if (this.out.socket) this.out.socket.resetAndDestroy();
    else this.out.destroy();
  }

  private finish(ending: Ending): void {
    if (this.isFinished) return;
    // A failure inside a read: the tokens it brought before the break reach the client first.
    this.onReadEnd();
    this.isFinished = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.request.onCancel = undefined;
    const rec = this.request.rec;
    if (this.lastDataChunk) {
      this.lastData = this.lastDataChunk.toString('latin1', this.lastDataStart, this.lastDataEnd);
    }
    const m = COMPLETION_TOKENS.exec(this.lastData);
    // Without usage in the stream, count token events (one token each unless stream_interval > 1).
    rec.completionTokens = m ? Number(m[1]) : rec.tokenTimes.length;
    this.resolveEnded(ending);
  }
}

/** Writes the SSE error event and [DONE] that end a stream which failed after its head. */
export function endStreamWithError(request: ProxyRequest, message: string, code: number): void {
  const out = request.res;
  if (out.writableEnded || out.destroyed) return;
  out.end(formatSseError(message, code));
}

const DONE_EVENT = 'data: [DONE]';

/**
 * The chunk that holds [DONE], cut after the [DONE] event, with the event `tail` writes from the worker's
 * metrics (the `trtllm.perf_metrics` event after [DONE] in the same chunk, if any).
 */
function withMetricsTail(
  chunk: Buffer,
  tail: (worker: MetricsHeaders | undefined) => string,
): Buffer {
  const text = chunk.toString('latin1');
  const at = text.lastIndexOf(DONE_EVENT);
  const eventEnd = at < 0 ? -1 : text.indexOf('\n\n', at);
  const cut = eventEnd < 0 ? text.length : eventEnd + 2;
  const worker = metricsFromSseEvent(chunk.subarray(cut).toString('utf8'));
  return Buffer.concat([chunk.subarray(0, cut), Buffer.from(tail(worker), 'utf8')]);
}
