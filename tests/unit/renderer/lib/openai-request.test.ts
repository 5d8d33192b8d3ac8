// Playground requests (renderer/lib/openai-request.ts, code-snippets.ts): bodies, streamed reading with
// metrics from the proxy's headers, errors, the timeline and the code snippets.
import { describe, expect, it } from 'vitest';

import { codeSnippet } from '../../../../renderer/lib/code-snippets';
import {
  buildRequestBody,
  buildRequestHeaders,
  type PlaygroundRequest,
  runStreamingRequest,
  type StreamFetch,
  timelineSegments,
} from '../../../../renderer/lib/openai-request';

const REQ: PlaygroundRequest = {
  mode: 'chat',
  model: 'm',
  systemPrompt: 'be brief',
  prompt: 'hi',
  params: { temperature: 0.5, topP: 0.9, maxTokens: 16, stop: ['\n\n'], seed: 7 },
  route: {},
};

function fakeFetch(
  chunks: string[],
  headers: Record<string, string> = {},
  status = 200,
): { fetch: StreamFetch; calls: { url: string; body: string; headers: Record<string, string> }[] } {
  const calls: { url: string; body: string; headers: Record<string, string> }[] = [];
  const enc = new TextEncoder();
  const fetch: StreamFetch = (url, init) => {
    calls.push({ url, body: init.body, headers: init.headers });
    let i = 0;
    return Promise.resolve({
      status,
      headers: { get: (n: string) => headers[n] ?? null },
      text: () => Promise.resolve(chunks.join('')),
      body: {
        getReader: () => ({
          read: () =>
            Promise.resolve(
              i < chunks.length ? { done: false, value: enc.encode(chunks[i++]) } : { done: true },
            ),
          cancel: () => Promise.resolve(),
        }),
      },
    });
  };
  return { fetch, calls };
}

function clock(step: number): () => number {
  let t = 1000;
  return () => (t += step);
}

describe('request body and headers', () => {
  it('builds a streaming chat body with usage, the system prompt and the parameters', () => {
    expect(buildRequestBody(REQ)).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      max_tokens: 16,
      temperature: 0.5,
      top_p: 0.9,
      stop: ['\n\n'],
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('builds a completions body with the system prompt in front and no stop or seed when unset', () => {
    const body = buildRequestBody({
      ...REQ,
      mode: 'completions',
      params: { ...REQ.params, stop: [], seed: null },
    });
    expect(body.prompt).toBe('be brief\n\nhi');
    expect(body).not.toHaveProperty('stop');
    expect(body).not.toHaveProperty('seed');
  });

  it('pins the route with the x-disagg headers only when chosen', () => {
    expect(buildRequestHeaders(REQ)).not.toHaveProperty('x-disagg-context-worker');
    const h = buildRequestHeaders({
      ...REQ,
      route: { contextWorker: 'localhost:8001', generationWorker: 'localhost:8002' },
    });
    expect(h['x-disagg-context-worker']).toBe('localhost:8001');
    expect(h['x-disagg-generation-worker']).toBe('localhost:8002');
  });
});

describe('runStreamingRequest', () => {
  it('streams text, reads usage and the workers from headers, and measures TTFT and TPOT', async () => {
    const { fetch, calls } = fakeFetch(
      [
        'data: {"choices":[{"delta":{"role":"assistant"}}]} \n\n',
        'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n',
        'data: {"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}\n\n',
        'data: [DONE]\n\n',
      ],
      {
        'x-disagg-context-worker': 'localhost:8001',
        'x-disagg-generation-worker': 'localhost:8002',
        'x-disagg-context-ms': '40',
        'x-disagg-handoff-ms': '3',
      },
    );
    let text = '';
    const m = await runStreamingRequest(
      fetch,
      'http://127.0.0.1:8000/',
      REQ,
      new AbortController().signal,
      { onText: (t) => (text += t), onMetrics: () => undefined },
      clock(10),
    );
    expect(calls[0]!.url).toBe('http://127.0.0.1:8000/v1/chat/completions');
    expect(text).toBe('Hello');
    expect(m.contextWorker).toBe('localhost:8001');
    expect(m.generationWorker).toBe('localhost:8002');
    expect(m.promptTokens).toBe(9);
    expect(m.completionTokens).toBe(2);
    expect(m.finishReason).toBe('stop');
    expect(m.ttftMs).toBe(20);
    expect(m.tpotMs).toBe(10);
    expect(m.e2eMs).toBe(40);
    expect(timelineSegments(m).map((s) => [s.kind, s.toMs - s.fromMs])).toEqual([
      ['context', 40],
      ['handoff', 3],
    ]);
  });

  it('rejects with the OpenAI error message of a failed request', async () => {
    const { fetch } = fakeFetch(
      [
        '{"error":{"message":"no generation worker is available","type":"server_error","code":503}}',
      ],
      {},
      503,
    );
    await expect(
      runStreamingRequest(
        fetch,
        'http://x',
        REQ,
        new AbortController().signal,
        { onText: () => undefined, onMetrics: () => undefined },
        clock(1),
      ),
    ).rejects.toThrow('no generation worker is available');
  });

  it('rejects on an SSE error event and on a stream cut before [DONE]', async () => {
    const withError = fakeFetch([
      'data: {"choices":[{"text":"a"}]}\n\n',
      'data: {"error":{"message":"upstream reset","code":502}}\n\ndata: [DONE]\n\n',
    ]);
    await expect(
      runStreamingRequest(
        withError.fetch,
        'http://x',
        { ...REQ, mode: 'completions' },
        new AbortController().signal,
        { onText: () => undefined, onMetrics: () => undefined },
        clock(1),
      ),
    ).rejects.toThrow('upstream reset');
    const cut = fakeFetch(['data: {"choices":[{"text":"a"}]}\n\n']);
    await expect(
      runStreamingRequest(
        cut.fetch,
        'http://x',
        REQ,
        new AbortController().signal,
        { onText: () => undefined, onMetrics: () => undefined },
        clock(1),
      ),
    ).rejects.toThrow(/without \[DONE\]/);
  });
});

describe('code snippets', () => {
  const pinned = { ...REQ, route: { contextWorker: 'localhost:8001' } };

  it('curl posts the same body to the proxy with the pin header', () => {
    const code = codeSnippet('curl', 'http://127.0.0.1:8000', pinned);
    expect(code).toContain('curl -N http://127.0.0.1:8000/v1/chat/completions');
    expect(code).toContain("-H 'x-disagg-context-worker: localhost:8001'");
    expect(code).toContain('"max_tokens": 16');
  });

  it('python uses the openai client with stream=True and extra_headers', () => {
    const code = codeSnippet('python', 'http://127.0.0.1:8000', pinned);
    expect(code).toContain('OpenAI(base_url="http://127.0.0.1:8000/v1"');
    expect(code).toContain('client.chat.completions.create(');
    expect(code).toContain('stream=True,');
    expect(code).toContain('extra_headers={');
    expect(code).toContain('seed=7,');
  });

  it('node uses the openai package with a for await loop', () => {
    const code = codeSnippet('node', 'http://127.0.0.1:8000', { ...REQ, mode: 'completions' });
    expect(code).toContain("import OpenAI from 'openai';");
    expect(code).toContain('client.completions.create(');
    expect(code).toContain('for await (const chunk of stream)');
    expect(code).toContain('"prompt": "be brief\\n\\nhi"');
  });
});

describe('workers’ per-request metrics', () => {
  const event = `event: trtllm.perf_metrics\ndata: ${JSON.stringify({ 'Server-Timing': 'ctx_e2e;dur=12.500000, gen_e2e;dur=30.000000' })}\n\n`;

  it.each([
    [
      'in the chunk of [DONE]',
      ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n', `data: [DONE]\n\n${event}`],
    ],
    [
      'in a later chunk',
      ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n', event],
    ],
  ])('asks for them and reads the event after [DONE] %s', async (_where, chunks) => {
    const { fetch, calls } = fakeFetch(chunks);
    const m = await runStreamingRequest(
      fetch,
      'http://127.0.0.1:8000',
      REQ,
      new AbortController().signal,
      { onText: () => undefined, onMetrics: () => undefined },
      clock(1),
    );
    expect(calls[0]?.headers['x-trtllm-return-metrics']).toBe('1');
    expect(m.reported?.durationsMs).toEqual({ ctx_e2e: 12.5, gen_e2e: 30 });
  });

  it('reads them from the answer headers too, and has none without them', async () => {
    const chunks = ['data: {"choices":[{"text":"x"}]}\n\ndata: [DONE]\n\n'];
    const run = (headers: Record<string, string>): Promise<{ reported: unknown }> =>
      runStreamingRequest(
        fakeFetch(chunks, headers).fetch,
        'http://127.0.0.1:8000',
        REQ,
        new AbortController().signal,
        { onText: () => undefined, onMetrics: () => undefined },
        clock(1),
      );
    expect((await run({ 'Server-Timing': 'gen_kv_transfer;dur=4.000000' })).reported).toEqual({
      durationsMs: { gen_kv_transfer: 4 },
      stampsSec: {},
    });
    expect((await run({})).reported).toBeNull();
  });
});
