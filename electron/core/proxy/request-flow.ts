// The disaggregated request flow of trtllm-protocol.md section 5 as pure functions: entry checks,
// the context request, the checks on the context answer, the generation request and the
// "context already finished" rule. The server (proxy-server.ts) only does I/O around these.
// Layer: core (no I/O here, so it is unit-tested directly).
import type { RouteRequest } from '../../../shared/logic/routers/types';
import { contextParamsText, generationParamsText } from './disagg-params';
import type { JsonMember } from './json-splice';
import { quoteKey, scanObjectMembers, unwrapTokenListText } from './json-splice';

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
// The same rules on JSON text: what the server runs. Members are spliced as text so large values (chat
// history, prompt token ids) are byte copies, never parsed and re-serialised on the event loop. The
// object-based functions above define the semantics; tests check both agree.

/** A request or answer body as text plus its top-level members. */
export interface RawJson {
  text: string;
  members: Map<string, JsonMember>;
}

export function rawJsonOf(text: string): RawJson | undefined {
  const members = scanObjectMembers(text);
  return members ? { text, members } : undefined;
}

/** The raw text of a member, or undefined. */
export function memberText(b: RawJson, key: string): string | undefined {
  const m = b.members.get(key);
  return m ? b.text.slice(m.start, m.end) : undefined;
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

/** Rebuilds `b` with members replaced (`null` drops one) and others appended, original order kept. */
export function spliceJson(
  b: RawJson,
  replace: ReadonlyMap<string, string | null>,
  append: ReadonlyArray<readonly [string, string]> = [],
): string {
  // Built by concatenation (no pairs array): this runs twice per request on the proxy's hot path.
  let out = '{';
  let isFirst = true;
  const text = b.text;
  for (const [k, m] of b.members) {
    const r = replace.get(k);
    if (r === null) continue;
    out += (isFirst ? '' : ',') + quoteKey(k) + ':' + (r ?? text.slice(m.start, m.end));
    isFirst = false;
  }
  for (let i = 0; i < append.length; i++) {
    const [k, v] = append[i] as readonly [string, string];
    if (b.members.has(k) && replace.get(k) !== null) continue;
    out += (isFirst ? '' : ',') + quoteKey(k) + ':' + v;
    isFirst = false;
  }
  return out + '}';
}

/** 5.1 on text: the prompt's raw text after unwrapping (completions), or an error. */
export function validateRawClientRequest(
  endpoint: Endpoint,
  b: RawJson,
): FlowCheck<{ promptText?: string }> {
  const refuse: FlowCheck<{ promptText?: string }> = {
    ok: false,
    status: 400,
    message:
      'Disaggregated server currently only supports single string prompt or list of integers in request',
  };
  if (endpoint === 'chat') {
    const m = memberText(b, 'messages');
    if (m === undefined || m.trimStart()[0] !== '[') {
      return { ok: false, status: 400, message: "'messages' must be a list" };
    }
    return { ok: true, value: {} };
  }
  const p = memberText(b, 'prompt');
  if (p === undefined) return refuse;
  const first = p[0];
  if (first === '"') return { ok: true, value: { promptText: p } };
  if (first !== '[') return refuse;
  const afterBracket = p.slice(1).trimStart()[0];
  if (afterBracket === '"') {
    // A list of strings: small in practice; parse it to unwrap exactly one.
    const v = memberValue(b, 'prompt');
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') {
      return { ok: true, value: { promptText: JSON.stringify(v[0]) } };
    }
    return refuse;
  }
  if (afterBracket === ']') return { ok: true, value: { promptText: p } };
  const ids = unwrapTokenListText(p);
  return ids === undefined ? refuse : { ok: true, value: { promptText: ids } };
}

const CTX_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['disaggregated_params', '{"request_type":"context_only"}'],
  ['stream', 'false'],
  ['stream_options', 'null'],
];

const CTX_DROPPED: ReadonlyMap<string, string | null> = new Map([
  ['disaggregated_params', null],
  ['stream', null],
  ['stream_options', null],
]);

/** 5.3 on text: the client's members verbatim (prompt unwrapped), the three overrides. */
export function buildContextRequestText(b: RawJson, promptText: string | undefined): string {
  const replace =
    promptText === undefined ? CTX_DROPPED : new Map(CTX_DROPPED).set('prompt', promptText);
  return spliceJson(b, replace, CTX_OVERRIDES);
}

export interface RawContextResult extends ContextResult {
  /** `prompt_token_ids` of the answer as text (a byte copy of the worker's array), if present and not null. */
  promptTokenIdsText?: string;
  /**
   * The generation request's `disaggregated_params` as text: the context answer's object byte for byte with
   * only `request_type` changed, so fields of newer releases reach the generation worker (disagg-params.ts).
   */
  genParamsText?: string;
}

const PROMPT_TOKENS = /"prompt_tokens"\s*:\s*(\d+)/;

/** 5.3 checks on the context answer text; `choices` and `usage` are parsed, the token ids stay text. */
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
  const ids = memberText(a, 'prompt_token_ids');
  const value: RawContextResult = { ...checked.value };
  if (ids !== undefined && ids !== 'null') value.promptTokenIdsText = ids;
  const choicesText = memberText(a, 'choices');
  const paramsText = choicesText === undefined ? undefined : contextParamsText(choicesText);
  const genParams = paramsText === undefined ? undefined : generationParamsText(paramsText);
  if (genParams !== undefined) value.genParamsText = genParams;
  return { ok: true, value };
}

/** 5.5 on text: the context answer with `choices[0].disaggregated_params` removed. */
export function finishedContextText(a: RawJson): string {
  const choices = memberValue(a, 'choices');
  if (!Array.isArray(choices)) return a.text;
  return spliceJson(
    a,
    new Map([['choices', JSON.stringify(withoutFirstChoiceParams(choices as JsonObject[]))]]),
  );
}

/** 5.4 on text: params replaced, completions' prompt := the ids text, chat gets prompt_token_ids. */
export function buildGenerationRequestText(
  endpoint: Endpoint,
  b: RawJson,
  ctx: RawContextResult,
  promptText: string | undefined,
): string {
  const params = ctx.genParamsText ?? JSON.stringify(ctx.params);
  const replace = new Map<string, string | null>([['disaggregated_params', params]]);
  const append: Array<[string, string]> = [['disaggregated_params', params]];
  const ids = ctx.promptTokenIdsText;
  if (endpoint === 'completions') {
    const prompt = ids ?? promptText;
    if (prompt !== undefined) replace.set('prompt', prompt);
  } else if (ids !== undefined) {
    replace.set('prompt_token_ids', ids);
    append.push(['prompt_token_ids', ids]);
  }
  return spliceJson(b, replace, append);
}

/** 5.7 on text. */
export function buildGenOnlyBenchmarkText(b: RawJson, promptText: string | undefined): string {
  const params =
    '{"request_type":"generation_only","first_gen_tokens":[7],"ctx_request_id":1,"encoded_opaque_state":null,"draft_tokens":null}';
  const replace = new Map<string, string | null>([
    ['disaggregated_params', params],
    ['ignore_eos', 'true'],
  ]);
  if (promptText !== undefined) replace.set('prompt', promptText);
  return spliceJson(b, replace, [
    ['disaggregated_params', params],
    ['ignore_eos', 'true'],
  ]);
}
