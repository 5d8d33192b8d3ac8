// The disaggregated request flow of trtllm-protocol.md section 5 as pure functions: entry checks,
// the context request, the checks on the context answer, the generation request and the
// "context already finished" rule. The server (proxy-server.ts) only does I/O around these.
// Layer: core (no I/O here, so it is unit-tested directly).
import type { RouteRequest } from '../../../shared/logic/routers/types';
import { contextParamsText, generationParamsText } from './disagg-params';
import type { JsonMember } from './json-splice';
import { scanObjectMembers, setMembers, skipWs, unwrapTokenListRange } from './json-splice';

export type Endpoint = 'completions' | 'chat';

export type JsonObject = Record<string, unknown>;

/**
 * OpenAI-side DisaggregatedParams: the five fields of Oct 2025 named, and whatever newer releases add
 * (docs/upstream-versions.md section 1) kept as the context worker sent them.
 */
export interface DisaggParams {
  request_type: string;
  first_gen_tokens?: unknown;
  ctx_request_id?: unknown;
  encoded_opaque_state?: unknown;
  draft_tokens?: unknown;
  [field: string]: unknown;
}

export type FlowCheck<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIntArray(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== 'number' || !Number.isInteger(x)) return false;
  return true;
}

/**
 * Entry validation (5.1). Completions: a one-element list prompt is unwrapped; a list of ints is kept;
 * several prompts are refused (upstream answers 500, we answer 400: it is the client's request).
 */
export function validateClientRequest(endpoint: Endpoint, body: unknown): FlowCheck<JsonObject> {
  if (!isObject(body)) {
    return { ok: false, status: 400, message: 'Request body must be a JSON object' };
  }
  if (endpoint === 'completions') {
    const p = body['prompt'];
    if (typeof p === 'string') return { ok: true, value: body };
    if (Array.isArray(p)) {
      if (p.length === 1 && (typeof p[0] === 'string' || isIntArray(p[0]))) {
        return { ok: true, value: { ...body, prompt: p[0] } };
      }
      if (isIntArray(p)) return { ok: true, value: body };
    }
    return {
      ok: false,
      status: 400,
      message:
        'Disaggregated server currently only supports single string prompt or list of integers in request',
    };
  }
  if (!Array.isArray(body['messages'])) {
    return { ok: false, status: 400, message: "'messages' must be a list" };
  }
  return { ok: true, value: body };
}

/** What the routers see of a request. */
export function routeRequestOf(
  endpoint: Endpoint,
  body: JsonObject,
  requestType?: string,
): RouteRequest {
  if (endpoint === 'completions') {
    const p = body['prompt'];
    return {
      endpoint,
      prompt: typeof p === 'string' || isIntArray(p) ? p : undefined,
      requestType,
    };
  }
  const ids = body['prompt_token_ids'];
  return {
    endpoint,
    messages: body['messages'],
    promptTokenIds: isIntArray(ids) ? ids : undefined,
    requestType,
  };
}

/**
 * The context request (5.3): the client's request with only `disaggregated_params`, `stream` and
 * `stream_options` replaced; every other field is the client's, untouched.
 */
export function buildContextRequest(body: JsonObject): JsonObject {
  return {
    ...body,
    disaggregated_params: { request_type: 'context_only' },
    stream: false,
    stream_options: null,
  };
}

export interface ContextResult {
  params: DisaggParams;
  /** Top-level `prompt_token_ids` of the context answer (completions: the ids of the one prompt). */
  promptTokenIds: unknown;
  finishReason: unknown;
  /** Prompt token count when the answer carried usage (for records). */
  promptTokens?: number;
}

/**
 * Checks on the context answer (5.3, `_verify_ctx_response`): one choice, disaggregated_params present
 * with a ctx_request_id. Extra or missing optional fields are accepted (workers of other versions).
 */
export function checkContextResponse(json: unknown): FlowCheck<ContextResult> {
  if (!isObject(json)) {
    return { ok: false, status: 502, message: 'Context server returned a non-object response' };
  }
  const choices = json['choices'];
  if (!Array.isArray(choices) || choices.length !== 1) {
    return { ok: false, status: 502, message: 'Context server did not return exactly one choice' };
  }
  const choice: unknown = choices[0];
  if (!isObject(choice)) {
    return { ok: false, status: 502, message: 'Context server returned an invalid choice' };
  }
  const dp = choice['disaggregated_params'];
  if (!isObject(dp)) {
    return {
      ok: false,
      status: 502,
      message: 'Context server did not return disaggregated params',
    };
  }
  if (dp['ctx_request_id'] === null || dp['ctx_request_id'] === undefined) {
    return {
      ok: false,
      status: 502,
      message: 'Invalid disaggregated params in context phase response',
    };
  }
  // Upstream copies the context's params and changes only request_type: no field is dropped.
  const params: DisaggParams = { ...dp, request_type: 'generation_only' };
  const usage = json['usage'];
  const pt = isObject(usage) ? usage['prompt_tokens'] : undefined;
  return {
    ok: true,
    value: {
      params,
      promptTokenIds: json['prompt_token_ids'],
      finishReason: choice['finish_reason'],
      promptTokens: typeof pt === 'number' ? pt : undefined,
    },
  };
}

/**
 * 5.5: the generation phase is skipped when the context phase already finished, i.e. its
 * finish_reason is not "length" or "not_finished" (a null reason also skips).
 */
export function contextAlreadyFinished(finishReason: unknown): boolean {
  return finishReason !== 'length' && finishReason !== 'not_finished';
}

/** `choices` with the first choice's `disaggregated_params` removed (5.5). */
function withoutFirstChoiceParams(choices: JsonObject[]): JsonObject[] {
  return choices.map((c, i) => {
    if (i !== 0) return c;
    const copy = { ...c };
    delete copy['disaggregated_params'];
    return copy;
  });
}

/** 5.5 non-streaming: the context answer with `choices[0].disaggregated_params` removed. */
export function finishedContextBody(json: JsonObject): JsonObject {
  return { ...json, choices: withoutFirstChoiceParams(json['choices'] as JsonObject[]) };
}

/**
 * The generation request (5.4): the client's request with the context's params (request_type flipped
 * to generation_only, only the five known fields); completions get `prompt` replaced by the context's
 * `prompt_token_ids`, chat gets `prompt_token_ids` added (messages kept).
 */
export function buildGenerationRequest(
  endpoint: Endpoint,
  body: JsonObject,
  ctx: ContextResult,
): JsonObject {
  const gen: JsonObject = { ...body, disaggregated_params: ctx.params };
  if (ctx.promptTokenIds !== undefined && ctx.promptTokenIds !== null) {
    if (endpoint === 'completions') gen['prompt'] = ctx.promptTokenIds;
    else gen['prompt_token_ids'] = ctx.promptTokenIds;
  }
  return gen;
}

/** Gen-only benchmark mode (5.7): no context phase, fixed params and `ignore_eos`. */
export function buildGenOnlyBenchmarkRequest(body: JsonObject): JsonObject {
  return {
    ...body,
    disaggregated_params: {
      request_type: 'generation_only',
      first_gen_tokens: [7],
      ctx_request_id: 1,
      encoded_opaque_state: null,
      draft_tokens: null,
    },
    ignore_eos: true,
  };
}

// ---------------------------------------------------------------------------------------------------
// The same rules on the bytes: what the server runs. A body is scanned once (json-splice.ts, on its
// latin1 decoding, so character offsets are byte offsets) and each request sent on is the bytes the body
// came in with, only the members we must change set (`setMembers`): large values (chat history, the
// prompt, the context's token ids) are views, never decoded, parsed or re-encoded. The object-based
// functions above define the semantics; tests check both agree.

/** A request or answer body: its bytes and its top-level members (byte ranges). */
export interface RawJson {
  bytes: Buffer;
  members: Map<string, JsonMember>;
}

/** A body as RawJson, or undefined when it is not one JSON object (a string is taken as UTF-8). */
export function rawJsonOf(body: Buffer | string): RawJson | undefined {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const members = scanObjectMembers(bytes);
  return members ? { bytes, members } : undefined;
}

/** The text of a member, UTF-8 decoded; undefined when absent. Meant for small members. */
export function memberText(b: RawJson, key: string): string | undefined {
  const m = b.members.get(key);
  return m ? b.bytes.toString('utf8', m.start, m.end) : undefined;
}

/** A member's bytes (a view of the body), or undefined. */
export function memberBytes(b: RawJson, key: string): Buffer | undefined {
  const m = b.members.get(key);
  return m ? b.bytes.subarray(m.start, m.end) : undefined;
}

/** A member parsed (for small members only); undefined when absent or not valid JSON. */
export function memberValue(b: RawJson, key: string): unknown {
  const t = memberText(b, key);
  if (t === undefined) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

/** `b` with members set (a present one replaced where it stands, a missing one appended): views of its bytes. */
export function withMembers(
  b: RawJson,
  values: ReadonlyArray<readonly [string, Buffer]>,
): Buffer[] {
  return setMembers(b.bytes, b.members, values);
}

/** The bytes of several chunks as one buffer (tests, and small bodies written in one piece). */
export function joinChunks(chunks: readonly Buffer[]): Buffer {
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

const QUOTE = 34;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

const ONE_PROMPT_ONLY =
  'Disaggregated server currently only supports single string prompt or list of integers in request';

/** 5.1 on the bytes: the prompt's bytes after unwrapping (completions), or an error. */
export function validateRawClientRequest(
  endpoint: Endpoint,
  b: RawJson,
): FlowCheck<{ prompt?: Buffer }> {
  const refuse = { ok: false, status: 400, message: ONE_PROMPT_ONLY } as const;
  // Framing is looked at on the bytes (ASCII brackets and quotes), so a large value is not decoded.
  if (endpoint === 'chat') {
    const m = b.members.get('messages');
    if (m === undefined || b.bytes[m.start] !== OPEN_BRACKET) {
      return { ok: false, status: 400, message: "'messages' must be a list" };
    }
    return { ok: true, value: {} };
  }
  const m = b.members.get('prompt');
  if (m === undefined) return refuse;
  const first = b.bytes[m.start];
  if (first === QUOTE) return { ok: true, value: { prompt: memberBytes(b, 'prompt') } };
  if (first !== OPEN_BRACKET) return refuse;
  const afterBracket = b.bytes[skipWs(b.bytes, m.start + 1)];
  if (afterBracket === QUOTE) {
    // A list of strings: small in practice; parse it to unwrap exactly one.
    const v = memberValue(b, 'prompt');
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') {
      return { ok: true, value: { prompt: Buffer.from(JSON.stringify(v[0])) } };
    }
    return refuse;
  }
  if (afterBracket === CLOSE_BRACKET) {
    return { ok: true, value: { prompt: memberBytes(b, 'prompt') } };
  }
  const ids = unwrapTokenListRange(b.bytes.subarray(m.start, m.end));
  if (ids === undefined) return refuse;
  return { ok: true, value: { prompt: b.bytes.subarray(m.start + ids.start, m.start + ids.end) } };
}

/** `['prompt', prompt]` when the prompt differs from the body's own member (unwrapped), else nothing. */
function promptEdit(b: RawJson, prompt: Buffer | undefined): Array<[string, Buffer]> {
  if (prompt === undefined) return [];
  const m = b.members.get('prompt');
  const isOwn =
    m !== undefined &&
    prompt.buffer === b.bytes.buffer &&
    prompt.byteOffset === b.bytes.byteOffset + m.start &&
    prompt.length === m.end - m.start;
  return isOwn ? [] : [['prompt', prompt]];
}

const CONTEXT_ONLY_PARAMS = Buffer.from('{"request_type":"context_only"}');
const JSON_FALSE = Buffer.from('false');
const JSON_NULL = Buffer.from('null');
const JSON_TRUE = Buffer.from('true');

/** 5.3 on the bytes: the client's body verbatim (prompt unwrapped), the three overrides. */
export function buildContextRequestBytes(b: RawJson, prompt: Buffer | undefined): Buffer[] {
  return withMembers(b, [
    ['disaggregated_params', CONTEXT_ONLY_PARAMS],
    ['stream', JSON_FALSE],
    ['stream_options', JSON_NULL],
    ...promptEdit(b, prompt),
  ]);
}

export interface RawContextResult extends ContextResult {
  /** `prompt_token_ids` of the answer (a view of the worker's bytes), if present and not null. */
  promptTokenIdsBytes?: Buffer;
  /**
   * The generation request's `disaggregated_params` as text: the context answer's object byte for byte with
   * only `request_type` changed, so fields of newer releases reach the generation worker (disagg-params.ts).
   */
  genParamsText?: string;
}

const PROMPT_TOKENS = /"prompt_tokens"\s*:\s*(\d+)/;

/** 5.3 checks on the context answer; `choices` and `usage` are parsed, the token ids stay bytes. */
export function checkContextResponseText(a: RawJson): FlowCheck<RawContextResult> {
  const choices = memberValue(a, 'choices');
  // Only usage.prompt_tokens is read: a pattern on the member's text, not a parse.
  const usageText = memberText(a, 'usage');
  const pt = usageText === undefined ? undefined : PROMPT_TOKENS.exec(usageText);
  const checked = checkContextResponse({
    choices,
    usage: pt ? { prompt_tokens: Number(pt[1]) } : undefined,
  });
  if (!checked.ok) return checked;
  const ids = memberBytes(a, 'prompt_token_ids');
  const value: RawContextResult = { ...checked.value };
  if (ids !== undefined && !ids.equals(JSON_NULL)) value.promptTokenIdsBytes = ids;
  const choicesBytes = memberBytes(a, 'choices');
  const paramsText = choicesBytes === undefined ? undefined : contextParamsText(choicesBytes);
  const genParams = paramsText === undefined ? undefined : generationParamsText(paramsText);
  if (genParams !== undefined) value.genParamsText = genParams;
  return { ok: true, value };
}

/** 5.5 on the bytes: the context answer with `choices[0].disaggregated_params` removed. */
export function finishedContextBytes(a: RawJson): Buffer {
  const choices = memberValue(a, 'choices');
  if (!Array.isArray(choices)) return a.bytes;
  const edited = JSON.stringify(withoutFirstChoiceParams(choices as JsonObject[]));
  return joinChunks(withMembers(a, [['choices', Buffer.from(edited)]]));
}

/** 5.4 on the bytes: params set, completions' prompt := the context's ids, chat gets prompt_token_ids. */
export function buildGenerationRequestBytes(
  endpoint: Endpoint,
  b: RawJson,
  ctx: RawContextResult,
  prompt: Buffer | undefined,
): Buffer[] {
  const params = Buffer.from(ctx.genParamsText ?? JSON.stringify(ctx.params));
  const values: Array<[string, Buffer]> = [['disaggregated_params', params]];
  const ids = ctx.promptTokenIdsBytes;
  if (endpoint === 'chat') {
    if (ids !== undefined) values.push(['prompt_token_ids', ids]);
  } else if (ids !== undefined) values.push(['prompt', ids]);
  else values.push(...promptEdit(b, prompt));
  return withMembers(b, values);
}

const GEN_ONLY_BENCHMARK_PARAMS = Buffer.from(
  '{"request_type":"generation_only","first_gen_tokens":[7],"ctx_request_id":1,"encoded_opaque_state":null,"draft_tokens":null}',
);

/** 5.7 on the bytes. */
export function buildGenOnlyBenchmarkBytes(b: RawJson, prompt: Buffer | undefined): Buffer[] {
  return withMembers(b, [
    ['disaggregated_params', GEN_ONLY_BENCHMARK_PARAMS],
    ['ignore_eos', JSON_TRUE],
    ...promptEdit(b, prompt),
  ]);
}

/** 5.2 / conditional disaggregation: the client's body to the generation worker, prompt unwrapped. */
export function directGenerationBytes(b: RawJson, prompt: Buffer | undefined): Buffer[] {
  const edit = promptEdit(b, prompt);
  return edit.length === 0 ? [b.bytes] : withMembers(b, edit);
}
