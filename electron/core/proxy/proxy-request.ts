// One inference request's state while the lifecycle (request-lifecycle.ts) runs it, and how a request
// ends. Every step returns a value or an `Ending`; the lifecycle turns the one Ending it gets into the
// answer, the slot release and the record, in one place. Cancellation (client gone, total timeout,
// shutdown) is a reason set once plus an abort of whatever the request is waiting on. Layer: core.
import type http from 'node:http';

import type { Deadlined } from './deadline-sweep';
import type { Endpoint } from './request-flow';
import type { MetricsHeaders } from './request-metrics';
import type { Slotted } from './slot-set';
import type { ProxyRequestRecord, RecordOutcome } from './types';

/** What the client is sent when the request ends. */
export type Reply =
  /** An OpenAI-shaped error: a JSON answer, or an SSE error event and [DONE] once a stream began. */
  | { kind: 'error'; status: number; message: string; headers?: Record<string, string> }
  /** A whole answer relayed as bytes (a worker's answer, or the context-only result). */
  | {
      kind: 'body';
      status: number;
      contentType: string | undefined;
      body: Buffer | string;
      headers?: Record<string, string>;
    }
  /** Already written (a finished stream), or nobody to write to (the client left). */
  | { kind: 'written' };

const WRITTEN: Reply = { kind: 'written' };

/** How a request ended: its record's outcome and status, what the client gets, and a note for the record. */
export class Ending {
  constructor(
    readonly outcome: RecordOutcome,
    readonly status: number,
    readonly reply: Reply,
    readonly note?: string,
  ) {}

  /** An error answered with `status` (and recorded with it), e.g. 503 "No context server is available". */
  static error(
    outcome: RecordOutcome,
    status: number,
    message: string,
    note?: string,
    headers?: Record<string, string>,
  ): Ending {
    return new Ending(
      outcome,
      status,
      { kind: 'error', status, message, headers },
      note ?? message,
    );
  }

  /** The answer is on the wire already (or the client is gone). */
  static written(outcome: RecordOutcome, status: number, note?: string): Ending {
    return new Ending(outcome, status, WRITTEN, note);
  }
}

export type CancelReason = 'client_gone' | 'timeout' | 'shutdown';

/** How a request cancelled by the proxy itself is answered and recorded (a client that left gets nothing). */
const CANCEL_ERRORS = {
  timeout: { outcome: 'timeout', status: 504, message: 'Request timed out', note: 'total timeout' },
  shutdown: {
    outcome: 'not_ready',
    status: 503,
    message: 'The proxy is shutting down',
    note: 'shutdown',
  },
} as const satisfies Record<
  'timeout' | 'shutdown',
  { outcome: RecordOutcome; status: number; message: string; note: string }
>;

export interface Abortable {
  abort(): void;
}

/** The per-request total deadline, on the shared sweep (a request is in the in-flight set by its own slot). */
export class TotalDeadline implements Deadlined {
  slot = -1;
  constructor(
    public deadline: number,
    private readonly request: ProxyRequest,
  ) {}

  /** Fires once: the request's finish takes it off the sweep. */
  onDeadline(): void {
    this.deadline = Number.POSITIVE_INFINITY;
    this.request.cancel('timeout');
  }
}

export class ProxyRequest implements Slotted {
  /** Position in the server's in-flight set. */
  slot = -1;
  isStream = false;
  /** Holds an admission slot (released once, by the lifecycle's finish). */
  hasSlot = false;
  cancelReason: CancelReason | undefined;
  /** The upstream call to abort on cancel. */
  current: Abortable | undefined;
  /** What the step now running does on cancel besides the abort (leave the queue, end the stream). */
  onCancel: (() => void) | undefined;
  totalDeadline: TotalDeadline | undefined;
  /** While the body is read, a cancel closes the connection: nothing else would end the read. */
  isReadingBody = false;
  /** The lifecycle's run, settled once the request answered, released its slot and recorded. */
  finished: Promise<void> | undefined;
  /** The client sent `X-TRTLLM-return-metrics: 1` and the proxy returns per-request metrics (request-metrics.ts). */
  wantsMetrics = false;
  /** For such a stream: the SSE event to write after [DONE], from the generation worker's own metrics. */
  streamMetricsTail: ((worker: MetricsHeaders | undefined) => string) | undefined;

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    readonly endpoint: Endpoint,
    readonly rec: ProxyRequestRecord,
    /** Steady-clock arrival (perf metrics). */
    readonly arrivalS: number,
  ) {}

  /** Sets the reason once and stops what the request waits on; the step in progress then returns cancelEnding(). */
  cancel(reason: CancelReason): void {
    if (this.cancelReason !== undefined || this.rec.doneAt !== 0) return;
    this.cancelReason = reason;
    this.current?.abort();
    this.onCancel?.();
    if (this.isReadingBody) this.req.destroy();
  }

  get isCancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  /** The ending a cancelled request gets; before any byte went out the error is a JSON answer, after it an SSE error. */
  cancelEnding(): Ending {
    const reason = this.cancelReason;
    if (reason !== 'timeout' && reason !== 'shutdown') {
      return Ending.written('client_disconnected', 499);
    }
    const e = CANCEL_ERRORS[reason];
    // Once a stream began, its status is what the client got: recorded as such.
    const recorded = this.res.headersSent ? this.res.statusCode : e.status;
    return new Ending(
      e.outcome,
      recorded,
      { kind: 'error', status: e.status, message: e.message },
      e.note,
    );
  }
}
