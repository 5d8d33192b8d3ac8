// Where a finished request goes: its outcome counted and its latencies observed in the metrics, and
// its record delivered to the embedder in batches. `finish` is idempotent per record, so a request is
// counted once whichever path ended it. Layer: core.
import { performance } from 'node:perf_hooks';

import type { ProxyMetrics } from './metrics';
import type { ProxyLog } from './proxy-options';
import type { Endpoint } from './request-flow';
import type { ProxyRequestRecord, RecordOutcome } from './types';

/** Epoch ms with sub-ms precision, the records' time base. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export class RequestRecords {
  private readonly listeners = new Set<(r: ProxyRequestRecord[]) => void>();
  private buffer: ProxyRequestRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly batchMs: number,
    private readonly log: ProxyLog,
  ) {}

  /** A new, unfinished record (doneAt 0) with the next id. */
  start(endpoint: Endpoint, receivedAt: number): ProxyRequestRecord {
    return {
      id: this.nextId++,
      endpoint,
      isStream: false,
      receivedAt,
      tokenTimes: [],
      doneAt: 0,
      outcome: 'ok',
      status: 0,
      retries: 0,
    };
  }

  /** Ends a record once: later calls for the same record do nothing. */
  finish(
    rec: ProxyRequestRecord,
    outcome: RecordOutcome,
    status: number,
    errorMessage?: string,
  ): void {
    if (rec.doneAt !== 0) return;
    rec.doneAt = epochNow();
    rec.outcome = outcome;
    rec.status = status;
    if (errorMessage !== undefined) rec.errorMessage = errorMessage;
    this.metrics.countOutcome(outcome);
    this.metrics.observeUpstream(rec);
    if (outcome === 'ok' || outcome === 'ok_context_only') this.observeLatencies(rec);
    if (this.listeners.size > 0) {
      this.buffer.push(rec);
      this.timer ??= setTimeout(() => this.flush(), this.batchMs);
    }
  }

  subscribe(cb: (records: ProxyRequestRecord[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Delivers what is pending now (at shutdown). */
  close(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.flush();
    }
  }

  private observeLatencies(rec: ProxyRequestRecord): void {
    const m = this.metrics;
    const t = rec.tokenTimes;
    const first = t.length > 0 ? (t[0] as number) : rec.doneAt;
    m.ttft.observe((first - rec.receivedAt) / 1000);
    m.e2e.observe((rec.doneAt - rec.receivedAt) / 1000);
    if (t.length > 1) {
      m.tpot.observe(((t[t.length - 1] as number) - (t[0] as number)) / 1000 / (t.length - 1));
      for (let i = 1; i < t.length; i++) {
        m.itl.observe(((t[i] as number) - (t[i - 1] as number)) / 1000);
      }
    }
    let own = 0;
    if (rec.ctxSentAt !== undefined) own += rec.ctxSentAt - rec.receivedAt;
    if (rec.genSentAt !== undefined) own += rec.genSentAt - (rec.ctxAnsweredAt ?? rec.receivedAt);
    m.overhead.observe(own / 1000);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    for (const cb of this.listeners) {
      try {
        cb(batch);
      } catch (err) {
        this.log('error', `record listener failed: ${String(err)}`);
      }
    }
  }
}
