// Sends one OpenAI request of the load test over a keep-alive node:http agent and measures it the way
// benchmark_serving does: TTFT from the start time to the first token event, ITL as the gaps between token
// events, E2EL to the last one; completion tokens from the server's usage (trtllm-protocol.md 4.4: with
// `stream_options.include_usage` the last chunk carries it). node:http rather than fetch keeps the per-stream
// cost low at thousands of streams. Layer: core.
import http from 'node:http';

import { isDoneEvent, isErrorEvent, SseParser } from '../../../shared/logic/sse';
import type { BenchEndpoint, RequestOutput, SampleRequest } from './bench-types';

/** Everything about the target that does not change from request to request. */
export interface RequestTarget {
  /** Full URL of the endpoint, e.g. http://127.0.0.1:8000/v1/completions. */
  url: URL;
  endpoint: BenchEndpoint;
  model: string;
  agent: http.Agent;
  isStreaming: boolean;
  shouldIgnoreEos: boolean;
  /** Sent as "Authorization: Bearer <key>" when set. */
  apiKey?: string;
  /** Extra body fields (sampling parameters). temperature defaults to 0 (greedy), as upstream. */
  extraBody?: Record<string, unknown>;
  timeoutMs: number;
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

interface Chunk {
  choices?: Array<{
    text?: string | null;
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: unknown[] | null;
    };
    finish_reason?: string | null;
  }>;
  usage?: Usage | null;
}

/** The endpoint's URL as benchmark_serving builds it: base URL (path prefix kept) + endpoint. */
export function endpointUrl(baseUrl: string, endpoint: string): URL {
  return new URL(baseUrl.replace(/\/+$/, '') + endpoint);
}

/** The JSON body of one request (benchmark_serving's payload, minus fields trtllm-serve rejects). */
export function requestBody(target: RequestTarget, sample: SampleRequest): string {
  const body: Record<string, unknown> = { model: target.model, temperature: 0 };
  if (target.endpoint === '/v1/chat/completions') {
    const content = typeof sample.prompt === 'string' ? sample.prompt : sample.prompt.join(' ');
    body.messages = [{ role: 'user', content }];
    body.max_completion_tokens = sample.outputLen;
  } else {
    body.prompt = sample.prompt;
    body.max_tokens = sample.outputLen;
  }
  body.stream = target.isStreaming;
  // stream_options is only allowed with stream: true (a 400 otherwise, protocol 4.2).
  if (target.isStreaming) body.stream_options = { include_usage: true };
  if (target.shouldIgnoreEos) body.ignore_eos = true;
  Object.assign(body, target.extraBody);
  return JSON.stringify(body);
}

/**
 * Whether a chunk is a token event. Completions: any chunk with choices (as upstream). Chat: a delta with
 * content, reasoning or tool calls, or a finish reason. Unlike upstream, the role-only first chat chunk is
 * not a token: trtllm-serve may send it before prefill ends, which would make TTFT meaningless.
 */
function isTokenChunk(chunk: Chunk, isChat: boolean): boolean {
  const choice = chunk.choices?.[0];
  if (!choice) return false;
  if (!isChat) return true;
  const d = choice.delta;
  if (
    d &&
    ((d.content ?? '') !== '' ||
      (d.reasoning_content ?? '') !== '' ||
      (d.tool_calls?.length ?? 0) > 0)
  ) {
    return true;
  }
  return choice.finish_reason !== null && choice.finish_reason !== undefined;
}

function errorKindOf(err: NodeJS.ErrnoException): string {
  return err.code ?? err.name ?? 'Error';
}

/**
 * Sends the request at once and resolves with its measurement (never rejects). `startMs` is the instant
 * latency is counted from (performance.now() clock): the scheduled time in an open loop, so a late send
 * is charged to the request rather than hidden (no coordinated omission).
 */
export function sendRequest(
  target: RequestTarget,
  sample: SampleRequest,
  body: string,
  startMs: number,
  scheduledMs: number,
  signal?: AbortSignal,
): Promise<RequestOutput> {
  const isChat = target.endpoint === '/v1/chat/completions';
  const out: RequestOutput = {
    isSuccess: false,
    ttftS: 0,
    itlS: [],
    latencyS: 0,
    outputTokens: 0,
    promptTokens: sample.promptLen,
    error: '',
    errorKind: '',
    scheduledMs,
    startMs,
    sentMs: 0,
  };
  return new Promise((resolve) => {
    let isSettled = false;
    const finish = (error?: string, kind?: string): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        out.isSuccess = false;
        out.error = error;
        out.errorKind = kind ?? 'error';
      } else {
        out.isSuccess = true;
      }
      resolve(out);
    };
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`;
    const req = http.request({
      agent: target.agent,
      method: 'POST',
      hostname: target.url.hostname,
      port: target.url.port,
      path: target.url.pathname + target.url.search,
      headers,
    });
    const onAbort = (): void => {
      req.destroy();
      finish('aborted', 'aborted');
    };
    signal?.addEventListener('abort', onAbort);
    const timer = setTimeout(() => {
      req.destroy();
      finish(`no complete answer within ${target.timeoutMs} ms`, 'timeout');
    }, target.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.message, errorKindOf(err)));
    req.on('response', (res) => {
      res.setEncoding('utf8');
      if (res.statusCode !== 200) readErrorAnswer(res, finish);
      else if (!target.isStreaming) readWholeAnswer(res, out, startMs, finish);
      else readStreamedAnswer(res, { out, startMs, isChat }, finish);
    });
    out.sentMs = performance.now();
    req.end(body);
  });
}

/** Ends a request's measurement: no arguments for success, else the error and its kind. */
type Finish = (error?: string, kind?: string) => void;

function readErrorAnswer(res: http.IncomingMessage, finish: Finish): void {
  let text = '';
  res.on('data', (c: string) => {
    if (text.length < 500) text += c;
  });
  res.on('end', () =>
    finish(`HTTP ${res.statusCode ?? 0}: ${text.slice(0, 300)}`, `HTTP ${res.statusCode ?? 0}`),
  );
  res.on('error', (err: NodeJS.ErrnoException) => finish(err.message, errorKindOf(err)));
}

/** A non-streamed answer: its latency is its time to first token; tokens from its usage. */
function readWholeAnswer(
  res: http.IncomingMessage,
  out: RequestOutput,
  startMs: number,
  finish: Finish,
): void {
  let text = '';
  res.on('data', (c: string) => (text += c));
  res.on('end', () => {
    const now = performance.now();
    out.latencyS = (now - startMs) / 1000;
    out.ttftS = out.latencyS;
    try {
      const json = JSON.parse(text) as Chunk;
      if (json.usage) applyUsage(out, json.usage);
      finish();
    } catch (err) {
      finish(`invalid JSON answer: ${(err as Error).message}`, 'bad response');
    }
  });
  res.on('error', (err: NodeJS.ErrnoException) => finish(err.message, errorKindOf(err)));
}

/** A streamed answer: TTFT and inter-token gaps from the token events; it must end with [DONE]. */
function readStreamedAnswer(
  res: http.IncomingMessage,
  { out, startMs, isChat }: { out: RequestOutput; startMs: number; isChat: boolean },
  finish: Finish,
): void {
  const parser = new SseParser();
  let lastTokenMs = 0;
  let tokenEvents = 0;
  let sawDone = false;
  let failure: string | undefined;
  let hasUsage = false;
  const onEvents = (events: ReturnType<SseParser['push']>, now: number): void => {
    for (const ev of events) {
      if (sawDone || failure !== undefined) return;
      if (isDoneEvent(ev)) {
        sawDone = true;
        return;
      }
      if (isErrorEvent(ev)) {
        failure = `error event in the stream: ${ev.data.slice(0, 300)}`;
        return;
      }
      let chunk: Chunk;
      try {
        chunk = JSON.parse(ev.data) as Chunk;
      } catch {
        failure = `invalid JSON chunk: ${ev.data.slice(0, 100)}`;
        return;
      }
      if (isTokenChunk(chunk, isChat)) {
        if (tokenEvents === 0) out.ttftS = (now - startMs) / 1000;
        else out.itlS.push((now - lastTokenMs) / 1000);
        lastTokenMs = now;
        tokenEvents += 1;
      }
      if (chunk.usage) {
        applyUsage(out, chunk.usage);
        hasUsage = hasUsage || chunk.usage.completion_tokens !== undefined;
      }
    }
  };
  res.on('data', (c: string) => onEvents(parser.push(c), performance.now()));
  res.on('end', () => {
    onEvents(parser.end(), performance.now());
    if (!hasUsage) out.outputTokens = tokenEvents;
    out.latencyS = tokenEvents > 0 ? (lastTokenMs - startMs) / 1000 : 0;
    if (failure !== undefined) finish(failure, 'error event');
    else if (!sawDone) finish('the stream ended without [DONE]', 'stream cut');
    else if (tokenEvents === 0) finish('no token received', 'no tokens');
    else finish();
  });
  res.on('error', (err: NodeJS.ErrnoException) => finish(err.message, errorKindOf(err)));
  res.on('aborted', () => finish('the stream was cut', 'stream cut'));
}

function applyUsage(out: RequestOutput, usage: Usage): void {
  if (typeof usage.completion_tokens === 'number') out.outputTokens = usage.completion_tokens;
  if (typeof usage.prompt_tokens === 'number') out.promptTokens = usage.prompt_tokens;
}
