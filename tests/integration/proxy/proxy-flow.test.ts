// The request flow of trtllm-protocol.md section 5 end to end through the proxy, against fake workers
// (real child processes): what the context and generation workers receive, and what the client gets.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  chatBody,
  completionBody,
  request,
  sseData,
  startProxyWithWorkers,
  stopProxyAndWorkers,
} from './proxy-test-kit';

describe('proxy request flow (section 5)', () => {
  let ctx: FakeWorker;
  let gen: FakeWorker;
  let p: ProxyUnderTest;

  beforeAll(async () => {
    ({ ctx, gen, p } = await startProxyWithWorkers());
  });
  afterAll(() => stopProxyAndWorkers(p, ctx, gen));
  beforeEach(async () => {
    await Promise.all([
      ctx.control({ ctx: 'ok', gen: 'ok', finishReason: 'not_finished' }),
      gen.control({ ctx: 'ok', gen: 'ok' }),
    ]);
  });

  it('sends the context request with only disaggregated_params, stream and stream_options changed', async () => {
    const r = await request(
      p.port,
      'POST',
      '/v1/completions',
      completionBody({ temperature: 0, stream: true, stream_options: { include_usage: true } }),
    );
    expect(r.status).toBe(200);
    const s = await ctx.stats();
    expect(s.lastCtx).toEqual({
      model: 'fake-model',
      prompt: 'The capital of Germany is',
      max_tokens: 8,
      temperature: 0,
      stream: false,
      stream_options: null,
      disaggregated_params: { request_type: 'context_only' },
    });
  });

  it('builds the completion generation request: prompt replaced by prompt_token_ids, params flipped, five fields only', async () => {
    await request(p.port, 'POST', '/v1/completions', completionBody());
    const c = await ctx.stats();
    const g = await gen.stats();
    const ids =
      c.lastCtx && Array.isArray(g.lastGen?.['prompt']) ? g.lastGen?.['prompt'] : undefined;
    expect(Array.isArray(ids)).toBe(true);
    expect(g.lastGen?.['disaggregated_params']).toEqual({
      request_type: 'generation_only',
      first_gen_tokens: [7],
      ctx_request_id: expect.any(Number) as unknown,
      encoded_opaque_state: 'b3BhcXVl',
      draft_tokens: null,
    });
    expect(g.lastGen?.['max_tokens']).toBe(8);
    expect(g.lastGen?.['stream']).toBeUndefined();
  });

  it('unwraps a one-element prompt list and keeps token-id prompts', async () => {
    await request(p.port, 'POST', '/v1/completions', completionBody({ prompt: ['Hello world'] }));
    expect((await ctx.stats()).lastCtx?.['prompt']).toBe('Hello world');
    await request(p.port, 'POST', '/v1/completions', completionBody({ prompt: [[5, 6, 7]] }));
    expect((await ctx.stats()).lastCtx?.['prompt']).toEqual([5, 6, 7]);
    const r = await request(
      p.port,
      'POST',
      '/v1/completions',
      completionBody({ prompt: ['a', 'b'] }),
    );
    expect(r.status).toBe(400);
    expect((JSON.parse(r.body) as { error: { message: string } }).error.message).toMatch(
      /single string prompt/,
    );
  });

  it('gives chat generation requests prompt_token_ids and keeps the messages', async () => {
    const r = await request(p.port, 'POST', '/v1/chat/completions', chatBody());
    expect(r.status).toBe(200);
    const g = await gen.stats();
    expect(Array.isArray(g.lastGen?.['prompt_token_ids'])).toBe(true);
    expect(g.lastGen?.['messages']).toEqual([{ role: 'user', content: 'Hello there' }]);
    const j = JSON.parse(r.body) as {
      object: string;
      choices: Array<{ message: { content: string } }>;
    };
    expect(j.object).toBe('chat.completion');
    expect(j.choices[0]?.message.content).toBe(' w0 w1 w2 w3 w4 w5 w6 w7');
  });

  it.each([
    ['completions', '/v1/completions', completionBody({ stream: true })],
    ['chat', '/v1/chat/completions', chatBody({ stream: true })],
  ])('relays the %s generation stream and its [DONE] exactly once', async (_n, path, body) => {
    const r = await request(p.port, 'POST', path, body);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/event-stream/);
    const data = sseData(r.body);
    expect(data.filter((d) => d === '[DONE]')).toHaveLength(1);
    expect(data[data.length - 1]).toBe('[DONE]');
    const text = data
      .filter((d) => d !== '[DONE]')
      .map(
        (d) => JSON.parse(d) as { choices: Array<{ text?: string; delta?: { content?: string } }> },
      )
      .map((c) => c.choices[0]?.text ?? c.choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe(' w0 w1 w2 w3 w4 w5 w6 w7');
  });

  it('returns the context answer without disaggregated_params when the context phase finished (non-streaming)', async () => {
    await ctx.control({ finishReason: 'stop' });
    const before = (await gen.stats()).counts['gen'] ?? 0;
    const r = await request(p.port, 'POST', '/v1/completions', completionBody());
    expect(r.status).toBe(200);
    const j = JSON.parse(r.body) as {
      choices: Array<Record<string, unknown>>;
      prompt_token_ids: unknown;
    };
    expect(j.choices[0]).not.toHaveProperty('disaggregated_params');
    expect(j.choices[0]?.['finish_reason']).toBe('stop');
    expect(Array.isArray(j.prompt_token_ids)).toBe(true);
    expect((await gen.stats()).counts['gen']).toBe(before);
  });

  it('streams only [DONE] when the context phase finished', async () => {
    await ctx.control({ finishReason: 'stop' });
    const r = await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
    expect(r.status).toBe(200);
    expect(sseData(r.body)).toEqual(['[DONE]']);
  });

  it.each(['length', 'not_finished'])(
    'still calls the generation worker when the context finish_reason is %s',
    async (reason) => {
      await ctx.control({ finishReason: reason });
      const before = (await gen.stats()).counts['gen'] ?? 0;
      const r = await request(p.port, 'POST', '/v1/completions', completionBody());
      expect(r.status).toBe(200);
      expect((await gen.stats()).counts['gen']).toBe(before + 1);
    },
  );

  it('serves /version, /cluster_info, /perf_metrics, /v1/models, /metrics and 404s', async () => {
    expect(JSON.parse((await request(p.port, 'GET', '/version')).body)).toHaveProperty('version');
    expect(JSON.parse((await request(p.port, 'GET', '/cluster_info')).body)).toEqual({});
    expect(JSON.parse((await request(p.port, 'GET', '/perf_metrics')).body)).toEqual([]);
    const models = JSON.parse((await request(p.port, 'GET', '/v1/models')).body) as {
      data: Array<{ id: string }>;
    };
    expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
    const m = await request(p.port, 'GET', '/metrics');
    expect(m.body).toMatch(/disagg_proxy_requests_total\{outcome="ok"\} \d+/);
    expect(m.body).toMatch(/disagg_proxy_time_to_first_token_seconds_bucket/);
    // Upstream's disaggregated-server names too, and upstream's path for them (perf_metrics.py).
    expect(m.body).toMatch(/^total_requests_total [1-9]\d*$/m);
    expect(m.body).toMatch(/^gen_first_token_latency_seconds_count [1-9]\d*$/m);
    const upstreamPath = await request(p.port, 'GET', '/prometheus/metrics');
    expect(upstreamPath.status).toBe(200);
    expect(upstreamPath.body).toMatch(/^ctx_total_requests_total [1-9]\d*$/m);
    expect((await request(p.port, 'GET', '/nope')).status).toBe(404);
    expect((await request(p.port, 'GET', '/health')).status).toBe(200);
  });

  it('reports request records with timestamps, workers and outcome', async () => {
    const got: unknown[] = [];
    const off = p.proxy.onRecords((r) => got.push(...r));
    await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
    const until = Date.now() + 3000;
    while (got.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    off();
    const rec = got[0] as Record<string, unknown>;
    expect(rec['outcome']).toBe('ok');
    expect(rec['ctxWorker']).toBe(`http://${ctx.url}`);
    expect(rec['genWorker']).toBe(`http://${gen.url}`);
    expect((rec['tokenTimes'] as number[]).length).toBe(8);
    const t = rec as {
      receivedAt: number;
      ctxSentAt: number;
      ctxAnsweredAt: number;
      genSentAt: number;
      firstByteAt: number;
      doneAt: number;
    };
    expect(
      t.receivedAt <= t.ctxSentAt &&
        t.ctxSentAt <= t.ctxAnsweredAt &&
        t.ctxAnsweredAt <= t.genSentAt,
    ).toBe(true);
    expect(t.genSentAt <= t.firstByteAt && t.firstByteAt <= t.doneAt).toBe(true);
  });
});
