// The timeline of one request as the workers reported it (TensorRT-LLM 1.3's per-request metrics,
// docs/upstream-versions.md section 3): the `Server-Timing` entries (`ctx_e2e;dur=<ms>`,
// `gen_kv_transfer;dur=<ms>`, ...) and `X-TRTLLM-Start-End-Time` stamps (`ctx-start;ts=<s>`, ...) that a
// disaggregated server merges from its context and generation workers, as headers of a whole answer or as
// the `trtllm.perf_metrics` event after a stream's `[DONE]`. Used instead of the console's own estimate
// where present. Layer: shared (pure).

import type { RequestTimeline, TimelineSegment } from './request-timeline';

/** The event name and header names, as upstream writes them (perf_metrics.py). */
export const PERF_METRICS_EVENT = 'trtllm.perf_metrics';
export const SERVER_TIMING = 'Server-Timing';
export const START_END_TIME = 'X-TRTLLM-Start-End-Time';

/** What the workers reported: durations in ms and timestamps in seconds, by entry name. */
export interface ReportedMetrics {
  durationsMs: Record<string, number>;
  stampsSec: Record<string, number>;
}

/** `name;key=value, name;key=value` entries; the first of a repeated name wins (upstream may write twice). */
function entries(text: string | undefined, key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of (text ?? '').split(',')) {
    const [name, ...params] = item.trim().split(';');
    if (!name || name in out) continue;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      const n = Number(v);
      if (k === key && v !== undefined && v.trim() !== '' && Number.isFinite(n)) out[name] = n;
    }
  }
  return out;
}

/**
 * The reported metrics from the metric headers (any case of the names) or the stream event's JSON object;
 * null when neither a context nor a generation phase is in it (a single worker's `server_*`, or nothing).
 */
export function parseReportedMetrics(
  headers: Readonly<Record<string, unknown>>,
): ReportedMetrics | null {
  const get = (name: string): string | undefined => {
    const hit = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
    const v = hit === undefined ? undefined : headers[hit];
    return typeof v === 'string' ? v : undefined;
  };
  const durationsMs = entries(get(SERVER_TIMING), 'dur');
  const stampsSec = entries(get(START_END_TIME), 'ts');
  const hasPhase = [...Object.keys(durationsMs), ...Object.keys(stampsSec)].some((n) =>
    /^(ctx|gen)[_-]/.test(n),
  );
  return hasPhase ? { durationsMs, stampsSec } : null;
}

/** The stream event's data as reported metrics; null when it is not the metrics event or not an object. */
export function reportedMetricsFromEvent(
  eventName: string | undefined,
  data: string,
): ReportedMetrics | null {
  if (eventName !== PERF_METRICS_EVENT) return null;
  try {
    const json = JSON.parse(data) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
    return parseReportedMetrics(json as Record<string, unknown>);
  } catch {
    return null;
  }
}

/**
 * Context, KV transfer and generation bars in ms from the disaggregated server's arrival (`disagg-start`).
 * With the workers' start/end stamps (clocks aligned by the server's steady-clock offsets) each phase sits
 * where it ran; without them the durations are laid end to end after the server's queue. The KV transfer
 * is the generation worker's `kv_transfer` and opens its phase. Null when no phase can be placed.
 */
export function reportedTimeline(m: ReportedMetrics): RequestTimeline | null {
  const d = m.durationsMs;
  const s = m.stampsSec;
  const origin = s['disagg-start'] ?? s['ctx-start'] ?? s['gen-start'];
  const at = (name: string): number | undefined => {
    const ts = s[name];
    return ts === undefined || origin === undefined ? undefined : (ts - origin) * 1000;
  };
  const segments: TimelineSegment[] = [];
  const push = (kind: TimelineSegment['kind'], label: string, from: number, to: number): void => {
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) {
      segments.push({ kind, label, fromMs: Math.max(0, from), toMs: to });
    }
  };
  const queue = d['disagg_queue'] ?? 0;
  push('proxy', 'server queue (reported)', 0, queue);
  const ctxFrom = at('ctx-start') ?? queue;
  const ctxTo = at('ctx-end') ?? (d['ctx_e2e'] === undefined ? undefined : ctxFrom + d['ctx_e2e']);
  if (ctxTo !== undefined) push('context', 'context (reported by worker)', ctxFrom, ctxTo);
  const genFrom = at('gen-start') ?? ctxTo ?? queue;
  const kvMs = d['gen_kv_transfer'] ?? 0;
  push('handoff', 'KV transfer (reported by worker)', genFrom, genFrom + kvMs);
  const genTo = at('gen-end') ?? (d['gen_e2e'] === undefined ? undefined : genFrom + d['gen_e2e']);
  if (genTo !== undefined) {
    push('generation', 'generation (reported by worker)', genFrom + kvMs, genTo);
  }
  if (!segments.some((x) => x.kind !== 'proxy')) return null;
  return { segments, ticksMs: [], totalMs: Math.max(...segments.map((x) => x.toMs)) };
}
