// The section 5 flow rules as pure functions (trtllm-protocol.md 5.1-5.5, 5.7).
import { describe, expect, it } from 'vitest';

import { errorBody } from '../../../../electron/core/proxy/openai-error';
import {
  buildContextRequest,
  buildGenerationRequest,
  buildGenOnlyBenchmarkRequest,
  checkContextResponse,
  contextAlreadyFinished,
  finishedContextBody,
  routeRequestOf,
  validateClientRequest,
} from '../../../../electron/core/proxy/request-flow';

const ctxAnswer = (
  over: Record<string, unknown> = {},
  dp: unknown = {
    request_type: 'context_only',
    first_gen_tokens: [5],
    ctx_request_id: 42,
    encoded_opaque_state: 'abc',
    draft_tokens: null,
  },
): Record<string, unknown> => ({
  id: 'cmpl-1',
  choices: [{ index: 0, text: 'Berlin', finish_reason: 'not_finished', disaggregated_params: dp }],
  usage: { prompt_tokens: 6, completion_tokens: 1 },
  prompt_token_ids: [1, 2, 3],
  ...over,
});

describe('validateClientRequest (5.1)', () => {
  it.each([
    ['a string', 'hi', 'hi'],
    ['a one-string list', ['hi'], 'hi'],
    ['a token list', [1, 2], [1, 2]],
    ['a one-token-list list', [[1, 2]], [1, 2]],
  ])('accepts %s', (_n, prompt, expected) => {
    const r = validateClientRequest('completions', { model: 'm', prompt });
    expect(r.ok && r.value['prompt']).toEqual(expected);
  });
  it.each([
    ['several prompts', ['a', 'b']],
    ['several token lists', [[1], [2]]],
    ['a number', 5],
    ['nothing', undefined],
  ])('refuses %s with 400', (_n, prompt) => {
    const r = validateClientRequest('completions', { model: 'm', prompt });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.status).toBe(400);
  });
  it('needs chat messages', () => {
    expect(validateClientRequest('chat', { model: 'm' }).ok).toBe(false);
    expect(validateClientRequest('chat', []).ok).toBe(false);
  });
});

describe('buildContextRequest (5.3)', () => {
  it('changes only disaggregated_params, stream and stream_options', () => {
    const body = {
      model: 'm',
      prompt: 'p',
      max_tokens: 9,
      temperature: 0.5,
      stream: true,
      stream_options: { include_usage: true },
      n: 1,
    };
    expect(buildContextRequest(body)).toEqual({
      ...body,
      stream: false,
      stream_options: null,
      disaggregated_params: { request_type: 'context_only' },
    });
    expect(body.stream).toBe(true);
  });
});

describe('checkContextResponse (5.3)', () => {
  it('keeps every param, newer fields included, with request_type flipped (issue #13)', () => {
    const r = checkContextResponse(
      ctxAnswer(
        {},
        {
          request_type: 'context_only',
          first_gen_tokens: [5],
          ctx_request_id: 42,
          encoded_opaque_state: 'abc',
          draft_tokens: null,
          disagg_request_id: 7,
          ctx_dp_rank: 0,
        },
      ),
    );
    expect(r.ok && r.value.params).toEqual({
      request_type: 'generation_only',
      first_gen_tokens: [5],
      ctx_request_id: 42,
      encoded_opaque_state: 'abc',
      draft_tokens: null,
      disagg_request_id: 7,
      ctx_dp_rank: 0,
    });
    expect(r.ok && r.value.promptTokens).toBe(6);
  });
  it('accepts missing optional fields (older workers)', () => {
    const r = checkContextResponse(
      ctxAnswer({ usage: undefined }, { request_type: 'context_only', ctx_request_id: 1 }),
    );
    expect(r.ok && r.value.params).toEqual({ request_type: 'generation_only', ctx_request_id: 1 });
  });
  it.each([
    ['not an object', 'x'],
    ['no choices', { choices: [] }],
    ['two choices', { choices: [{}, {}] }],
    ['null params', ctxAnswer({}, null)],
    ['null ctx_request_id', ctxAnswer({}, { request_type: 'context_only', ctx_request_id: null })],
  ])('refuses %s with 502', (_n, json) => {
    const r = checkContextResponse(json);
    expect(!r.ok && r.status).toBe(502);
  });
});

describe('contextAlreadyFinished (5.5)', () => {
  it.each([
    ['length', false],
    ['not_finished', false],
    ['stop', true],
    ['timeout', true],
    [null, true],
  ])('finish_reason %s -> skip generation: %s', (reason, skip) => {
    expect(contextAlreadyFinished(reason)).toBe(skip);
  });
  it('removes choices[0].disaggregated_params from the returned context answer', () => {
    const out = finishedContextBody(ctxAnswer());
    expect((out['choices'] as Array<Record<string, unknown>>)[0]).not.toHaveProperty(
      'disaggregated_params',
    );
    expect(out['prompt_token_ids']).toEqual([1, 2, 3]);
  });
});

describe('buildGenerationRequest (5.4)', () => {
  const r = checkContextResponse(ctxAnswer());
  const ctx = r.ok ? r.value : (undefined as never);
  it('completions: prompt replaced by the context prompt_token_ids', () => {
    const g = buildGenerationRequest(
      'completions',
      { model: 'm', prompt: 'hello', max_tokens: 4, stream: true },
      ctx,
    );
    expect(g).toEqual({
      model: 'm',
      prompt: [1, 2, 3],
      max_tokens: 4,
      stream: true,
      disaggregated_params: ctx.params,
    });
  });
  it('chat: prompt_token_ids added, messages kept', () => {
    const msgs = [{ role: 'user', content: 'hi' }];
    const g = buildGenerationRequest('chat', { model: 'm', messages: msgs }, ctx);
    expect(g).toEqual({
      model: 'm',
      messages: msgs,
      prompt_token_ids: [1, 2, 3],
      disaggregated_params: ctx.params,
    });
  });
  it('gen-only benchmark mode sends fixed params and ignore_eos (5.7)', () => {
    expect(buildGenOnlyBenchmarkRequest({ model: 'm', prompt: 'x' })).toEqual({
      model: 'm',
      prompt: 'x',
      ignore_eos: true,
      disaggregated_params: {
        request_type: 'generation_only',
        first_gen_tokens: [7],
        ctx_request_id: 1,
        encoded_opaque_state: null,
        draft_tokens: null,
      },
    });
  });
});

describe('routeRequestOf and errorBody', () => {
  it('describes requests for the routers', () => {
    expect(routeRequestOf('completions', { prompt: [1, 2] })).toEqual({
      endpoint: 'completions',
      prompt: [1, 2],
      requestType: undefined,
    });
    expect(
      routeRequestOf('chat', { messages: [], prompt_token_ids: [3] }, 'context_only'),
    ).toMatchObject({ endpoint: 'chat', promptTokenIds: [3], requestType: 'context_only' });
  });
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [503, 'server_error'],
  ])('status %i -> type %s', (status, type) => {
    expect(JSON.parse(errorBody('m', status))).toEqual({
      error: { message: 'm', type, param: null, code: status },
    });
  });
});
