// Upstream's request validators, run on the client's request before any worker is called
// (docs/upstream-versions.md section 6; upstream openai_protocol.py `check_logprobs`, `check_tool_choice`,
// `validate_stream_options`, `ensure_request_chat_template_allowed`): a request upstream refuses with 400
// is refused here with 400 too, instead of costing a context prefill first. Only small members are parsed;
// large ones (messages, prompt, tools) are looked at as text. Layer: core (pure).
import { chatRuleViolation, type RequestFields } from '../../../shared/logic/trtllm-chat-rules';
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

export type RequestVerdict =
  { ok: true } | { ok: false; status: 400; message: string; param: string | null };

function refuse(message: string, param: string | null): RequestVerdict {
  return { ok: false, status: 400, message, param };
}

/** Present and not JSON null (as text, so large members are not parsed). */
function isSet(b: RawJson, key: string): boolean {
  const t = memberText(b, key);
  return t !== undefined && t.trim() !== 'null';
}

/** The raw request's members as RequestFields (members are parsed only when a rule reads them). */
function rawFields(b: RawJson): RequestFields {
  return { has: (key) => b.members.has(key), get: (key) => memberValue(b, key) };
}

function checkChatRules(b: RawJson, options: ValidationOptions): RequestVerdict {
  const violation = chatRuleViolation(
    rawFields(b),
    options.dialect,
    options.allowRequestChatTemplate === true,
  );
  return violation === null ? { ok: true } : refuse(violation.message, violation.param);
}

function checkStreamOptions(endpoint: Endpoint, b: RawJson): RequestVerdict {
  if (!isSet(b, 'stream_options') || memberValue(b, 'stream') === true) return { ok: true };
  const message =
    endpoint === 'chat'
      ? 'stream_options can only be set if stream is true'
      : 'Stream options can only be defined when stream is true.';
  return refuse(message, 'stream_options');
}

/** Ours, not upstream's wording: a negative or fractional token budget can never run. */
function checkMaxTokens(endpoint: Endpoint, b: RawJson): RequestVerdict {
  for (const key of endpoint === 'chat'
    ? ['max_completion_tokens', 'max_tokens']
    : ['max_tokens']) {
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
  if (typeof model !== 'string') {
    return refuse('`model` must be a string naming the served model', 'model');
  }
  if (knownModels && knownModels.length > 0 && !knownModels.includes(model)) {
    return refuse(
      `The model \`${model}\` does not exist. Served: ${knownModels.join(', ')}`,
      'model',
    );
  }
  return { ok: true };
}

/** Every rule in upstream's order of evaluation; the first refusal wins. */
export function checkUpstreamRules(
  endpoint: Endpoint,
  b: RawJson,
  options: ValidationOptions,
): RequestVerdict {
  const checks: Array<() => RequestVerdict> = [
    () => checkStreamOptions(endpoint, b),
    ...(endpoint === 'chat' ? [() => checkChatRules(b, options)] : []),
    () => checkModel(b, options.knownModels),
    () => checkMaxTokens(endpoint, b),
  ];
  for (const check of checks) {
    const verdict = check();
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}
