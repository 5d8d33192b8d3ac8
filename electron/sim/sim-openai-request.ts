// Validation of `/v1/completions` and `/v1/chat/completions` bodies as upstream's pydantic request models do
// (trtllm-protocol.md 4.2): `extra="forbid"` (an unknown field is a 400), the model validators that reject
// `logprobs`/`suffix`, `stream_options` without `stream`, and the DisaggregatedParams fields of the emulated
// release (five in Oct 2025; docs/upstream-versions.md section 1 for 1.2 and 1.3, and section 6 for the chat
// validators). The field lists are upstream's CompletionRequest / ChatCompletionRequest (openai_protocol.py,
// Oct 2025). Layer: electron/sim (plain Node; pure functions).
import { chatRuleViolation, objectFields } from '../../shared/logic/trtllm-chat-rules';
import { dialectOf, type TrtllmDialect } from '../../shared/logic/trtllm-dialect';

/** What an emulated release checks beyond the pydantic shapes (docs/upstream-versions.md sections 1 and 6). */
export interface RequestRules {
  dialect: TrtllmDialect;
  /** The worker's `allow_request_chat_template` (1.3 refuses a per-request chat_template without it). */
  allowRequestChatTemplate: boolean;
}

/** The Oct 2025 worker (the sim's default dialect). */
export const DEFAULT_REQUEST_RULES: RequestRules = {
  dialect: dialectOf('1.1'),
  allowRequestChatTemplate: false,
};

/** The sampling fields both request models take from upstream's shared sampling parameters, in their order. */
const SAMPLING_PARAM_FIELDS: readonly string[] = [
  'use_beam_search',
  'top_k',
  'top_p_min',
  'min_p',
  'repetition_penalty',
  'length_penalty',
  'early_stopping',
  'stop_token_ids',
  'include_stop_str_in_output',
  'ignore_eos',
  'min_tokens',
  'skip_special_tokens',
  'spaces_between_special_tokens',
  'truncate_prompt_tokens',
];

/** Every field CompletionRequest accepts. */
export const COMPLETION_REQUEST_FIELDS: readonly string[] = [
  'model',
  'prompt',
  'best_of',
  'echo',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'max_tokens',
  'n',
  'presence_penalty',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'suffix',
  'temperature',
  'top_p',
  'user',
  'lora_request',
  ...SAMPLING_PARAM_FIELDS,
  'return_context_logits',
  'detokenize',
  'add_special_tokens',
  'response_format',
  'disaggregated_params',
];

/** Every field ChatCompletionRequest accepts (`max_tokens` is the input alias of `max_completion_tokens`). */
export const CHAT_REQUEST_FIELDS: readonly string[] = [
  'messages',
  'prompt_token_ids',
  'model',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'max_completion_tokens',
  'max_tokens',
  'n',
  'presence_penalty',
  'response_format',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
  'user',
  'reasoning_effort',
  'best_of',
  ...SAMPLING_PARAM_FIELDS,
  'lora_request',
  'echo',
  'add_generation_prompt',
  'add_special_tokens',
  'documents',
  'chat_template',
  'chat_template_kwargs',
  'disaggregated_params',
  'cache_salt',
];

export type RequestType = 'context_only' | 'generation_only' | 'context_and_generation';

export interface DisaggParamsIn {
  request_type: RequestType;
  first_gen_tokens: number[] | null;
  ctx_request_id: number | null;
  encoded_opaque_state: string | null;
  draft_tokens: number[] | null;
  /** The object as sent (what a signature covers, and the newer fields the sim echoes). */
  raw: Record<string, unknown>;
}

/** The sampling and output settings the simulator acts on, common to both endpoints. */
export interface SimSamplingRequest {
  model: string;
  maxTokens: number | null;
  n: number;
  isStream: boolean;
  includeUsage: boolean;
  isContinuousUsage: boolean;
  temperature: number;
  topP: number;
  seed: number;
  stop: string[];
  stopTokenIds: number[];
  shouldIncludeStopStr: boolean;
  shouldIgnoreEos: boolean;
  minTokens: number;
  isEcho: boolean;
  shouldDetokenize: boolean;
  disagg: DisaggParamsIn | null;
  /** The client asked for per-request metrics and the emulated worker returns them (set by the server). */
  wantsMetrics?: boolean;
}

export interface CompletionRequestIn extends SimSamplingRequest {
  kind: 'completion';
  /** The prompts: text or token ids (the proxy's gen request sends ids); one choice set per prompt. */
  prompts: (string | number[])[];
}

export interface ChatMessageIn {
  role: string;
  content: string;
}

export interface ChatRequestIn extends SimSamplingRequest {
  kind: 'chat';
  messages: ChatMessageIn[];
  promptTokenIds: number[] | null;
  shouldAddGenerationPrompt: boolean;
}

export type ParsedRequest<T> = { ok: true; value: T } | { ok: false; message: string };

interface PydanticError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
}

function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value) ?? '';
}

/** FastAPI's RequestValidationError text: the list of pydantic error dicts in Python repr. */
export function formatValidationErrors(errors: PydanticError[]): string {
  const items = errors.map(
    (e) =>
      `{'type': '${e.type}', 'loc': (${e.loc.map(pyRepr).join(', ')}${e.loc.length === 1 ? ',' : ''}), 'msg': ${pyRepr(e.msg)}, 'input': ${pyRepr(e.input)}}`,
  );
  return `[${items.join(', ')}]`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x));
}

class Checker {
  readonly errors: PydanticError[] = [];

  constructor(
    private readonly body: Json,
    private readonly disaggFields: readonly string[],
  ) {}

  private err(type: string, loc: (string | number)[], msg: string, input: unknown): void {
    this.errors.push({ type, loc: ['body', ...loc], msg, input });
  }

  extra(allowed: readonly string[], obj: Json, path: (string | number)[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        this.err('extra_forbidden', [...path, key], 'Extra inputs are not permitted', obj[key]);
      }
    }
  }

  str(key: string, isRequired: boolean): string | null {
    const v = this.body[key];
    if (v === undefined || (v === null && !isRequired)) {
      if (isRequired) this.err('missing', [key], 'Field required', this.body);
      return null;
    }
    if (typeof v !== 'string') {
      this.err('string_type', [key], 'Input should be a valid string', v);
      return null;
    }
    return v;
  }

  int(key: string, min: number | null = null): number | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.err('int_type', [key], 'Input should be a valid integer', v);
      return null;
    }
    if (min !== null && v < min) {
      this.err('greater_than_equal', [key], `Input should be greater than or equal to ${min}`, v);
      return null;
    }
    return v;
  }

  num(key: string): number | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number') {
      this.err('float_type', [key], 'Input should be a valid number', v);
      return null;
    }
    return v;
  }

  bool(key: string): boolean | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'boolean') {
      this.err('bool_type', [key], 'Input should be a valid boolean', v);
      return null;
    }
    return v;
  }

  intList(key: string): number[] | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (!isIntArray(v)) {
      this.err('list_type', [key], 'Input should be a valid list of integers', v);
      return null;
    }
    return v;
  }

  stop(): string[] {
    const v = this.body.stop;
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((s): s is string => typeof s === 'string')) return v;
    this.err('string_type', ['stop'], 'Input should be a valid string or a list of strings', v);
    return [];
  }

  disagg(): DisaggParamsIn | null {
    const v = this.body.disaggregated_params;
    if (v === undefined || v === null) return null;
    if (!isObject(v)) {
      this.err(
        'model_type',
        ['disaggregated_params'],
        'Input should be a valid dictionary or instance of DisaggregatedParams',
        v,
      );
      return null;
    }
    this.extra(this.disaggFields, v, ['disaggregated_params']);
    const requestType = v.request_type;
    if (requestType === undefined) {
      this.err('missing', ['disaggregated_params', 'request_type'], 'Field required', v);
      return null;
    }
    if (typeof requestType !== 'string') {
      this.err(
        'string_type',
        ['disaggregated_params', 'request_type'],
        'Input should be a valid string',
        requestType,
      );
      return null;
    }
    const ids = (k: string): number[] | null => {
      const x = v[k];
      if (x === undefined || x === null) return null;
      if (!isIntArray(x)) {
        this.err('list_type', ['disaggregated_params', k], 'Input should be a valid list', x);
        return null;
      }
      return x;
    };
    const ctxId = v.ctx_request_id;
    if (ctxId !== undefined && ctxId !== null && !Number.isInteger(ctxId)) {
      this.err(
        'int_type',
        ['disaggregated_params', 'ctx_request_id'],
        'Input should be a valid integer',
        ctxId,
      );
    }
    const opaque = v.encoded_opaque_state;
    if (opaque !== undefined && opaque !== null && typeof opaque !== 'string') {
      this.err(
        'string_type',
        ['disaggregated_params', 'encoded_opaque_state'],
        'Input should be a valid string',
        opaque,
      );
    }
    return {
      request_type: requestType as RequestType,
      first_gen_tokens: ids('first_gen_tokens'),
      ctx_request_id: typeof ctxId === 'number' ? ctxId : null,
      encoded_opaque_state: typeof opaque === 'string' ? opaque : null,
      draft_tokens: ids('draft_tokens'),
      raw: v,
    };
  }

  streamOptions(isStream: boolean): { includeUsage: boolean; isContinuous: boolean } {
    const v = this.body.stream_options;
    if (v === undefined || v === null) return { includeUsage: false, isContinuous: false };
    if (!isObject(v)) {
      this.err(
        'model_type',
        ['stream_options'],
        'Input should be a valid dictionary or instance of StreamOptions',
        v,
      );
      return { includeUsage: false, isContinuous: false };
    }
    this.extra(['include_usage', 'continuous_usage_stats'], v, ['stream_options']);
    if (!isStream) return { includeUsage: false, isContinuous: false };
    // StreamOptions defaults (Oct 2025): include_usage=True, continuous_usage_stats=True once the object is present.
    const includeUsage =
      v.include_usage === undefined || v.include_usage === null ? true : v.include_usage === true;
    const continuous =
      v.continuous_usage_stats === undefined || v.continuous_usage_stats === null
        ? true
        : v.continuous_usage_stats === true;
    return { includeUsage, isContinuous: includeUsage && continuous };
  }
}

/** A `model_validator(mode="before")` failure: pydantic reports it as a value_error on the body. */
function valueError(message: string): { ok: false; message: string } {
  return {
    ok: false,
    message: formatValidationErrors([
      { type: 'value_error', loc: ['body'], msg: `Value error, ${message}`, input: null },
    ]),
  };
}

function common(c: Checker, body: Json, maxTokensKey: string): SimSamplingRequest {
  const isStream = c.bool('stream') ?? false;
  const usage = c.streamOptions(isStream);
  const model = c.str('model', true) ?? '';
  return {
    model,
    maxTokens:
      c.int(maxTokensKey) ??
      (maxTokensKey === 'max_completion_tokens' ? c.int('max_tokens') : null),
    n: c.int('n', 1) ?? 1,
    isStream,
    includeUsage: usage.includeUsage,
    isContinuousUsage: usage.isContinuous,
    // Upstream maps a missing temperature / top_p to 1.0 (to_sampling_params).
    temperature: c.num('temperature') ?? 1,
    topP: c.num('top_p') ?? 1,
    // A missing seed samples with the executor's default seed 0, so runs are reproducible.
    seed: c.int('seed') ?? 0,
    stop: c.stop(),
    stopTokenIds: c.intList('stop_token_ids') ?? [],
    shouldIncludeStopStr: c.bool('include_stop_str_in_output') ?? false,
    shouldIgnoreEos: c.bool('ignore_eos') ?? false,
    minTokens: c.int('min_tokens', 0) ?? 0,
    isEcho: c.bool('echo') ?? false,
    shouldDetokenize: body.detokenize === undefined ? true : (c.bool('detokenize') ?? true),
    disagg: c.disagg(),
  };
}

function chatRuleError(body: Json, rules: RequestRules): string | null {
  return (
    chatRuleViolation(objectFields(body), rules.dialect, rules.allowRequestChatTemplate)?.message ??
    null
  );
}

function beforeValidators(
  body: Json,
  kind: 'completion' | 'chat',
  rules: RequestRules,
): string | null {
  if (kind === 'completion' && body.logprobs) return 'logprobs is not supported';
  if (body.suffix) return 'suffix is not supported';
  if (kind === 'completion' && body.stream_options && !body.stream) {
    return 'Stream options can only be defined when stream is true.';
  }
  if (
    kind === 'chat' &&
    body.stream_options !== undefined &&
    body.stream_options !== null &&
    !body.stream
  ) {
    return 'stream_options can only be set if stream is true';
  }
  return kind === 'chat' ? chatRuleError(body, rules) : null;
}

/** The steps both parsers start with: the body must be an object, pass the before-validators, and carry no
 *  field outside its kind's list; then the checker collects the rest of the errors. */
function openRequest(
  raw: unknown,
  kind: 'completion' | 'chat',
  rules: RequestRules,
): { ok: true; body: Json; checker: Checker } | { ok: false; message: string } {
  if (!isObject(raw)) {
    return {
      ok: false,
      message: formatValidationErrors([
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: raw,
        },
      ]),
    };
  }
  const before = beforeValidators(raw, kind, rules);
  if (before !== null) return valueError(before);
  const checker = new Checker(raw, rules.dialect.disaggParamFields);
  checker.extra(kind === 'chat' ? CHAT_REQUEST_FIELDS : COMPLETION_REQUEST_FIELDS, raw, []);
  return { ok: true, body: raw, checker };
}

/** Parses a `/v1/completions` body. */
export function parseCompletionRequest(
  raw: unknown,
  rules: RequestRules = DEFAULT_REQUEST_RULES,
): ParsedRequest<CompletionRequestIn> {
  const opened = openRequest(raw, 'completion', rules);
  if (!opened.ok) return opened;
  const { body, checker: c } = opened;
  const base = common(c, body, 'max_tokens');
  let prompts: (string | number[])[] = [];
  const p = body.prompt;
  if (p === undefined) {
    c.errors.push({ type: 'missing', loc: ['body', 'prompt'], msg: 'Field required', input: body });
  } else if (typeof p === 'string') prompts = [p];
  else if (isIntArray(p) && p.length > 0) prompts = [p];
  // Union[List[int], List[List[int]], str, List[str]]: several prompts give several sets of choices.
  else if (Array.isArray(p) && p.length > 0 && p.every((x): x is string => typeof x === 'string')) {
    prompts = p;
  } else if (Array.isArray(p) && p.length > 0 && p.every((x): x is number[] => isIntArray(x))) {
    prompts = p;
  } else {
    c.errors.push({
      type: 'union_tag_invalid',
      loc: ['body', 'prompt'],
      msg: 'Input should be a valid string, a list of strings or a list of (lists of) integers',
      input: p,
    });
  }
  if (c.errors.length > 0) return { ok: false, message: formatValidationErrors(c.errors) };
  return { ok: true, value: { ...base, kind: 'completion', prompts } };
}

function messageText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    const parts: string[] = [];
    for (const part of content) {
      if (!isObject(part) || typeof part.type !== 'string') return null;
      if (part.type === 'text' && typeof part.text === 'string') parts.push(part.text);
    }
    return parts.join('\n');
  }
  return null;
}

/** Parses a `/v1/chat/completions` body. */
export function parseChatRequest(
  raw: unknown,
  rules: RequestRules = DEFAULT_REQUEST_RULES,
): ParsedRequest<ChatRequestIn> {
  const opened = openRequest(raw, 'chat', rules);
  if (!opened.ok) return opened;
  const { body, checker: c } = opened;
  const base = common(c, body, 'max_completion_tokens');
  const messages: ChatMessageIn[] = [];
  const m = body.messages;
  if (m === undefined) {
    c.errors.push({
      type: 'missing',
      loc: ['body', 'messages'],
      msg: 'Field required',
      input: body,
    });
  } else if (!Array.isArray(m)) {
    c.errors.push({
      type: 'list_type',
      loc: ['body', 'messages'],
      msg: 'Input should be a valid list',
      input: m,
    });
  } else {
    m.forEach((msg, i) => {
      const text = isObject(msg) ? messageText(msg.content) : null;
      if (!isObject(msg) || typeof msg.role !== 'string' || text === null) {
        c.errors.push({
          type: 'model_type',
          loc: ['body', 'messages', i],
          msg: 'Input should be a valid chat message with a role and content',
          input: msg,
        });
        return;
      }
      messages.push({ role: msg.role, content: text });
    });
  }
  const promptTokenIds = c.intList('prompt_token_ids');
  const addGen = c.bool('add_generation_prompt');
  if (c.errors.length > 0) return { ok: false, message: formatValidationErrors(c.errors) };
  return {
    ok: true,
    value: {
      ...base,
      kind: 'chat',
      messages,
      promptTokenIds,
      shouldAddGenerationPrompt: addGen ?? true,
    },
  };
}
