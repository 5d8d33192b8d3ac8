// Upstream's request validators, run on the client's request before any worker is called
// (docs/upstream-versions.md section 6; upstream openai_protocol.py `check_logprobs`, `check_tool_choice`,
// `validate_stream_options`, `ensure_request_chat_template_allowed`): a request upstream refuses with 400
// is refused here with 400 too, instead of costing a context prefill first. Only small members are parsed;
// large ones (messages, prompt, tools) are looked at as text. Layer: core (pure).
import type { TrtllmDialect } from '../../../shared/logic/trtllm-dialect';
import type { Endpoint, RawJson } from './request-flow';
import { memberText, memberValue } from './request-flow';

export interface ValidationOptions {
  dialect: TrtllmDialect;
  /** Model ids the workers list on /v1/models; empty or absent: not checked. */
  knownModels?: readonly string[];
  /** Disaggregated YAML `allow_request_chat_template` (1.3: default false). */
  allowRequestChatTemplate?: boolean;
}

export type RequestVerdict = { ok: true } | { ok: false; status: 400; message: string; param: string | null };

function refuse(message: string, param: string | null): RequestVerdict {
  return { ok: false, status: 400, message, param };
}

/** Present and not JSON null (as text, so large members are not parsed). */
function isSet(b: RawJson, key: string): boolean {
  const t = memberText(b, key);
  return t !== undefined && t.trim() !== 'null';
}

/** Chat `check_logprobs` (note upstream's `is False`: an explicit `logprobs: null` passes). */
function checkLogprobs(b: RawJson): RequestVerdict {
  const top = memberValue(b, 'top_logprobs');
  if (top === undefined || top === null) return { ok: true };
  if (!b.members.has('logprobs') || memberValue(b, 'logprobs') === false) {
    return refuse('when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
  }
  if (typeof top === 'number' && top < 0) return refuse('`top_logprobs` must be a value a positive value.', 'top_logprobs');
  return { ok: true };
}

/** Chat `check_tool_choice`: 1.3 lets `auto` through without tools; older releases only `none`. */
function checkToolChoice(b: RawJson, dialect: TrtllmDialect): RequestVerdict {
  if (!b.members.has('tool_choice')) return { ok: true };
  const choice = memberValue(b, 'tool_choice');
  const isFree = dialect.allowsAutoToolChoiceWithoutTools ? choice === null || choice === 'none' || choice === 'auto' : choice === 'none';
  if (isFree || isToolListGiven(b, dialect)) return { ok: true };
  return refuse('When using `tool_choice`, `tools` must be set.', 'tool_choice');
}

function isToolListGiven(b: RawJson, dialect: TrtllmDialect): boolean {
  if (!isSet(b, 'tools')) return false;
  // 1.3 asks for a non-empty list (`not data.get("tools")`).
  return !dialect.allowsAutoToolChoiceWithoutTools || (memberText(b, 'tools') ?? '').replace(/\s/g, '') !== '[]';
}

function checkStreamOptions(endpoint: Endpoint, b: RawJson): RequestVerdict {
  if (!isSet(b, 'stream_options') || memberValue(b, 'stream') === true) return { ok: true };
  const message = endpoint === 'chat' ? 'stream_options can only be set if stream is true' : 'Stream options can only be defined when stream is true.';
  return refuse(message, 'stream_options');
}

/** Ours, not upstream's wording: a negative or fractional token budget can never run. */
function checkMaxTokens(endpoint: Endpoint, b: RawJson): RequestVerdict {
  for (const key of endpoint === 'chat' ? ['max_completion_tokens', 'max_tokens'] : ['max_tokens']) {
    const v = memberValue(b, key);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      return refuse(`${key} must be a non-negative integer, got ${JSON.stringify(v)}`, key);
    }
  }
  return { ok: true };
}

function checkModel(b: RawJson, knownModels: readonly string[] | undefined): RequestVerdict {
  if (!b.members.has('model')) return { ok: true };
  const model = memberValue(b, 'model');
  if (typeof model !== 'string') return refuse('`model` must be a string naming the served model', 'model');
  if (knownModels && knownModels.length > 0 && !knownModels.includes(model)) {
    return refuse(`The model \`${model}\` does not exist. Served: ${knownModels.join(', ')}`, 'model');
  }
  return { ok: true };
}

function checkChatTemplate(b: RawJson, options: ValidationOptions): RequestVerdict {
  if (!options.dialect.gatesRequestChatTemplate || options.allowRequestChatTemplate || !isSet(b, 'chat_template')) return { ok: true };
  return refuse('chat_template cannot be supplied per request unless request-level chat templates are enabled at server startup.', 'chat_template');
}

/** Every rule in upstream's order of evaluation; the first refusal wins. */
export function checkUpstreamRules(endpoint: Endpoint, b: RawJson, options: ValidationOptions): RequestVerdict {
  const checks: Array<() => RequestVerdict> = [
    () => checkStreamOptions(endpoint, b),
    ...(endpoint === 'chat' ? [() => checkToolChoice(b, options.dialect), () => checkLogprobs(b)] : []),
    () => checkModel(b, options.knownModels),
    () => checkMaxTokens(endpoint, b),
    ...(endpoint === 'chat' ? [() => checkChatTemplate(b, options)] : []),
  ];
  for (const check of checks) {
    const verdict = check();
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}
