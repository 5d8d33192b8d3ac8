// Playground requests to the LLM proxy: the OpenAI body for chat and completions, the streamed reply read
// chunk by chunk (protocol 4.4: `data: <json>` events, a final usage chunk when stream_options.include_usage,
// `data: [DONE]`), and the per-response measurements (TTFT, TPOT, tokens, which workers served it).
// Layer: renderer (pure: fetch is injected, so it also runs under Node tests).

import {
  parseReportedMetrics,
  type ReportedMetrics,
  reportedMetricsFromEvent,
  SERVER_TIMING,
  START_END_TIME,
} from '../../shared/logic/reported-timeline';
import { isDoneEvent, isErrorEvent, type SseEvent, SseParser } from '../../shared/logic/sse';

export type PlaygroundMode = 'chat' | 'completions';

/** The sampling parameters the playground exposes (G1). */
export interface SamplingParams {
  temperature: number;
  topP: number;
  maxTokens: number;
  /** Stop strings; empty for none. */
  stop: string[];
  seed: number | null;
}

/** Pins a request to workers (G3); empty means the proxy's router picks. */
export interface RoutePin {
  contextWorker?: string;
  generationWorker?: string;
}

/** What the user sends. */
export interface PlaygroundRequest {
  mode: PlaygroundMode;
  model: string;
  systemPrompt: string;
  prompt: string;
  params: SamplingParams;
  route: RoutePin;
}

/**
 * Response headers the proxy sets (electron/core/proxy/proxy-server.ts) and request headers that pin a route.
 * The same names serve both directions so a request can be replayed from its answer.
 */
export const DISAGG_HEADERS = {
  contextWorker: 'x-disagg-context-worker',
  generationWorker: 'x-disagg-generation-worker',
  requestId: 'x-disagg-request-id',
  /** ms from the context request sent to its answer (context queue + prefill). */
  contextMs: 'x-disagg-context-ms',
  /** ms from the context answer to the generation request sent (KV hand-off as the proxy sees it). */
  handoffMs: 'x-disagg-handoff-ms',
} as const;

/** The JSON body of the request (streaming, with usage). */
export function buildRequestBody(req: PlaygroundRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model };
  if (req.mode === 'chat') {
    const messages: { role: string; content: string }[] = [];
    if (req.systemPrompt.trim() !== '') {
      messages.push({ role: 'system', content: req.systemPrompt });
    }
    messages.push({ role: 'user', content: req.prompt });
    body.messages = messages;
  } else {
    body.prompt =
      req.systemPrompt.trim() !== '' ? `${req.systemPrompt}\n\n${req.prompt}` : req.prompt;
  }
  body.max_tokens = req.params.maxTokens;
  body.temperature = req.params.temperature;
  body.top_p = req.params.topP;
  if (req.params.stop.length > 0) body.stop = req.params.stop;
  if (req.params.seed !== null) body.seed = req.params.seed;
  body.stream = true;
  body.stream_options = { include_usage: true };
  return body;
}

/** The path of the endpoint for a mode. */
export function endpointPath(mode: PlaygroundMode): string {
  return mode === 'chat' ? '/v1/chat/completions' : '/v1/completions';
}

/** Request headers, including the route pin when set. */
export function buildRequestHeaders(req: PlaygroundRequest): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    // Ask for the workers' own per-request metrics (TensorRT-LLM 1.3, docs/upstream-versions.md section 3):
    // a proxy or server that has them ends the stream with a `trtllm.perf_metrics` event.
    'x-trtllm-return-metrics': '1',
  };
  if (req.route.contextWorker) headers[DISAGG_HEADERS.contextWorker] = req.route.contextWorker;
  if (req.route.generationWorker) {
    headers[DISAGG_HEADERS.generationWorker] = req.route.generationWorker;
  }
  return headers;
}

/** Measurements of one response (G2). Times are ms relative to the send. */
export interface ResponseMetrics {
  sentAtMs: number;
  headersMs: number | null;
  ttftMs: number | null;
  /** Mean time per output token after the first. */
  tpotMs: number | null;
  e2eMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Content chunks seen (a fallback token count when no usage arrived). */
  chunks: number;
  contextWorker: string | null;
  generationWorker: string | null;
  requestId: string | null;
  contextPhaseMs: number | null;
  handoffMs: number | null;
  finishReason: string | null;
  /** The workers' per-request metrics, when the answer carried them (headers or the stream's last event). */
  reported: ReportedMetrics | null;
}

/** A fresh measurement record. */
function emptyMetrics(sentAtMs: number): ResponseMetrics {
  return {
    sentAtMs,
    headersMs: null,
    ttftMs: null,
    tpotMs: null,
    e2eMs: null,
    promptTokens: null,
    completionTokens: null,
    chunks: 0,
    contextWorker: null,
    generationWorker: null,
    requestId: null,
    contextPhaseMs: null,
    handoffMs: null,
    finishReason: null,
    reported: null,
  };
}

/** The parts of a fetch Response used here. */
export interface StreamResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array }>;
      cancel(): Promise<void>;
    };
  } | null;
}

export type StreamFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<StreamResponseLike>;

/** What the stream reader reports while it runs. */
export interface StreamCallbacks {
  onText(text: string): void;
  onMetrics(metrics: ResponseMetrics): void;
}

function numberHeader(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Pulls the text of one chunk, its usage and finish reason. */
function readChunk(json: unknown): {
  text: string;
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
} {
  const out: {
    text: string;
    promptTokens?: number;
    completionTokens?: number;
    finishReason?: string;
  } = { text: '' };
  if (typeof json !== 'object' || json === null) return out;
  const j = json as { choices?: unknown; usage?: unknown };
  if (Array.isArray(j.choices)) {
    for (const c of j.choices as unknown[]) {
      if (typeof c !== 'object' || c === null) continue;
      const choice = c as {
        text?: unknown;
        delta?: { content?: unknown };
        finish_reason?: unknown;
      };
      if (typeof choice.text === 'string') out.text += choice.text;
      if (choice.delta && typeof choice.delta.content === 'string') {
        out.text += choice.delta.content;
      }
      if (typeof choice.finish_reason === 'string') out.finishReason = choice.finish_reason;
    }
  }
  if (typeof j.usage === 'object' && j.usage !== null) {
    const u = j.usage as { prompt_tokens?: unknown; completion_tokens?: unknown };
    if (typeof u.prompt_tokens === 'number') out.promptTokens = u.prompt_tokens;
    if (typeof u.completion_tokens === 'number') out.completionTokens = u.completion_tokens;
  }
  return out;
}

function errorMessageOf(text: string, status: number): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof j.error === 'object' && j.error && typeof j.error.message === 'string') {
      return j.error.message;
    }
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.trim() !== '' ? text.trim().slice(0, 300) : `the proxy answered HTTP ${status}`;
}

/** How long the reader waits after `[DONE]` for the metrics event that may follow it. */
const TRAILING_EVENT_WAIT_MS = 2000;

/**
 * The events after `[DONE]` (upstream sends `trtllm.perf_metrics` there) until the stream ends, bounded by
 * TRAILING_EVENT_WAIT_MS: a server that keeps the stream open after `[DONE]` must not hold the reply.
 */
async function trailingEvents(
  reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> },
  parser: SseParser,
  decoder: { decode(value?: Uint8Array, options?: { stream?: boolean }): string },
): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), TRAILING_EVENT_WAIT_MS);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === null) {
        await reader.cancel().catch(() => undefined);
        break;
      }
      if (next.done) break;
      out.push(...parser.push(decoder.decode(next.value, { stream: true })));
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/**
 * Sends one streaming request and reads it to the end (or until `signal` aborts). Resolves with the final
 * metrics; rejects with an Error whose message says what went wrong (HTTP status, OpenAI error, stream error).
 */
export async function runStreamingRequest(
  fetchFn: StreamFetch,
  proxyUrl: string,
  req: PlaygroundRequest,
  signal: AbortSignal,
  callbacks: StreamCallbacks,
  now: () => number,
): Promise<ResponseMetrics> {
  const sentAtMs = now();
  const m = emptyMetrics(sentAtMs);
  const res = await fetchFn(proxyUrl.replace(/\/+$/, '') + endpointPath(req.mode), {
    method: 'POST',
    headers: buildRequestHeaders(req),
    body: JSON.stringify(buildRequestBody(req)),
    signal,
  });
  m.headersMs = now() - sentAtMs;
  m.contextWorker = res.headers.get(DISAGG_HEADERS.contextWorker);
  m.generationWorker = res.headers.get(DISAGG_HEADERS.generationWorker);
  m.requestId = res.headers.get(DISAGG_HEADERS.requestId);
  m.contextPhaseMs = numberHeader(res.headers.get(DISAGG_HEADERS.contextMs));
  m.handoffMs = numberHeader(res.headers.get(DISAGG_HEADERS.handoffMs));
  m.reported = parseReportedMetrics({
    [SERVER_TIMING]: res.headers.get(SERVER_TIMING),
    [START_END_TIME]: res.headers.get(START_END_TIME),
  });
  callbacks.onMetrics({ ...m });
  if (res.status !== 200 || !res.body) {
    throw new Error(errorMessageOf(await res.text(), res.status));
  }

  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let firstTokenAt: number | null = null;
  let lastTokenAt: number | null = null;
  let isDone = false;
  while (!isDone) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
      if (isDone) {
        m.reported = reportedMetricsFromEvent(ev.event, ev.data) ?? m.reported;
        continue;
      }
      if (isDoneEvent(ev)) {
        isDone = true;
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(ev.data);
      } catch {
        continue; // A frame that is not JSON carries nothing the playground shows.
      }
      if (isErrorEvent(ev)) throw new Error(errorMessageOf(ev.data, 500));
      const chunk = readChunk(json);
      if (chunk.promptTokens !== undefined) m.promptTokens = chunk.promptTokens;
      if (chunk.completionTokens !== undefined) m.completionTokens = chunk.completionTokens;
      if (chunk.finishReason !== undefined) m.finishReason = chunk.finishReason;
      if (chunk.text !== '') {
        const t = now();
        if (firstTokenAt === null) {
          firstTokenAt = t;
          m.ttftMs = t - sentAtMs;
        }
        lastTokenAt = t;
        m.chunks += 1;
        callbacks.onText(chunk.text);
      }
    }
    callbacks.onMetrics({ ...m });
  }
  const endAt = now();
  if (isDone && m.reported === null) {
    for (const ev of await trailingEvents(reader, parser, decoder)) {
      m.reported = reportedMetricsFromEvent(ev.event, ev.data) ?? m.reported;
    }
  }
  m.e2eMs = endAt - sentAtMs;
  const tokens = m.completionTokens ?? m.chunks;
  if (firstTokenAt !== null && lastTokenAt !== null && tokens > 1) {
    m.tpotMs = (lastTokenAt - firstTokenAt) / (tokens - 1);
  }
  if (!isDone) throw new Error('the stream ended without [DONE]: the reply may be cut short');
  callbacks.onMetrics({ ...m });
  return m;
}

/** Timeline segments of one response for the bar (O4/G2), in ms from the send; zero-length parts are left out. */
export function timelineSegments(m: ResponseMetrics): {
  label: string;
  kind: 'context' | 'handoff' | 'generation' | 'tokens';
  fromMs: number;
  toMs: number;
}[] {
  const out: {
    label: string;
    kind: 'context' | 'handoff' | 'generation' | 'tokens';
    fromMs: number;
    toMs: number;
  }[] = [];
  let t = 0;
  if (m.contextPhaseMs !== null) {
    out.push({
      label: 'context queue + prefill',
      kind: 'context',
      fromMs: t,
      toMs: t + m.contextPhaseMs,
    });
    t += m.contextPhaseMs;
  }
  if (m.handoffMs !== null) {
    out.push({ label: 'KV hand-off', kind: 'handoff', fromMs: t, toMs: t + m.handoffMs });
    t += m.handoffMs;
  }
  if (m.ttftMs !== null && m.ttftMs > t) {
    out.push({
      label: m.contextPhaseMs === null ? 'until first token' : 'generation start',
      kind: 'generation',
      fromMs: t,
      toMs: m.ttftMs,
    });
    t = m.ttftMs;
  }
  if (m.e2eMs !== null && m.e2eMs > t) {
    out.push({ label: 'tokens', kind: 'tokens', fromMs: t, toMs: m.e2eMs });
  }
  return out.filter((s) => s.toMs > s.fromMs);
}
