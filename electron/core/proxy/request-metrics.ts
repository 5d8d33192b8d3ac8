// Per-request metrics the way TensorRT-LLM 1.3 returns them (docs/upstream-versions.md section 3, upstream
// tensorrt_llm/serve/perf_metrics.py: build_metrics_headers, build_metrics_record_from_headers,
// combine_disagg_metrics, build_metrics_sse_event). A client sends `X-TRTLLM-return-metrics: 1`; a
// non-streaming answer carries Server-Timing-style headers, a stream ends with one more SSE event
// `trtllm.perf_metrics` after `[DONE]`. The proxy renames each worker's `server` phase to `ctx` / `gen`
// and adds its own `disagg` phase, with upstream's arithmetic and number formats.
// Layer: core (pure).

export const RETURN_METRICS_HEADER = 'x-trtllm-return-metrics';
export const SERVER_TIMING_HEADER = 'Server-Timing';
export const START_END_TIME_HEADER = 'X-TRTLLM-Start-End-Time';
export const STEP_METRICS_HEADER = 'X-TRTLLM-Step-Metrics';
export const CTX_CHUNK_METRICS_HEADER = 'X-TRTLLM-Ctx-Chunk-Metrics';
export const SSE_METRICS_EVENT = 'trtllm.perf_metrics';

/** The four metric headers, in upstream's order (also the key order of the stream event). */
export const METRICS_HEADERS = [
  SERVER_TIMING_HEADER,
  START_END_TIME_HEADER,
  STEP_METRICS_HEADER,
  CTX_CHUNK_METRICS_HEADER,
] as const;
export type MetricsHeaderName = (typeof METRICS_HEADERS)[number];
export type MetricsHeaders = Partial<Record<MetricsHeaderName, string>>;

/** Above this the step and context-chunk lists are left out (upstream `_METRICS_PAYLOAD_BUDGET_BYTES`). */
const PAYLOAD_BUDGET_BYTES = 80 * 1024;

/** Seconds on the reporting process's steady clock; null or absent when not known. */
export type PhaseTiming = Partial<
  Record<
    | 'arrival_time'
    | 'first_scheduled_time'
    | 'first_token_time'
    | 'last_token_time'
    | 'kv_cache_transfer_start'
    | 'kv_cache_transfer_end'
    | 'server_arrival_time'
    | 'ctx_dispatch_time'
    | 'server_first_token_time',
    number | null
  >
>;

/** One phase of a record: its timestamps and, for a worker phase, the header text it came with. */
export interface MetricsPhase {
  name: string;
  timing: PhaseTiming;
  inherited?: MetricsHeaders;
}

/** The request opted in: the header's value, stripped, is exactly "1". */
export function wantsRequestMetrics(value: string | string[] | undefined): boolean {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.trim() === '1';
}

/** Upstream `_elapsed_ms`: (end - start) in ms when both are known, finite and not negative. */
function elapsedMs(
  timing: PhaseTiming,
  start: keyof PhaseTiming,
  end: keyof PhaseTiming,
): number | undefined {
  const a = timing[start];
  const b = timing[end];
  if (a === undefined || a === null || b === undefined || b === null) return undefined;
  const value = (b - a) * 1000;
  return value >= 0 && Number.isFinite(value) ? value : undefined;
}

type Range = readonly [string, keyof PhaseTiming, keyof PhaseTiming];

const DISAGG_RANGES: readonly Range[] = [
  ['queue', 'server_arrival_time', 'ctx_dispatch_time'],
  ['ttft', 'server_arrival_time', 'server_first_token_time'],
];

const WORKER_RANGES: readonly Range[] = [
  ['queue', 'arrival_time', 'first_scheduled_time'],
  ['ttft', 'arrival_time', 'first_token_time'],
  ['e2e', 'arrival_time', 'last_token_time'],
  ['kv_transfer', 'kv_cache_transfer_start', 'kv_cache_transfer_end'],
];

/** Upstream `build_metrics_headers`: phases in order, each its stamps, its ranges, then its inherited text. */
export function buildMetricsHeaders(phases: readonly MetricsPhase[]): MetricsHeaders {
  const values: Record<MetricsHeaderName, string[]> = {
    [SERVER_TIMING_HEADER]: [],
    [START_END_TIME_HEADER]: [],
    [STEP_METRICS_HEADER]: [],
    [CTX_CHUNK_METRICS_HEADER]: [],
  };
  for (const phase of phases) {
    const { timing } = phase;
    for (const [label, field] of [
      ['start', 'arrival_time'],
      ['end', 'last_token_time'],
    ] as const) {
      const ts = timing[field];
      if (ts !== undefined && ts !== null) {
        values[START_END_TIME_HEADER].push(`${phase.name}-${label};ts=${ts.toFixed(9)}`);
      }
    }
    for (const [label, start, end] of phase.name === 'disagg' ? DISAGG_RANGES : WORKER_RANGES) {
      const ms = elapsedMs(timing, start, end);
      if (ms !== undefined) {
        values[SERVER_TIMING_HEADER].push(`${phase.name}_${label};dur=${ms.toFixed(6)}`);
      }
    }
    for (const header of METRICS_HEADERS) {
      const text = phase.inherited?.[header];
      if (text) values[header].push(text);
    }
  }
  const out: MetricsHeaders = {};
  for (const header of METRICS_HEADERS) {
    if (values[header].length > 0) out[header] = values[header].join(', ');
  }
  return out;
}

/** Reads the metric headers of a worker answer (any header-name case). */
export function metricsHeadersOf(
  get: (lowerCaseName: string) => string | string[] | undefined,
): MetricsHeaders {
  const out: MetricsHeaders = {};
  for (const header of METRICS_HEADERS) {
    const v = get(header.toLowerCase());
    const text = Array.isArray(v) ? v.join(', ') : v;
    if (text) out[header] = text;
  }
  return out;
}

/**
 * Upstream `build_metrics_record_from_headers`: a worker's `server` phase renamed to `phase` and its
 * timestamps recovered from the start/end stamps plus the durations. Undefined when it sent none.
 */
export function phaseFromWorkerHeaders(
  headers: MetricsHeaders,
  phase: string,
): MetricsPhase | undefined {
  const renamed: MetricsHeaders = {};
  for (const header of METRICS_HEADERS) {
    const v = headers[header];
    if (v) {
      renamed[header] = v.replaceAll('server_', `${phase}_`).replaceAll('server-', `${phase}-`);
    }
  }
  if (Object.keys(renamed).length === 0) return undefined;
  const timing: PhaseTiming = {};
  const stampFields: Record<string, 'arrival_time' | 'last_token_time'> = {
    [`${phase}-start`]: 'arrival_time',
    [`${phase}-end`]: 'last_token_time',
  };
  for (const item of (renamed[START_END_TIME_HEADER] ?? '').split(',')) {
    const [name, ts] = splitOnce(item.trim(), ';ts=');
    const field = name === undefined ? undefined : stampFields[name];
    if (field && ts !== undefined && isPythonFloat(ts)) timing[field] = Number(ts);
  }
  const durationsSec = new Map<string, number>();
  for (const item of (renamed[SERVER_TIMING_HEADER] ?? '').split(',')) {
    const [name, dur] = splitOnce(item.trim(), ';dur=');
    if (
      name !== undefined &&
      dur !== undefined &&
      name.startsWith(`${phase}_`) &&
      isPythonFloat(dur)
    ) {
      durationsSec.set(name.slice(phase.length + 1), Number(dur) / 1000);
    }
  }
  const arrival = timing.arrival_time;
  if (arrival !== undefined && arrival !== null) {
    for (const [label, field] of [
      ['queue', 'first_scheduled_time'],
      ['ttft', 'first_token_time'],
      ['e2e', 'last_token_time'],
    ] as const) {
      const d = durationsSec.get(label);
      if (d !== undefined && timing[field] === undefined) timing[field] = arrival + d;
    }
  }
  return { name: phase, timing, inherited: renamed };
}

/** Python `str.partition`: [before, after] when the separator is present. */
function splitOnce(text: string, separator: string): [string | undefined, string | undefined] {
  const i = text.indexOf(separator);
  return i < 0 ? [undefined, undefined] : [text.slice(0, i), text.slice(i + separator.length)];
}

/** What Python's float() accepts from these headers (a decimal number, optionally signed or with exponent). */
function isPythonFloat(text: string): boolean {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text);
}

/** The disaggregated server's own phase (upstream RawRequestResponseHooks.on_resp_done). */
export function disaggPhase(t: {
  arrivalSec: number;
  ctxDispatchSec: number | null;
  firstTokenSec: number | null;
  lastTokenSec: number;
}): MetricsPhase {
  return {
    name: 'disagg',
    timing: {
      arrival_time: t.arrivalSec,
      last_token_time: t.lastTokenSec,
      server_arrival_time: t.arrivalSec,
      ctx_dispatch_time: t.ctxDispatchSec,
      server_first_token_time: t.firstTokenSec,
    },
  };
}

/** Upstream `_limit_metrics_headers`: over the budget only Server-Timing and the start/end stamps stay. */
export function limitMetricsHeaders(headers: MetricsHeaders): MetricsHeaders {
  let size = 0;
  for (const header of METRICS_HEADERS) {
    const v = headers[header];
    if (v !== undefined) size += Buffer.byteLength(header) + Buffer.byteLength(v) + 4;
  }
  if (size <= PAYLOAD_BUDGET_BYTES) return headers;
  const out: MetricsHeaders = {};
  if (headers[SERVER_TIMING_HEADER] !== undefined) {
    out[SERVER_TIMING_HEADER] = headers[SERVER_TIMING_HEADER];
  }
  if (headers[START_END_TIME_HEADER] !== undefined) {
    out[START_END_TIME_HEADER] = headers[START_END_TIME_HEADER];
  }
  return out;
}

/** Upstream `build_metrics_sse_event`: `event: trtllm.perf_metrics` with the headers as compact JSON. */
export function metricsSseEvent(headers: MetricsHeaders): string {
  const limited = limitMetricsHeaders(headers);
  const ordered: Record<string, string> = {};
  for (const header of METRICS_HEADERS) {
    const v = limited[header];
    if (v !== undefined) ordered[header] = v;
  }
  if (Object.keys(ordered).length === 0) return '';
  return `event: ${SSE_METRICS_EVENT}\ndata: ${JSON.stringify(ordered)}\n\n`;
}

/** The headers carried by a `trtllm.perf_metrics` event's data line, or undefined when it is not one. */
export function metricsFromSseEvent(eventText: string): MetricsHeaders | undefined {
  const lines = eventText.split('\n');
  if (!lines.some((l) => l.trim() === `event: ${SSE_METRICS_EVENT}`)) return undefined;
  const data = lines.find((l) => l.startsWith('data:'));
  if (data === undefined) return undefined;
  try {
    const v = JSON.parse(data.slice(5).trim()) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const out: MetricsHeaders = {};
    for (const header of METRICS_HEADERS) {
      const x = (v as Record<string, unknown>)[header];
      if (typeof x === 'string' && x !== '') out[header] = x;
    }
    return out;
  } catch {
    return undefined;
  }
}
