// Upstream's chat request validators, written once for the proxy (on the raw request's members) and the
// simulated worker (on the parsed body): `check_tool_choice`, `check_logprobs` and
// `ensure_request_chat_template_allowed` (docs/upstream-versions.md section 6; openai_protocol.py).
// Layer: shared (pure).
import type { TrtllmDialect } from './trtllm-dialect';

/** Read access to a request's top-level fields. */
export interface RequestFields {
  has(key: string): boolean;
  /** The field's value (JSON null as null), undefined when absent. */
  get(key: string): unknown;
}

export interface RuleViolation {
  message: string;
  param: string;
}

/** `check_tool_choice`: 1.3 lets null/none/auto through and wants a non-empty tools list; older releases only none. */
function toolChoiceViolation(fields: RequestFields, dialect: TrtllmDialect): RuleViolation | null {
  if (!fields.has('tool_choice')) return null;
  const choice = fields.get('tool_choice');
  const tools = fields.get('tools');
  const isFree = dialect.allowsAutoToolChoiceWithoutTools
    ? choice === null || choice === 'none' || choice === 'auto'
    : choice === 'none';
  const hasTools = dialect.allowsAutoToolChoiceWithoutTools
    ? Array.isArray(tools) && tools.length > 0
    : tools !== undefined && tools !== null;
  return isFree || hasTools
    ? null
    : { message: 'When using `tool_choice`, `tools` must be set.', param: 'tool_choice' };
}

/** `check_logprobs` (note upstream's `is False`: an explicit `logprobs: null` passes). */
function logprobsViolation(fields: RequestFields): RuleViolation | null {
  const top = fields.get('top_logprobs');
  if (top === undefined || top === null) return null;
  if (!fields.has('logprobs') || fields.get('logprobs') === false) {
    return {
      message: 'when using `top_logprobs`, `logprobs` must be set to true.',
      param: 'top_logprobs',
    };
  }
  if (typeof top === 'number' && top < 0) {
    return { message: '`top_logprobs` must be a value a positive value.', param: 'top_logprobs' };
  }
  return null;
}

/** `ensure_request_chat_template_allowed` (1.3). */
function chatTemplateViolation(
  fields: RequestFields,
  dialect: TrtllmDialect,
  allowRequestChatTemplate: boolean,
): RuleViolation | null {
  const template = fields.get('chat_template');
  if (
    !dialect.gatesRequestChatTemplate ||
    allowRequestChatTemplate ||
    template === undefined ||
    template === null
  ) {
    return null;
  }
  return {
    message:
      'chat_template cannot be supplied per request unless request-level chat templates are enabled at server startup.',
    param: 'chat_template',
  };
}

/** The first chat rule the request breaks, in upstream's order, or null. */
export function chatRuleViolation(
  fields: RequestFields,
  dialect: TrtllmDialect,
  allowRequestChatTemplate: boolean,
): RuleViolation | null {
  return (
    toolChoiceViolation(fields, dialect) ??
    logprobsViolation(fields) ??
    chatTemplateViolation(fields, dialect, allowRequestChatTemplate)
  );
}

/** RequestFields over a parsed JSON object. */
export function objectFields(body: Readonly<Record<string, unknown>>): RequestFields {
  return { has: (key) => key in body, get: (key) => body[key] };
}
