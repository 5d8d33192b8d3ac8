import { describe, expect, it } from 'vitest';

import {
  CHAT_REQUEST_FIELDS,
  COMPLETION_REQUEST_FIELDS,
  parseChatRequest,
  parseCompletionRequest,
} from '../../../../electron/sim/sim-openai-request';

describe('parseCompletionRequest', () => {
  it('fills upstream defaults', () => {
    const r = parseCompletionRequest({ model: 'm', prompt: 'hi' });
    expect(r).toEqual({
      ok: true,
      value: expect.objectContaining({
        kind: 'completion',
        model: 'm',
        prompts: ['hi'],
        maxTokens: null,
        n: 1,
        isStream: false,
        includeUsage: false,
        temperature: 1,
        topP: 1,
        seed: 0,
        stop: [],
        shouldDetokenize: true,
        disagg: null,
      }) as unknown,
    });
  });

  it.each([
    [
      { stream: true, stream_options: {} },
      { includeUsage: true, isContinuousUsage: true },
    ],
    [
      { stream: true, stream_options: { include_usage: true, continuous_usage_stats: false } },
      { includeUsage: true, isContinuousUsage: false },
    ],
    [
      { stream: true, stream_options: { include_usage: false } },
      { includeUsage: false, isContinuousUsage: false },
    ],
    [{ stop: 'x' }, { stop: ['x'] }],
    [{ prompt: [[1, 2, 3]] }, { prompts: [[1, 2, 3]] }],
    [{ prompt: [1, 2, 3] }, { prompts: [[1, 2, 3]] }],
    [{ prompt: ['a', 'b'] }, { prompts: ['a', 'b'] }],
    [{ prompt: ['only one'] }, { prompts: ['only one'] }],
    [
      { disaggregated_params: { request_type: 'context_only' } },
      {
        disagg: {
          request_type: 'context_only',
          first_gen_tokens: null,
          ctx_request_id: null,
          encoded_opaque_state: null,
          draft_tokens: null,
        },
      },
    ],
  ])('reads %j', (extra, expected) => {
    const r = parseCompletionRequest({ model: 'm', prompt: 'hi', ...extra });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toMatchObject(expected);
  });

  it.each([
    [
      { unknown_field: 1 },
      "{'type': 'extra_forbidden', 'loc': ('body', 'unknown_field'), 'msg': 'Extra inputs are not permitted', 'input': 1}",
    ],
    [
      { disaggregated_params: { request_type: 'generation_only', schedule_style: 'x' } },
      "('body', 'disaggregated_params', 'schedule_style')",
    ],
    [
      { disaggregated_params: {} },
      "'type': 'missing', 'loc': ('body', 'disaggregated_params', 'request_type')",
    ],
    [{ suffix: 'x' }, 'suffix is not supported'],
    [{ prompt: { a: 1 } }, "('body', 'prompt')"],
    [{ temperature: 'hot' }, "('body', 'temperature')"],
    [{ n: 0 }, 'greater than or equal to 1'],
  ])('rejects %j', (extra, message) => {
    const r = parseCompletionRequest({ model: 'm', prompt: 'hi', ...extra });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('rejects a missing model and mixed or empty prompt lists', () => {
    const noModel = parseCompletionRequest({ prompt: 'x' });
    expect(!noModel.ok && noModel.message).toContain("'type': 'missing', 'loc': ('body', 'model')");
    expect(parseCompletionRequest({ model: 'm', prompt: ['a', [1]] }).ok).toBe(false);
    expect(parseCompletionRequest({ model: 'm', prompt: [] }).ok).toBe(false);
  });

  it('accepts every upstream CompletionRequest field name', () => {
    expect(COMPLETION_REQUEST_FIELDS).toContain('include_stop_str_in_output');
    expect(COMPLETION_REQUEST_FIELDS).not.toContain('max_completion_tokens');
  });
});

describe('parseChatRequest', () => {
  const messages = [{ role: 'user', content: 'hello' }];

  it('reads messages, prompt_token_ids and the max_tokens alias', () => {
    const r = parseChatRequest({ model: 'm', messages, max_tokens: 7, prompt_token_ids: [1, 2] });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value).toMatchObject({
        kind: 'chat',
        maxTokens: 7,
        promptTokenIds: [1, 2],
        shouldAddGenerationPrompt: true,
        messages: [{ role: 'user', content: 'hello' }],
      });
    }
    const r2 = parseChatRequest({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
      max_completion_tokens: 3,
    });
    expect(r2.ok && r2.value).toMatchObject({ maxTokens: 3, messages: [{ content: 'a\nb' }] });
  });

  it.each([
    [
      { stream_options: { include_usage: true } },
      'stream_options can only be set if stream is true',
    ],
    [{ tool_choice: 'auto' }, 'When using `tool_choice`, `tools` must be set.'],
    [{ messages: 'hi' }, "('body', 'messages')"],
    [{ bogus: 1 }, "('body', 'bogus')"],
  ])('rejects %j', (extra, message) => {
    const r = parseChatRequest({ model: 'm', messages, ...extra });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('knows upstream chat-only fields', () => {
    for (const f of [
      'prompt_token_ids',
      'cache_salt',
      'chat_template_kwargs',
      'add_generation_prompt',
      'reasoning_effort',
    ]) {
      expect(CHAT_REQUEST_FIELDS).toContain(f);
    }
  });
});
