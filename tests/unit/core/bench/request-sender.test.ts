// Request building: the endpoint URL as benchmark_serving builds it, and bodies trtllm-serve accepts
// (stream_options only with stream: true, protocol 4.2; greedy by default; chat's max_completion_tokens).
import http from 'node:http';

import { describe, expect, it } from 'vitest';

import {
  endpointUrl,
  requestBody,
  type RequestTarget,
} from '../../../../electron/core/bench/request-sender';

function target(over: Partial<RequestTarget>): RequestTarget {
  return {
    url: new URL('http://127.0.0.1:8000/v1/completions'),
    endpoint: '/v1/completions',
    model: 'm',
    agent: new http.Agent(),
    isStreaming: true,
    shouldIgnoreEos: false,
    timeoutMs: 1000,
    ...over,
  };
}

describe('request building', () => {
  it.each([
    ['http://h:8000', 'http://h:8000/v1/completions'],
    ['http://h:8000/', 'http://h:8000/v1/completions'],
    ['http://h/prefix/', 'http://h/prefix/v1/completions'],
  ])('endpointUrl(%s) keeps any path prefix', (base, expected) => {
    expect(endpointUrl(base, '/v1/completions').href).toBe(expected);
  });

  it('completions: prompt, max_tokens, usage requested on streams, ignore_eos and extras', () => {
    const body = JSON.parse(
      requestBody(target({ shouldIgnoreEos: true, extraBody: { temperature: 0.7, top_p: 0.9 } }), {
        prompt: 'a b',
        promptLen: 2,
        outputLen: 5,
      }),
    ) as Record<string, unknown>;
    expect(body).toEqual({
      model: 'm',
      temperature: 0.7,
      top_p: 0.9,
      prompt: 'a b',
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
      ignore_eos: true,
    });
  });

  it('chat: one user message and max_completion_tokens; no stream_options when not streaming', () => {
    const body = JSON.parse(
      requestBody(target({ endpoint: '/v1/chat/completions', isStreaming: false }), {
        prompt: 'hi',
        promptLen: 1,
        outputLen: 3,
      }),
    ) as Record<string, unknown>;
    expect(body).toEqual({
      model: 'm',
      temperature: 0,
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 3,
      stream: false,
    });
  });
});
