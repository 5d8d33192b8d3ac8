// Upstream's request validators before any worker call (docs/upstream-versions.md section 6).
import { describe, expect, it } from 'vitest';

import { rawJsonOf } from '../../../../electron/core/proxy/request-flow';
import { checkUpstreamRules } from '../../../../electron/core/proxy/request-validate';
import { dialectOf } from '../../../../shared/logic/trtllm-dialect';

function check(
  endpoint: 'chat' | 'completions',
  body: Record<string, unknown>,
  over: Partial<Parameters<typeof checkUpstreamRules>[2]> = {},
) {
  const raw = rawJsonOf(JSON.stringify(body));
  if (!raw) throw new Error('test body is not an object');
  return checkUpstreamRules(endpoint, raw, { dialect: dialectOf('1.3'), ...over });
}

const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('checkUpstreamRules', () => {
  it('accepts a plain request', () => {
    expect(check('chat', chat)).toEqual({ ok: true });
    expect(check('completions', { model: 'm', prompt: 'hi', max_tokens: 0 })).toEqual({ ok: true });
  });

  it.each([
    [{ top_logprobs: 2 }, 'when using `top_logprobs`, `logprobs` must be set to true.'],
    [
      { top_logprobs: 2, logprobs: false },
      'when using `top_logprobs`, `logprobs` must be set to true.',
    ],
    [{ top_logprobs: -1, logprobs: true }, '`top_logprobs` must be a value a positive value.'],
    [
      { stream_options: { include_usage: true } },
      'stream_options can only be set if stream is true',
    ],
    [{ tool_choice: 'required' }, 'When using `tool_choice`, `tools` must be set.'],
    [{ tool_choice: 'required', tools: [] }, 'When using `tool_choice`, `tools` must be set.'],
    [{ max_tokens: -1 }, 'max_tokens must be a non-negative integer, got -1'],
    [
      { max_completion_tokens: 1.5 },
      'max_completion_tokens must be a non-negative integer, got 1.5',
    ],
    [
      { chat_template: '{{x}}' },
      'chat_template cannot be supplied per request unless request-level chat templates are enabled at server startup.',
    ],
    [{ model: 42 }, '`model` must be a string naming the served model'],
  ])('refuses chat %j', (extra, message) => {
    const v = check('chat', { ...chat, ...extra });
    expect(v).toMatchObject({ ok: false, status: 400, message });
  });

  it('keeps upstream quirks: logprobs null passes, auto tool_choice without tools passes on 1.3 only', () => {
    expect(check('chat', { ...chat, top_logprobs: 2, logprobs: null }).ok).toBe(true);
    expect(check('chat', { ...chat, tool_choice: 'auto' }).ok).toBe(true);
    expect(check('chat', { ...chat, tool_choice: 'auto' }, { dialect: dialectOf('1.2') }).ok).toBe(
      false,
    );
  });

  it('chat_template is allowed by the YAML switch and on releases before 1.3', () => {
    expect(
      check('chat', { ...chat, chat_template: 'x' }, { allowRequestChatTemplate: true }).ok,
    ).toBe(true);
    expect(check('chat', { ...chat, chat_template: 'x' }, { dialect: dialectOf('1.1') }).ok).toBe(
      true,
    );
  });

  it('refuses an unknown model when the workers list theirs', () => {
    expect(check('completions', { model: 'x', prompt: 'p' }, { knownModels: ['m'] })).toMatchObject(
      { ok: false, param: 'model' },
    );
    expect(check('completions', { model: 'm', prompt: 'p' }, { knownModels: ['m'] }).ok).toBe(true);
    expect(check('completions', { model: 'x', prompt: 'p' }, { knownModels: [] }).ok).toBe(true);
  });

  it('completions: stream_options without stream', () => {
    expect(check('completions', { model: 'm', prompt: 'p', stream_options: {} })).toMatchObject({
      message: 'Stream options can only be defined when stream is true.',
    });
    expect(
      check('completions', { model: 'm', prompt: 'p', stream_options: {}, stream: true }).ok,
    ).toBe(true);
  });
});
