// The disaggregated request flow of trtllm-protocol.md section 5 as pure functions: entry checks,
// the context request, the checks on the context answer, the generation request and the
// "context already finished" rule. The server (proxy-server.ts) only does I/O around these.
// Layer: core (no I/O here, so it is unit-tested directly).
import type { RouteRequest } from '../../../shared/logic/routers/types';

export type Endpoint = 'completions' | 'chat';

export type JsonObject = Record<string, unknown>;

/** The five OpenAI-side DisaggregatedParams fields an Oct 2025 worker accepts (section 4.2, extra="forbid"). */
export interface DisaggParams {
  request_type: string;
  first_gen_tokens?: unknown;
  ctx_request_id?: unknown;
  encoded_opaque_state?: unknown;
  draft_tokens?: unknown;
}

const DISAGG_FIELDS = ['first_gen_tokens', 'ctx_request_id', 'encoded_opaque_state', 'draft_tokens'] as const;

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
  if (!isObject(body)) return { ok: false, status: 400, message: 'Request body must be a JSON object' };
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
      message: 'Disaggregated server currently only supports single string prompt or list of integers in request',
    };
  }
  if (!Array.isArray(body['messages'])) return { ok: false, status: 400, message: "'messages' must be a list" };
  return { ok: true, value: body };
}

/** What the routers see of a request. */
export function routeRequestOf(endpoint: Endpoint, body: JsonObject, requestType?: string): RouteRequest {
  if (endpoint === 'completions') {
    const p = body['prompt'];
    return { endpoint, prompt: typeof p === 'string' || isIntArray(p) ? p : undefined, requestType };
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
  if (!isObject(json)) return { ok: false, status: 502, message: 'Context server returned a non-object response' };
  const choices = json['choices'];
  if (!Array.isArray(choices) || choices.length !== 1) {
    return { ok: false, status: 502, message: 'Context server did not return exactly one choice' };
  }
  const choice: unknown = choices[0];
  if (!isObject(choice)) return { ok: false, status: 502, message: 'Context server returned an invalid choice' };
  const dp = choice['disaggregated_params'];
  if (!isObject(dp)) {
    return { ok: false, status: 502, message: 'Context server did not return disaggregated params' };
  }
  if (dp['ctx_request_id'] === null || dp['ctx_request_id'] === undefined) {
    return { ok: false, status: 502, message: 'Invalid disaggregated params in context phase response' };
  }
  const params: DisaggParams = { request_type: 'generation_only' };
  for (const f of DISAGG_FIELDS) if (f in dp) params[f] = dp[f];
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

/** 5.5 non-streaming: the context answer with `choices[0].disaggregated_params` removed. */
export function finishedContextBody(json: JsonObject): JsonObject {
  const choices = (json['choices'] as JsonObject[]).map((c, i) => {
    if (i !== 0) return c;
    const copy = { ...c };
    delete copy['disaggregated_params'];
    return copy;
  });
  return { ...json, choices };
}

/**
 * The generation request (5.4): the client's request with the context's params (request_type flipped
 * to generation_only, only the five known fields); completions get `prompt` replaced by the context's
 * `prompt_token_ids`, chat gets `prompt_token_ids` added (messages kept).
 */
export function buildGenerationRequest(endpoint: Endpoint, body: JsonObject, ctx: ContextResult): JsonObject {
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

/** OpenAI-shaped error body; never carries internal addresses (callers pass generic text). */
export function errorBody(message: string, status: number): string {
  const type = status === 401 ? 'authentication_error' : status < 500 ? 'invalid_request_error' : 'server_error';
  return JSON.stringify({ error: { message, type, param: null, code: status } });
}
