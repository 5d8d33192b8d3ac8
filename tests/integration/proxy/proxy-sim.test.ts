// The proxy in front of real simulated trtllm-serve workers (child processes): disaggregated output
// equals aggregated output, the OpenAI Node SDK works against it (chat and completions, streaming and
// not), and kv_cache_aware routing follows the workers' /kv_cache_events.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SimProcess, startSimWorker, tempFile } from '../sim/sim-process';
import type { ProxyUnderTest } from './proxy-test-kit';
import { primeKvCache, request, startProxy, streamedText } from './proxy-test-kit';

const OPTIONS =
  'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\nreturn_perf_metrics: true\nperf_metrics_max_requests: 100\nkv_cache_config:\n  enable_block_reuse: true\n  event_buffer_max_size: 1024\n';
const ENV = { DISAGG_SIM_ZERO_DELAY: '1' };
const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

describe('proxy with simulated workers', () => {
  let ctx: SimProcess[] = [];
  let gen: SimProcess;
  let agg: SimProcess;
  let p: ProxyUnderTest;
  let kv: ProxyUnderTest;
  let cond: ProxyUnderTest;

  beforeAll(async () => {
    const opts = tempFile('w.yaml', OPTIONS);
    const all = await Promise.all([
      startSimWorker([MODEL, '--extra_llm_api_options', opts], ENV),
      startSimWorker([MODEL, '--extra_llm_api_options', opts], ENV),
      startSimWorker([MODEL, '--extra_llm_api_options', opts], ENV),
      startSimWorker([MODEL, '--extra_llm_api_options', opts], ENV),
    ]);
    ctx = [all[0], all[1]];
    gen = all[2];
    agg = all[3];
    const hp = (s: SimProcess): string => `127.0.0.1:${s.port}`;
    p = await startProxy({
      contextUrls: [hp(ctx[0] as SimProcess)],
      generationUrls: [hp(gen)],
      perfMetricsMaxRequests: 50,
    });
    cond = await startProxy({
      contextUrls: [hp(ctx[0] as SimProcess)],
      generationUrls: [hp(agg)],
      generationRouter: {
        type: 'kv_cache_aware',
        use_tokens: false,
        max_batch_size: 64,
        tokens_per_block: 32,
      },
      conditionalMaxLocalPrefillLength: 100,
      kvEventsPollMs: 50,
    });
    kv = await startProxy({
      contextUrls: ctx.map(hp),
      generationUrls: [hp(gen)],
      contextRouter: {
        type: 'kv_cache_aware',
        use_tokens: false,
        max_batch_size: 64,
        tokens_per_block: 32,
      },
      kvEventsPollMs: 50,
    });
  }, 60_000);

  afterAll(async () => {
    await p?.proxy.close();
    await kv?.proxy.close();
    await cond?.proxy.close();
    await Promise.all([...ctx, gen, agg].map((s) => s?.stop()));
  });

  async function textOf(
    port: number,
    path: string,
    body: Record<string, unknown>,
  ): Promise<string> {
    const r = await request(port, 'POST', path, JSON.stringify(body));
    expect(r.status).toBe(200);
    if (body['stream'] === true) return streamedText(r.body).join('');
    const j = JSON.parse(r.body) as {
      choices: Array<{ text?: string; message?: { content: string } }>;
    };
    return j.choices[0]?.text ?? j.choices[0]?.message?.content ?? '';
  }

  it.each([
    [
      'completions',
      '/v1/completions',
      { prompt: 'The capital of Germany is', max_tokens: 12 },
      false,
    ],
    [
      'completions stream',
      '/v1/completions',
      { prompt: 'The capital of Germany is', max_tokens: 12 },
      true,
    ],
    [
      'chat',
      '/v1/chat/completions',
      { messages: [{ role: 'user', content: 'Tell me about asyncio' }], max_tokens: 12 },
      false,
    ],
    [
      'chat stream',
      '/v1/chat/completions',
      { messages: [{ role: 'user', content: 'Tell me about asyncio' }], max_tokens: 12 },
      true,
    ],
  ])('%s: disaggregated text equals aggregated text', async (_n, path, body, stream) => {
    const b = { model: MODEL, temperature: 0, ...body, stream };
    const direct = await textOf(agg.port, path, b);
    const viaProxy = await textOf(p.port, path, b);
    expect(direct.length).toBeGreaterThan(0);
    expect(viaProxy).toBe(direct);
  });

  it('works with the OpenAI Node SDK: completions and chat, streaming and not', async () => {
    const client = new OpenAI({
      baseURL: `http://127.0.0.1:${p.port}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(MODEL);

    const c = await client.completions.create({
      model: MODEL,
      prompt: 'The capital of Germany is',
      max_tokens: 8,
      temperature: 0,
    });
    expect(c.choices[0]?.text.length).toBeGreaterThan(0);

    const cs = await client.completions.create({
      model: MODEL,
      prompt: 'The capital of Germany is',
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    let streamed = '';
    for await (const chunk of cs) streamed += chunk.choices[0]?.text ?? '';
    expect(streamed).toBe(c.choices[0]?.text);

    const chat = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
      temperature: 0,
    });
    const content = chat.choices[0]?.message.content ?? '';
    expect(content.length).toBeGreaterThan(0);

    const chatStream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    let chatText = '';
    for await (const chunk of chatStream) chatText += chunk.choices[0]?.delta?.content ?? '';
    expect(chatText).toBe(content);
  });

  it('kv_cache_aware routes a prompt to the context worker whose /kv_cache_events show it cached', async () => {
    const prompt = Array.from({ length: 400 }, (_, i) => 1000 + (i % 97));
    // Prime the second context worker directly, behind the proxy's back.
    const primed = ctx[1] as SimProcess;
    const prime = await primeKvCache(primed.port, MODEL, prompt);
    expect(prime.status).toBe(200);
    // Without cache knowledge the tie goes to the first server; with the polled events it must not.
    await new Promise((r) => setTimeout(r, 300));
    const body = JSON.stringify({ model: MODEL, prompt, max_tokens: 2, temperature: 0 });
    for (let i = 0; i < 3; i++) {
      expect((await request(kv.port, 'POST', '/v1/completions', body)).status).toBe(200);
    }
    const counts = kv.proxy
      .workers()
      .filter((w) => w.role === 'context')
      .map((w) => w.requests);
    expect(counts).toEqual([0, 3]);
  });
  it("/perf_metrics joins the context and generation workers' metrics by ctx_request_id", async () => {
    expect(
      (
        await request(
          p.port,
          'POST',
          '/v1/completions',
          JSON.stringify({ model: MODEL, prompt: 'Perf metrics please', max_tokens: 4 }),
        )
      ).status,
    ).toBe(200);
    const r = await request(p.port, 'GET', '/perf_metrics');
    const items = JSON.parse(r.body) as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThan(0);
    const last = items[items.length - 1] as Record<string, unknown>;
    expect(last['ctx_server']).toBe(`http://127.0.0.1:${ctx[0]?.port}`);
    expect(last['gen_server']).toBe(`http://127.0.0.1:${gen.port}`);
    expect(last['ctx_perf_metrics']).not.toBeNull();
    expect(last['gen_perf_metrics']).toHaveProperty('perf_metrics');
    expect(typeof last['disagg_server_arrival_time']).toBe('number');
    // Returned pairs are forgotten.
    expect(JSON.parse((await request(p.port, 'GET', '/perf_metrics')).body)).toEqual([]);
  });

  it('conditional disaggregation skips the context phase when the generation worker has the prefix cached', async () => {
    const prompt = Array.from({ length: 500 }, (_, i) => 2000 + (i % 89));
    const body = JSON.stringify({ model: MODEL, prompt, max_tokens: 2, temperature: 0 });
    const ctxCalls = (): number =>
      cond.proxy.workers().find((w) => w.role === 'context')?.requests ?? 0;
    // Cold cache: a context phase is needed.
    expect((await request(cond.port, 'POST', '/v1/completions', body)).status).toBe(200);
    expect(ctxCalls()).toBe(1);
    // Warm the generation worker's cache directly (an aggregated request), let the poller see it.
    expect((await request(agg.port, 'POST', '/v1/completions', body)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect((await request(cond.port, 'POST', '/v1/completions', body)).status).toBe(200);
    expect(ctxCalls()).toBe(1);
    // A different long prompt still needs the context phase.
    const other = JSON.stringify({ model: MODEL, prompt: prompt.map((t) => t + 1), max_tokens: 2 });
    expect((await request(cond.port, 'POST', '/v1/completions', other)).status).toBe(200);
    expect(ctxCalls()).toBe(2);
  });
});
