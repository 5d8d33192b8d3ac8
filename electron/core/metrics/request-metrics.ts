// Per-second buckets from the proxy's per-request records (features O1, O2): TTFT, TPOT, inter-token and
// end-to-end latency and the proxy's own added time as log-bucket histograms (p50/p90/p99 from the
// distribution, not from averages), requests, tokens and errors by kind, overall and per worker. An hour stays
// in memory at 1 s; coarser steps merge the histograms. Layer: core (pure code, no I/O).

import {
  createLogHistogram,
  type LogHistogramData,
  mergeInto,
  observe,
  summarize,
} from '../../../shared/logic/percentiles';
import type { MetricsBucket } from '../../../shared/model/metrics';
import type { ProxyRequestRecord } from '../proxy/types';

/** The mergeable state of one bucket (what history files store). */
export interface BucketAccumulator {
  atMs: number;
  requests: number;
  errors: Record<string, number>;
  promptTokens: number;
  completionTokens: number;
  ttftMs: LogHistogramData;
  tpotMs: LogHistogramData;
  itlMs: LogHistogramData;
  e2eMs: LogHistogramData;
  proxyAddedMs: LogHistogramData;
}

/** The scope of overall buckets in history files and CSV. */
export const OVERALL_SCOPE = 'overall';

/** An empty bucket starting at atMs. */
export function emptyAccumulator(atMs: number): BucketAccumulator {
  return {
    atMs,
    requests: 0,
    errors: {},
    promptTokens: 0,
    completionTokens: 0,
    ttftMs: createLogHistogram(),
    tpotMs: createLogHistogram(),
    itlMs: createLogHistogram(),
    e2eMs: createLogHistogram(),
    proxyAddedMs: createLogHistogram(),
  };
}

/** Adds b into a (same or coarser bucket). */
export function mergeAccumulator(a: BucketAccumulator, b: BucketAccumulator): void {
  a.requests += b.requests;
  for (const [k, n] of Object.entries(b.errors)) a.errors[k] = (a.errors[k] ?? 0) + n;
  a.promptTokens += b.promptTokens;
  a.completionTokens += b.completionTokens;
  mergeInto(a.ttftMs, b.ttftMs);
  mergeInto(a.tpotMs, b.tpotMs);
  mergeInto(a.itlMs, b.itlMs);
  mergeInto(a.e2eMs, b.e2eMs);
  mergeInto(a.proxyAddedMs, b.proxyAddedMs);
}

/** The JSON-safe summary the console API carries. */
export function toMetricsBucket(acc: BucketAccumulator): MetricsBucket {
  return {
    atMs: acc.atMs,
    requests: acc.requests,
    errors: { ...acc.errors },
    promptTokens: acc.promptTokens,
    completionTokens: acc.completionTokens,
    ttftMs: summarize(acc.ttftMs),
    tpotMs: summarize(acc.tpotMs),
    itlMs: summarize(acc.itlMs),
    e2eMs: summarize(acc.e2eMs),
    proxyAddedMs: summarize(acc.proxyAddedMs),
  };
}

const OK_OUTCOMES = new Set(['ok', 'ok_context_only']);

/** Adds one finished request to a bucket; latencies only for successful requests, errors keyed by outcome. */
export function addRecord(acc: BucketAccumulator, rec: ProxyRequestRecord): void {
  acc.requests++;
  acc.promptTokens += rec.promptTokens ?? 0;
  // Streams count their events when the final usage chunk is missing.
  acc.completionTokens += rec.completionTokens ?? (rec.isStream ? rec.tokenTimes.length : 0);
  if (!OK_OUTCOMES.has(rec.outcome)) {
    acc.errors[rec.outcome] = (acc.errors[rec.outcome] ?? 0) + 1;
    return;
  }
  const t = rec.tokenTimes;
  const first = t.length > 0 ? (t[0] as number) : rec.doneAt;
  observe(acc.ttftMs, first - rec.receivedAt);
  observe(acc.e2eMs, rec.doneAt - rec.receivedAt);
  if (t.length > 1) {
    observe(acc.tpotMs, ((t[t.length - 1] as number) - (t[0] as number)) / (t.length - 1));
    for (let i = 1; i < t.length; i++) observe(acc.itlMs, (t[i] as number) - (t[i - 1] as number));
  }
  // The proxy's own time: before the context call, and between the context answer and the generation call
  // (the same definition as the proxy's added_latency histogram).
  let own = 0;
  if (rec.ctxSentAt !== undefined) own += rec.ctxSentAt - rec.receivedAt;
  if (rec.genSentAt !== undefined) own += rec.genSentAt - (rec.ctxAnsweredAt ?? rec.receivedAt);
  observe(acc.proxyAddedMs, Math.max(0, own));
}

/** Options of RequestMetrics. */
export interface RequestMetricsOptions {
  /** Seconds kept in memory at 1 s resolution; default 3600. */
  retentionSec?: number;
  /** The console's worker id for a proxy worker url (`http://host:port`), null when unknown. */
  workerIdOf?: (url: string) => string | null;
  now?: () => number;
}

const secondOf = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** In-memory per-second buckets, overall and per worker. */
export class RequestMetrics {
  private readonly retentionMs: number;
  private readonly workerIdOf: (url: string) => string | null;
  private readonly now: () => number;
  private readonly overall = new Map<number, BucketAccumulator>();
  private readonly perWorker = new Map<string, Map<number, BucketAccumulator>>();

  constructor(options: RequestMetricsOptions = {}) {
    this.retentionMs = (options.retentionSec ?? 3600) * 1000;
    this.workerIdOf = options.workerIdOf ?? ((url) => url);
    this.now = options.now ?? Date.now;
  }

  /** Adds a batch of finished requests, each in the second it finished. */
  addRecords(records: readonly ProxyRequestRecord[]): void {
    const oldest = secondOf(this.now()) - this.retentionMs;
    for (const rec of records) {
      const at = secondOf(rec.doneAt);
      if (at < oldest) continue;
      addRecord(this.bucket(this.overall, at), rec);
      const ids = new Set<string>();
      for (const url of [rec.ctxWorker, rec.genWorker]) {
        if (url === undefined) continue;
        const id = this.workerIdOf(url);
        if (id !== null) ids.add(id);
      }
      for (const id of ids) {
        let m = this.perWorker.get(id);
        if (!m) {
          m = new Map();
          this.perWorker.set(id, m);
        }
        addRecord(this.bucket(m, at), rec);
      }
    }
  }

  /** Drops buckets older than the retention. */
  prune(): void {
    const oldest = secondOf(this.now()) - this.retentionMs;
    const dropOld = (m: Map<number, BucketAccumulator>): void => {
      for (const at of m.keys()) if (at < oldest) m.delete(at);
    };
    dropOld(this.overall);
    for (const [id, m] of this.perWorker) {
      dropOld(m);
      if (m.size === 0) this.perWorker.delete(id);
    }
  }

  /** Worker ids with data in memory. */
  workerIds(): string[] {
    return [...this.perWorker.keys()].sort();
  }

  /** The oldest time still held in memory. */
  oldestInMemoryMs(): number {
    return secondOf(this.now()) - this.retentionMs;
  }

  /**
   * Buckets of stepSec covering [fromMs, toMs), one per step (empty ones included) for `scope` (OVERALL_SCOPE
   * or a worker id). Steps are aligned to multiples of stepSec.
   */
  range(scope: string, fromMs: number, toMs: number, stepSec = 1): BucketAccumulator[] {
    const source = scope === OVERALL_SCOPE ? this.overall : this.perWorker.get(scope);
    const stepMs = Math.max(1, Math.round(stepSec)) * 1000;
    const start = Math.floor(fromMs / stepMs) * stepMs;
    const out: BucketAccumulator[] = [];
    for (let at = start; at < toMs; at += stepMs) {
      const acc = emptyAccumulator(at);
      for (let s = at; source && s < at + stepMs; s += 1000) {
        const b = source.get(s);
        if (b) mergeAccumulator(acc, b);
      }
      out.push(acc);
    }
    return out;
  }

  private bucket(m: Map<number, BucketAccumulator>, at: number): BucketAccumulator {
    let b = m.get(at);
    if (!b) {
      b = emptyAccumulator(at);
      m.set(at, b);
    }
    return b;
  }
}
