// The recent-requests log (features O4, G2): the last N proxy request records in a ring, looked up by the
// proxy's request id (its `x-disagg-request-id` header), listed newest first with outcome and worker filters,
// and announced in throttled `requests:recorded` batches of summaries. Layer: core (pure code, timers only).

import type { ApiHandlers } from '../../../shared/api/contract';
import { AppError } from '../../../shared/api/envelope';
import {
  REQUEST_TOKEN_TIMES_MAX,
  type RequestDetail,
  type RequestQuery,
  type RequestsRecordedEvent,
  type RequestSummary,
} from '../../../shared/model/requests';
import type { ProxyRequestRecord } from '../proxy/types';

/** Options of RequestLog. */
export interface RequestLogOptions {
  /** Requests kept (default 2000). */
  capacity?: number;
  /** The console's worker id for a proxy worker url, null when unknown (resolved when the record arrives). */
  workerIdOf?: (url: string) => string | null;
  /** Called with each batch of new summaries, at most once per eventIntervalMs. */
  onRecorded?: (event: RequestsRecordedEvent) => void;
  /** Minimum gap between two events (default 500 ms). */
  eventIntervalMs?: number;
  /** Summaries one event carries at most (default 50, the newest). */
  eventMaxItems?: number;
}

export const DEFAULT_REQUEST_LOG_CAPACITY = 2000;
const DEFAULT_LIST_LIMIT = 200;

const numOrNull = (v: number | undefined): number | null => (v === undefined ? null : v);

/** The JSON-safe detail of one proxy record; token times beyond REQUEST_TOKEN_TIMES_MAX are dropped. */
export function toRequestDetail(
  rec: ProxyRequestRecord,
  workerIdOf: (url: string) => string | null = () => null,
): RequestDetail {
  // Array.from: the proxy may hand token times over as a typed array.
  const times = Array.from(rec.tokenTimes);
  const isOk = rec.outcome === 'ok' || rec.outcome === 'ok_context_only';
  const first = times[0];
  const last = times[times.length - 1];
  return {
    id: rec.id,
    endpoint: rec.endpoint,
    isStream: rec.isStream,
    receivedAtMs: rec.receivedAt,
    doneAtMs: rec.doneAt,
    outcome: rec.outcome,
    status: rec.status,
    ctxWorkerUrl: rec.ctxWorker ?? null,
    genWorkerUrl: rec.genWorker ?? null,
    ctxWorkerId: rec.ctxWorker === undefined ? null : workerIdOf(rec.ctxWorker),
    genWorkerId: rec.genWorker === undefined ? null : workerIdOf(rec.genWorker),
    promptTokens: numOrNull(rec.promptTokens),
    completionTokens: rec.completionTokens ?? (rec.isStream ? times.length : null),
    // Same definitions as the dashboard's buckets (request-metrics.ts addRecord).
    ttftMs: isOk ? (first ?? rec.doneAt) - rec.receivedAt : null,
    tpotMs:
      first !== undefined && last !== undefined && times.length > 1
        ? (last - first) / (times.length - 1)
        : null,
    e2eMs: rec.doneAt - rec.receivedAt,
    retries: rec.retries,
    errorMessage: rec.errorMessage ?? null,
    ctxSentAtMs: numOrNull(rec.ctxSentAt),
    ctxAnsweredAtMs: numOrNull(rec.ctxAnsweredAt),
    genSentAtMs: numOrNull(rec.genSentAt),
    firstByteAtMs: numOrNull(rec.firstByteAt),
    tokenTimesMs:
      times.length > REQUEST_TOKEN_TIMES_MAX ? times.slice(0, REQUEST_TOKEN_TIMES_MAX) : times,
    tokenEvents: times.length,
  };
}

/** The summary half of a detail (what tables and events carry). */
export function toRequestSummary(d: RequestDetail): RequestSummary {
  return {
    id: d.id,
    endpoint: d.endpoint,
    isStream: d.isStream,
    receivedAtMs: d.receivedAtMs,
    doneAtMs: d.doneAtMs,
    outcome: d.outcome,
    status: d.status,
    ctxWorkerUrl: d.ctxWorkerUrl,
    genWorkerUrl: d.genWorkerUrl,
    ctxWorkerId: d.ctxWorkerId,
    genWorkerId: d.genWorkerId,
    promptTokens: d.promptTokens,
    completionTokens: d.completionTokens,
    ttftMs: d.ttftMs,
    tpotMs: d.tpotMs,
    e2eMs: d.e2eMs,
    retries: d.retries,
    errorMessage: d.errorMessage,
  };
}

function matches(d: RequestDetail, q: RequestQuery): boolean {
  if (q.outcomes !== undefined && !q.outcomes.includes(d.outcome)) return false;
  if (q.worker !== undefined) {
    const w = q.worker;
    const hostPort = (url: string | null): string | null =>
      url === null ? null : url.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    const hits = [
      d.ctxWorkerId,
      d.genWorkerId,
      d.ctxWorkerUrl,
      d.genWorkerUrl,
      hostPort(d.ctxWorkerUrl),
      hostPort(d.genWorkerUrl),
    ];
    if (!hits.includes(w)) return false;
  }
  return true;
}

/** A bounded ring of recent requests with an index by request id. */
export class RequestLog {
  private readonly capacity: number;
  private readonly slots: (RequestDetail | null)[];
  /** Next slot to write. */
  private head = 0;
  private readonly byId = new Map<number, number>();
  private readonly workerIdOf: (url: string) => string | null;
  /** The newest requests since the last event (at most eventMaxItems) and how many older ones were left out. */
  private pending: RequestDetail[] = [];
  private pendingOmitted = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastEventAt = 0;
  private isDisposed = false;

  constructor(private readonly options: RequestLogOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? DEFAULT_REQUEST_LOG_CAPACITY);
    this.slots = new Array<RequestDetail | null>(this.capacity).fill(null);
    this.workerIdOf = options.workerIdOf ?? (() => null);
  }

  /** Adds finished requests in the order they finished. */
  add(records: readonly ProxyRequestRecord[]): void {
    for (const rec of records) {
      const detail = toRequestDetail(rec, this.workerIdOf);
      // Ids restart with the proxy: a newer request with the same id replaces the older one.
      const previous = this.byId.get(detail.id);
      if (previous !== undefined) this.slots[previous] = null;
      const evicted = this.slots[this.head];
      if (evicted && this.byId.get(evicted.id) === this.head) this.byId.delete(evicted.id);
      this.slots[this.head] = detail;
      this.byId.set(detail.id, this.head);
      this.head = (this.head + 1) % this.capacity;
      if (this.options.onRecorded) {
        this.pending.push(detail);
        // Under heavy traffic only the newest few are announced; the table asks requests:list for more.
        if (this.pending.length > (this.options.eventMaxItems ?? 50)) {
          this.pending.shift();
          this.pendingOmitted++;
        }
      }
    }
    if (this.options.onRecorded && this.pending.length > 0) this.schedule();
  }

  /** Requests held now. */
  size(): number {
    return this.byId.size;
  }

  /** Newest first, filtered, at most `limit` (default 200). */
  list(query: RequestQuery = {}): RequestSummary[] {
    const limit = Math.max(0, query.limit ?? DEFAULT_LIST_LIMIT);
    const out: RequestSummary[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const d = this.slots[(this.head - i + this.capacity) % this.capacity];
      if (d && matches(d, query)) out.push(toRequestSummary(d));
    }
    return out;
  }

  /** One request by the proxy's id, or undefined when it is not (or no longer) held. */
  get(id: number): RequestDetail | undefined {
    const slot = this.byId.get(id);
    return slot === undefined ? undefined : (this.slots[slot] ?? undefined);
  }

  /** The `requests:list` and `requests:get` handlers. */
  handlers(): Pick<ApiHandlers, 'requests:list' | 'requests:get'> {
    return {
      'requests:list': (query) => Promise.resolve(this.list(query)),
      'requests:get': (id) => {
        const d = this.get(id);
        if (!d) {
          return Promise.reject(
            new AppError(
              'NOT_FOUND',
              `request ${id} is not among the last ${this.capacity} requests`,
              { id },
            ),
          );
        }
        return Promise.resolve(d);
      },
    };
  }

  /** Stops the event timer; pending summaries are dropped. */
  dispose(): void {
    this.isDisposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    this.pendingOmitted = 0;
  }

  private schedule(): void {
    if (this.timer !== null || this.isDisposed) return;
    const interval = this.options.eventIntervalMs ?? 500;
    const wait = Math.max(0, this.lastEventAt + interval - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    // A pending event must not keep a headless process alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private flush(): void {
    this.timer = null;
    this.lastEventAt = Date.now();
    const batch = this.pending;
    const omitted = this.pendingOmitted;
    this.pending = [];
    this.pendingOmitted = 0;
    if (batch.length === 0 || !this.options.onRecorded) return;
    this.options.onRecorded({ requests: batch.reverse().map(toRequestSummary), omitted });
  }
}
