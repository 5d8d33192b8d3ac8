// Response bodies of the simulated worker, shaped exactly as upstream's pydantic models serialise them
// (trtllm-protocol.md 4.3, 4.4, 4.8): non-streaming bodies are `model_dump()` (null fields present, in field
// order), completion stream chunks are dumped with all fields, chat stream chunks with `exclude_none`, the
// chat first chunk line ends with `" \n\n"`, and the completions final usage chunk is a *chat* chunk.
// Layer: electron/sim (plain Node; pure).
import { randomUUID } from 'node:crypto';

export interface UsageOut {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export interface DisaggParamsOut {
  request_type: string;
  first_gen_tokens: number[] | null;
  ctx_request_id: number | null;
  encoded_opaque_state: string | null;
  draft_tokens: number[] | null;
  /** Fields of newer releases (disagg_request_id, ctx_dp_rank, ctx_info_endpoint, ctx_usage, ...). */
  [field: string]: unknown;
}

export function usage(
  promptTokens: number,
  completionTokens: number,
  cachedTokens: number,
): UsageOut {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

export function completionId(): string {
  return `cmpl-${randomUUID().replace(/-/g, '')}`;
}

export function chatCompletionId(): string {
  return `chatcmpl-${randomUUID().replace(/-/g, '')}`;
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** Upstream's ErrorResponse (4.8): 400 for validation failures and request errors. */
export function errorResponse(
  message: string,
  type = 'BadRequestError',
  code = 400,
): Record<string, unknown> {
  return { object: 'error', message, type, param: null, code };
}

export interface ChoiceResult {
  index: number;
  text: string;
  tokenIds: number[] | null;
  finishReason: string | null;
  stopReason: string | number | null;
  disaggregatedParams: DisaggParamsOut | null;
}

/** The fields every non-streamed answer carries, in upstream's order, around its kind's choices. */
function responseBody(
  head: { id: string; object: string; model: string },
  choices: Record<string, unknown>[],
  usageOut: UsageOut,
  promptTokenIds: number[] | null,
): Record<string, unknown> {
  return {
    id: head.id,
    object: head.object,
    created: nowSec(),
    model: head.model,
    choices,
    usage: usageOut,
    prompt_token_ids: promptTokenIds,
  };
}

/** One `/v1/completions` choice, in upstream's CompletionResponseChoice field order. */
function completionChoice(choice: ChoiceResult): Record<string, unknown> {
  return {
    index: choice.index,
    text: choice.text,
    token_ids: choice.tokenIds,
    logprobs: null,
    context_logits: null,
    finish_reason: choice.finishReason,
    stop_reason: choice.stopReason,
    disaggregated_params: choice.disaggregatedParams,
    avg_decoded_tokens_per_iter: null,
  };
}

/** One `/v1/chat/completions` choice, in upstream's ChatCompletionResponseChoice field order. */
function chatChoice(choice: ChoiceResult): Record<string, unknown> {
  return {
    index: choice.index,
    message: {
      role: 'assistant',
      content: choice.text,
      reasoning_content: '',
      reasoning: null,
      tool_calls: [],
    },
    logprobs: null,
    finish_reason: choice.finishReason,
    stop_reason: choice.stopReason,
    mm_embedding_handle: null,
    disaggregated_params: choice.disaggregatedParams,
    avg_decoded_tokens_per_iter: null,
  };
}

/** What differs between the two non-streamed answers: the id's prefix, `object`, and a choice's shape. */
const NON_STREAMED = {
  completion: { newId: completionId, object: 'text_completion', shapeChoice: completionChoice },
  chat: { newId: chatCompletionId, object: 'chat.completion', shapeChoice: chatChoice },
} as const;

/** A non-streamed `/v1/completions` (`completion`) or `/v1/chat/completions` (`chat`) answer (4.3, 4.4). */
export function nonStreamedResponse(
  endpoint: keyof typeof NON_STREAMED,
  answer: {
    model: string;
    choices: ChoiceResult[];
    usageOut: UsageOut;
    promptTokenIds: number[] | null;
  },
): Record<string, unknown> {
  const kind = NON_STREAMED[endpoint];
  return responseBody(
    { id: kind.newId(), object: kind.object, model: answer.model },
    answer.choices.map(kind.shapeChoice),
    answer.usageOut,
    answer.promptTokenIds,
  );
}

/** One `/v1/completions` stream chunk, all fields (model_dump_json with exclude_unset=False). */
export function completionChunk(
  model: string,
  index: number,
  delta: {
    text: string;
    tokenIds: number[] | null;
    finishReason: string | null;
    stopReason: string | number | null;
  },
  usageOut: UsageOut | null,
): string {
  const body = {
    id: completionId(),
    object: 'text_completion',
    created: nowSec(),
    model,
    choices: [
      {
        index,
        text: delta.text,
        token_ids: delta.tokenIds,
        logprobs: null,
        finish_reason: delta.finishReason,
        stop_reason: delta.stopReason,
        avg_decoded_tokens_per_iter: null,
      },
    ],
    usage: usageOut,
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** The chat first chunk (`delta.role`), exclude_none; upstream writes a space before the blank line. */
export function chatFirstChunk(model: string, index: number, usageOut: UsageOut | null): string {
  const body: Record<string, unknown> = {
    id: chatCompletionId(),
    object: 'chat.completion.chunk',
    created: nowSec(),
    model,
    choices: [{ index, delta: { role: 'assistant' } }],
  };
  if (usageOut) body.usage = usageOut;
  return `data: ${JSON.stringify(body)} \n\n`;
}

/** A chat content chunk, exclude_none (reasoning_content is "" rather than null, so it is present). */
export function chatContentChunk(
  model: string,
  index: number,
  delta: { text: string; finishReason: string | null; stopReason: string | number | null },
  usageOut: UsageOut | null,
): string {
  const choice: Record<string, unknown> = {
    index,
    delta: { content: delta.text, reasoning_content: '' },
  };
  if (delta.finishReason !== null) choice.finish_reason = delta.finishReason;
  if (delta.stopReason !== null) choice.stop_reason = delta.stopReason;
  const body: Record<string, unknown> = {
    id: chatCompletionId(),
    object: 'chat.completion.chunk',
    created: nowSec(),
    model,
    choices: [choice],
  };
  if (usageOut) body.usage = usageOut;
  return `data: ${JSON.stringify(body)}\n\n`;
}

/**
 * The final usage chunk (stream_options.include_usage). Quirk (4.4): upstream builds it as a chat chunk for
 * both endpoints, dumped with all fields.
 */
export function finalUsageChunk(model: string, usageOut: UsageOut): string {
  const body = {
    id: chatCompletionId(),
    object: 'chat.completion.chunk',
    created: nowSec(),
    model,
    choices: [],
    usage: usageOut,
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

export const DONE_LINE = 'data: [DONE]\n\n';
