// The simulated worker's HTTP API against a real process: every route, OpenAI shapes (null fields, stream
// quirks), sampling and stop rules, validation errors, context_only answers, metrics and KV events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { computeBlockHashes } from '../../../shared/logic/kv-block-hash';
import { parseJsonLossless } from '../../../shared/logic/lossless-json';
import { countTokens, tokenize } from '../../../shared/logic/text-generator';
import { postJson, type SimProcess, sseData, startSimWorker, tempFile } from './sim-process';

let w: SimProcess;
const PROMPT = 'The quick brown fox jumps over the lazy dog and then';

type Json = Record<string, unknown>;

async function complete(body: Json): Promise<Json> {
  const r = await postJson(`${w.url}/v1/completions`, { model: 'm', prompt: PROMPT, ...body });
  expect(r.status).toBe(200);
  return r.body as Json;
}

function choice0(body: Json): Json {
  return (body.choices as Json[])[0] ?? {};
}

beforeAll(async () => {
  const options = tempFile(
    'agg.yaml',
    [
      'disable_overlap_scheduler: true',
      'cache_transceiver_config:',
      '  backend: UCX',
      'enable_iter_perf_stats: true',
      'return_perf_metrics: true',
      'perf_metrics_max_requests: 100',
      'kv_cache_config:',
      '  event_buffer_max_size: 1024',
      '  enable_block_reuse: true',
      '  max_tokens: 2048',
      '  tokens_per_block: 32',
    ].join('\n'),
  );
  w = await startSimWorker(
    ['TinyLlama/TinyLlama-1.1B-Chat-v1.0', '--extra_llm_api_options', options],
    { DISAGG_SIM_ZERO_DELAY: '1', TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: '1' },
  );
});

afterAll(async () => {
  await w.stop();
});

describe('plain routes', () => {
  it('answers /health 200 with an empty body and the simulated marker header', async () => {
    const res = await fetch(`${w.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-disagg-sim')).toBe('1');
  });

  it('answers /version with an upstream-style version and /v1/models with the model card', async () => {
    const version = (await (await fetch(`${w.url}/version`)).json()) as Json;
    expect(Object.keys(version)).toEqual(['version']);
    expect(version.version).toMatch(/^\d+\.\d+\.\d+(rc\d+)?$/);
    const models = (await (await fetch(`${w.url}/v1/models`)).json()) as Json;
    expect(models).toMatchObject({
      object: 'list',
      data: [
        { id: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', object: 'model', owned_by: 'tensorrt_llm' },
      ],
    });
    expect(typeof (models.data as Json[])[0]?.created).toBe('number');
  });

  it('answers /health_generate after a one-token generation', async () => {
    const res = await fetch(`${w.url}/health_generate`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Generation health check OK');
  });

  it('labels itself on /_sim/info and answers 404 for unknown routes', async () => {
    const info = (await (await fetch(`${w.url}/_sim/info`)).json()) as Json;
    expect(info).toMatchObject({
      simulated: true,
      engine: 'simulated',
      tokens_per_block: 32,
      kv_capacity_tokens: 2048,
    });
    const res = await fetch(`${w.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'Not Found' });
  });
});

describe('/v1/completions', () => {
  it('returns upstream shape with null fields, consistent usage and readable text', async () => {
    const body = await complete({ max_tokens: 24, temperature: 0 });
    expect(Object.keys(body)).toEqual([
      'id',
      'object',
      'created',
      'model',
      'choices',
      'usage',
      'prompt_token_ids',
    ]);
    expect(body).toMatchObject({ object: 'text_completion', model: 'm', prompt_token_ids: null });
    expect(body.id).toMatch(/^cmpl-[0-9a-f]{32}$/);
    const c = choice0(body);
    expect(Object.keys(c)).toEqual([
      'index',
      'text',
      'token_ids',
      'logprobs',
      'context_logits',
      'finish_reason',
      'stop_reason',
      'disaggregated_params',
      'avg_decoded_tokens_per_iter',
    ]);
    expect(c).toMatchObject({
      index: 0,
      token_ids: null,
      logprobs: null,
      finish_reason: 'length',
      stop_reason: null,
      disaggregated_params: null,
    });
    const text = String(c.text);
    expect(text).toMatch(/[a-z]{3,} [a-z]{2,}/i);
    expect(body.usage).toEqual({
      prompt_tokens: countTokens(PROMPT),
      total_tokens: countTokens(PROMPT) + 24,
      completion_tokens: 24,
      prompt_tokens_details: { cached_tokens: expect.any(Number) as number },
    });
    expect(countTokens(text)).toBe(24);
  });

  it('is deterministic at temperature 0 and with a seed, and a different seed samples differently', async () => {
    const t0a = choice0(await complete({ max_tokens: 30, temperature: 0, seed: 1 })).text;
    const t0b = choice0(await complete({ max_tokens: 30, temperature: 0, seed: 2 })).text;
    expect(t0a).toBe(t0b);
    const s5a = choice0(await complete({ max_tokens: 30, temperature: 1, seed: 5 })).text;
    const s5b = choice0(await complete({ max_tokens: 30, temperature: 1, seed: 5 })).text;
    expect(s5a).toBe(s5b);
    const others = await Promise.all(
      [6, 7, 8].map(
        async (seed) => choice0(await complete({ max_tokens: 30, temperature: 1.5, seed })).text,
      ),
    );
    expect(others.some((t) => t !== s5a)).toBe(true);
  });

  it('honours max_tokens', async () => {
    for (const n of [1, 5]) {
      const body = await complete({ max_tokens: n, temperature: 0 });
      expect(choice0(body).finish_reason).toBe('length');
      expect((body.usage as Json).completion_tokens).toBe(n);
    }
  });

  it('cuts at a stop string (excluded by default, included on request) and reports it', async () => {
    const full = String(
      choice0(await complete({ max_tokens: 30, temperature: 0, ignore_eos: true })).text,
    );
    const words = full.trim().split(/\s+/);
    const stop = ` ${words[3] ?? ''}`;
    const at = full.indexOf(stop);
    expect(at).toBeGreaterThan(0);
    const stopped = choice0(
      await complete({ max_tokens: 30, temperature: 0, ignore_eos: true, stop: [stop, 'zzzz'] }),
    );
    expect(stopped).toMatchObject({
      text: full.slice(0, at),
      finish_reason: 'stop',
      stop_reason: stop,
    });
    const incl = choice0(
      await complete({
        max_tokens: 30,
        temperature: 0,
        ignore_eos: true,
        stop,
        include_stop_str_in_output: true,
      }),
    );
    expect(incl.text).toBe(full.slice(0, at + stop.length));
    const streamed = await postJson(`${w.url}/v1/completions`, {
      model: 'm',
      prompt: PROMPT,
      max_tokens: 30,
      temperature: 0,
      ignore_eos: true,
      stop: [stop],
      stream: true,
    });
    const chunks = sseData(streamed.text)
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d) as Json);
    expect(chunks.map((ch) => choice0(ch).text).join('')).toBe(full.slice(0, at));
    expect(choice0(chunks[chunks.length - 1] ?? {})).toMatchObject({
      finish_reason: 'stop',
      stop_reason: stop,
    });
  });

  it('streams all-field chunks, then the chat-shaped final usage chunk and [DONE]', async () => {
    const plain = String(choice0(await complete({ max_tokens: 12, temperature: 0 })).text);
    const r = await postJson(`${w.url}/v1/completions`, {
      model: 'm',
      prompt: PROMPT,
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: {},
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const data = sseData(r.text);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Json);
    const last = chunks[chunks.length - 1] ?? {};
    // Quirk (4.4): the completions usage chunk is a chat chunk.
    expect(last).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [],
      usage: {
        prompt_tokens: countTokens(PROMPT),
        completion_tokens: 12,
        total_tokens: countTokens(PROMPT) + 12,
      },
    });
    expect(last.id).toMatch(/^chatcmpl-/);
    const content = chunks.slice(0, -1);
    for (const ch of content) {
      expect(Object.keys(ch)).toEqual(['id', 'object', 'created', 'model', 'choices', 'usage']);
      expect(Object.keys(choice0(ch))).toEqual([
        'index',
        'text',
        'token_ids',
        'logprobs',
        'finish_reason',
        'stop_reason',
        'avg_decoded_tokens_per_iter',
      ]);
      // continuous_usage_stats defaults to true once stream_options is present.
      expect(ch.usage).not.toBeNull();
    }
    expect(content.map((ch) => choice0(ch).text).join('')).toBe(plain);
    expect(choice0(content[content.length - 1] ?? {}).finish_reason).toBe('length');
    const noOptions = await postJson(`${w.url}/v1/completions`, {
      model: 'm',
      prompt: PROMPT,
      max_tokens: 3,
      stream: true,
    });
    const parsed = sseData(noOptions.text)
      .slice(0, -1)
      .map((d) => JSON.parse(d) as Json);
    expect(parsed.every((ch) => ch.usage === null && ch.object === 'text_completion')).toBe(true);
  });

  it.each([
    [{ foo: 1 }, "'type': 'extra_forbidden', 'loc': ('body', 'foo')"],
    [
      { disaggregated_params: { request_type: 'context_only', disagg_request_id: 5 } },
      "('body', 'disaggregated_params', 'disagg_request_id')",
    ],
    [{ logprobs: 2 }, 'logprobs is not supported'],
    [
      { stream_options: { include_usage: true } },
      'Stream options can only be defined when stream is true.',
    ],
    [{ max_tokens: 'ten' }, "'type': 'int_type', 'loc': ('body', 'max_tokens')"],
  ])('rejects %j with the 400 ErrorResponse shape', async (extra, message) => {
    const r = await postJson(`${w.url}/v1/completions`, { model: 'm', prompt: 'hi', ...extra });
    expect(r.status).toBe(400);
    const body = r.body as Json;
    expect(Object.keys(body)).toEqual(['object', 'message', 'type', 'param', 'code']);
    expect(body).toMatchObject({
      object: 'error',
      type: 'BadRequestError',
      param: null,
      code: 400,
    });
    expect(String(body.message)).toContain(message);
  });

  it('answers context_only with the first token, ctx_request_id, opaque state and prompt_token_ids', async () => {
    const r = await complete({
      max_tokens: 20,
      temperature: 0,
      disaggregated_params: { request_type: 'context_only' },
    });
    const agg = String(choice0(await complete({ max_tokens: 20, temperature: 0 })).text);
    const c = choice0(r);
    expect(c.finish_reason).toBe('not_finished');
    const params = c.disaggregated_params as Json;
    expect(Object.keys(params)).toEqual([
      'request_type',
      'first_gen_tokens',
      'ctx_request_id',
      'encoded_opaque_state',
      'draft_tokens',
    ]);
    expect(params).toMatchObject({ request_type: 'context_only', draft_tokens: null });
    expect(params.first_gen_tokens).toHaveLength(1);
    expect(Number.isInteger(params.ctx_request_id)).toBe(true);
    expect(typeof params.encoded_opaque_state).toBe('string');
    expect(r.prompt_token_ids).toEqual(tokenize(PROMPT));
    expect((r.usage as Json).completion_tokens).toBe(1);
    expect(agg.startsWith(String(c.text))).toBe(true);
    const one = choice0(
      await complete({ max_tokens: 1, disaggregated_params: { request_type: 'context_only' } }),
    );
    expect(one.finish_reason).toBe('length');
  });
});

describe('several choices and prompts', () => {
  // The PyTorch workflow refuses n > 1 (upstream check_multiple_response); the TensorRT backend serves it.
  let trt: SimProcess;
  beforeAll(async () => {
    const options = tempFile('trt.yaml', 'cache_transceiver_config:\n  backend: UCX\n');
    trt = await startSimWorker(['trt-served', '--backend', 'tensorrt', '--config', options], {
      DISAGG_SIM_ZERO_DELAY: '1',
    });
  });
  afterAll(async () => {
    await trt.stop();
  });

  it('refuses n > 1 on the pytorch backend', async () => {
    const r = await postJson(`${w.url}/v1/completions`, { model: 'm', prompt: PROMPT, n: 2 });
    expect(r.status).toBe(400);
    expect((r.body as Json).message).toBe('Multiple response is not supported in PyTorch workflow');
  });

  it('returns n choices; choice 0 is the n=1 answer and usage sums the choices', async () => {
    const single = await complete({ max_tokens: 12, temperature: 1, seed: 5 });
    const multi = (
      await postJson(`${trt.url}/v1/completions`, {
        model: 'm',
        prompt: PROMPT,
        max_tokens: 12,
        temperature: 1,
        seed: 5,
        n: 3,
      })
    ).body as Json;
    const choices = multi.choices as Json[];
    expect(choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(choices[0]?.text).toBe(choice0(single).text);
    expect(new Set(choices.map((c) => c.text)).size).toBeGreaterThan(1);
    expect(multi.usage).toMatchObject({
      prompt_tokens: countTokens(PROMPT),
      completion_tokens: 36,
    });
  });

  it('streams several prompts x n choices with their indexes (prompt_idx * n + i)', async () => {
    const request = {
      model: 'm',
      prompt: ['the red house', 'a quiet evening by the lake'],
      n: 2,
      max_tokens: 6,
      temperature: 0.7,
      seed: 3,
    };
    const plain = (await postJson(`${trt.url}/v1/completions`, request)).body as Json;
    const byIndex = new Map((plain.choices as Json[]).map((c) => [c.index, c.text]));
    expect([...byIndex.keys()]).toEqual([0, 1, 2, 3]);
    expect(plain.usage).toMatchObject({
      prompt_tokens: countTokens('the red house') + countTokens('a quiet evening by the lake'),
      completion_tokens: 24,
    });
    // Upstream's merged response names the served model and carries an empty prompt_token_ids list.
    expect(plain).toMatchObject({ model: 'trt-served', prompt_token_ids: [] });
    const r = await postJson(`${trt.url}/v1/completions`, {
      ...request,
      stream: true,
      stream_options: { continuous_usage_stats: false },
    });
    const all = sseData(r.text)
      .slice(0, -1)
      .map((d) => JSON.parse(d) as Json);
    // One final usage chunk per prompt (each prompt is its own generator upstream).
    const usageChunks = all.filter((ch) => (ch.choices as Json[]).length === 0);
    expect(usageChunks.map((ch) => (ch.usage as Json).completion_tokens)).toEqual([12, 12]);
    const chunks = all.filter((ch) => (ch.choices as Json[]).length > 0);
    const streamed = new Map<unknown, string>();
    const finished = new Set<unknown>();
    for (const ch of chunks) {
      const c = choice0(ch);
      streamed.set(c.index, (streamed.get(c.index) ?? '') + String(c.text));
      if (c.finish_reason !== null) finished.add(c.index);
    }
    expect(streamed).toEqual(byIndex);
    expect(finished.size).toBe(4);
  });

  it('sends one role chunk per chat choice', async () => {
    const r = await postJson(`${trt.url}/v1/chat/completions`, {
      model: 'm',
      messages: [{ role: 'user', content: 'hello' }],
      n: 2,
      max_tokens: 3,
      stream: true,
    });
    const chunks = sseData(r.text)
      .slice(0, -1)
      .map((d) => JSON.parse(d) as Json);
    expect(chunks.slice(0, 2).map((ch) => choice0(ch))).toEqual([
      { index: 0, delta: { role: 'assistant' } },
      { index: 1, delta: { role: 'assistant' } },
    ]);
  });

  it('refuses disaggregated requests with n > 1 or several prompts', async () => {
    const cases = [
      [{ n: 2 }, 'exactly one prompt and n=1'],
      [
        { prompt: ['a b', 'c d'] },
        'Disaggregated server currently only supports single string prompt or list of integers in request',
      ],
    ] as const;
    for (const [extra, message] of cases) {
      const r = await postJson(`${trt.url}/v1/completions`, {
        model: 'm',
        prompt: PROMPT,
        ...extra,
        disaggregated_params: { request_type: 'context_only' },
      });
      expect(r.status).toBe(400);
      expect(String((r.body as Json).message)).toContain(message);
    }
  });
});

describe('gen-only benchmark mode (TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1, protocol 5.7)', () => {
  it("serves the proxy's generation_only request without a context worker", async () => {
    const r = await postJson(`${w.url}/v1/completions`, {
      model: 'm',
      prompt: tokenize(PROMPT),
      max_tokens: 8,
      ignore_eos: true,
      disaggregated_params: {
        request_type: 'generation_only',
        first_gen_tokens: [7],
        ctx_request_id: 1,
        encoded_opaque_state: null,
        draft_tokens: null,
      },
    });
    expect(r.status).toBe(200);
    expect(choice0(r.body as Json)).toMatchObject({
      finish_reason: 'length',
      disaggregated_params: null,
    });
    expect(((r.body as Json).usage as Json).completion_tokens).toBe(8);
  });
});

describe('/v1/chat/completions', () => {
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Tell me about the river.' },
  ];

  it('returns the chat shape with null fields and usage', async () => {
    const r = await postJson(`${w.url}/v1/chat/completions`, {
      model: 'm',
      messages,
      max_tokens: 10,
      temperature: 0,
    });
    expect(r.status).toBe(200);
    const body = r.body as Json;
    expect(Object.keys(body)).toEqual([
      'id',
      'object',
      'created',
      'model',
      'choices',
      'usage',
      'prompt_token_ids',
    ]);
    expect(body.id).toMatch(/^chatcmpl-/);
    const c = choice0(body);
    expect(Object.keys(c)).toEqual([
      'index',
      'message',
      'logprobs',
      'finish_reason',
      'stop_reason',
      'mm_embedding_handle',
      'disaggregated_params',
      'avg_decoded_tokens_per_iter',
    ]);
    expect(c.message).toMatchObject({
      role: 'assistant',
      reasoning_content: '',
      reasoning: null,
      tool_calls: [],
    });
    expect(countTokens(String((c.message as Json).content))).toBe(10);
    expect((body.usage as Json).completion_tokens).toBe(10);
  });

  it('streams a role chunk written as "data: {json} \\n\\n", exclude_none content chunks and usage', async () => {
    const plain = await postJson(`${w.url}/v1/chat/completions`, {
      model: 'm',
      messages,
      max_completion_tokens: 8,
      temperature: 0,
    });
    const text = String((choice0(plain.body as Json).message as Json).content);
    const r = await postJson(`${w.url}/v1/chat/completions`, {
      model: 'm',
      messages,
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: false },
    });
    expect(r.text.startsWith('data: {')).toBe(true);
    const firstLineEnd = r.text.indexOf('\n\n');
    expect(r.text.slice(firstLineEnd - 2, firstLineEnd + 2)).toBe('} \n\n');
    const data = sseData(r.text);
    expect(data[data.length - 1]).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Json);
    expect(chunks[0]).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { role: 'assistant' } }],
    });
    expect('usage' in (chunks[0] ?? {})).toBe(false);
    const content = chunks.slice(1, -1);
    for (const ch of content) {
      expect('usage' in ch).toBe(false);
      expect(Object.keys(choice0(ch).delta as Json)).toEqual(['content', 'reasoning_content']);
    }
    expect(content.map((ch) => (choice0(ch).delta as Json).content).join('')).toBe(text);
    expect(choice0(content[content.length - 1] ?? {}).finish_reason).toBe('length');
    expect(chunks[chunks.length - 1]).toMatchObject({
      choices: [],
      usage: { completion_tokens: 8 },
    });
  });

  it('uses prompt_token_ids instead of templating when given', async () => {
    const ctx = await postJson(`${w.url}/v1/chat/completions`, {
      model: 'm',
      messages,
      max_tokens: 6,
      temperature: 0,
      disaggregated_params: { request_type: 'context_only' },
    });
    const ids = (ctx.body as Json).prompt_token_ids as number[];
    expect(ids.length).toBeGreaterThan(5);
    const viaIds = await postJson(`${w.url}/v1/chat/completions`, {
      model: 'm',
      messages: [{ role: 'user', content: 'ignored' }],
      prompt_token_ids: ids,
      max_tokens: 6,
      temperature: 0,
    });
    const viaMessages = await postJson(`${w.url}/v1/chat/completions`, {
      model: 'm',
      messages,
      max_tokens: 6,
      temperature: 0,
    });
    expect((choice0(viaIds.body as Json).message as Json).content).toBe(
      (choice0(viaMessages.body as Json).message as Json).content,
    );
  });

  it('rejects unknown fields with 400', async () => {
    const r = await postJson(`${w.url}/v1/chat/completions`, { model: 'm', messages, bogus: true });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ object: 'error', type: 'BadRequestError', code: 400 });
  });
});

describe('metrics, perf metrics, clock offset and KV events', () => {
  it('drains iteration stats from /metrics', async () => {
    await complete({ max_tokens: 4 });
    const stats = (await (await fetch(`${w.url}/metrics`)).json()) as Json[];
    expect(stats.length).toBeGreaterThanOrEqual(4);
    expect(stats[0]).toMatchObject({
      maxBatchSizeStatic: 2048,
      maxNumTokensStatic: 8192,
      kvCacheStats: { tokensPerBlock: 32, maxNumBlocks: 64 },
    });
    for (const key of [
      'iter',
      'iterLatencyMS',
      'numActiveRequests',
      'numQueuedRequests',
      'numCompletedRequests',
      'timestamp',
      'inflightBatchingStats',
      'gpuMemUsage',
    ]) {
      expect(stats[0]).toHaveProperty(key);
    }
    const again = (await (await fetch(`${w.url}/metrics`)).json()) as Json[];
    expect(again).toEqual([]);
  });

  it('applies the steady clock offset to /perf_metrics and drains it', async () => {
    const clock = (await (await fetch(`${w.url}/steady_clock_offset`)).json()) as Json;
    expect(Object.keys(clock)).toEqual(['receive_ts', 'transmit_ts']);
    await fetch(`${w.url}/perf_metrics`);
    const post = await fetch(`${w.url}/steady_clock_offset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offset: 1000 }),
    });
    expect(post.status).toBe(200);
    await complete({ max_tokens: 3 });
    const perf = (await (await fetch(`${w.url}/perf_metrics`)).json()) as Json[];
    expect(perf).toHaveLength(1);
    const timing = (perf[0]?.perf_metrics as Json).timing_metrics as Record<string, number>;
    expect(timing.arrival_time).toBeGreaterThan(Number(clock.receive_ts) + 999);
    expect(timing.first_token_time).toBeGreaterThanOrEqual(timing.arrival_time ?? Infinity);
    expect(timing.last_token_time).toBeGreaterThanOrEqual(timing.first_token_time ?? Infinity);
    const metrics = perf[0]?.perf_metrics as {
      first_iter: number;
      last_iter: number;
      kv_cache_metrics: Record<string, number>;
    };
    expect(metrics.last_iter - metrics.first_iter).toBe(2);
    expect(metrics.kv_cache_metrics.num_total_allocated_blocks).toBe(
      Math.ceil((countTokens(PROMPT) + 3) / 32),
    );
    expect(await (await fetch(`${w.url}/perf_metrics`)).json()).toEqual([]);
    await fetch(`${w.url}/steady_clock_offset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offset: 0 }),
    });
  });

  it("reports stored blocks with the router's 64-bit hashes (lossless) and removed blocks on eviction", async () => {
    await fetch(`${w.url}/kv_cache_events`, { method: 'POST' });
    const prompt = Array.from({ length: 200 }, (_, i) => 300 + (i % 50));
    await complete({ prompt, max_tokens: 2 });
    const text = await (await fetch(`${w.url}/kv_cache_events`, { method: 'POST' })).text();
    const events = parseJsonLossless(text) as {
      event_id: number;
      data: {
        type: string;
        parent_hash?: bigint | null;
        blocks?: { block_hash: bigint; tokens: { token_id: number }[] }[];
      };
    }[];
    const stored = events.filter((e) => e.data.type === 'stored');
    const hashes = computeBlockHashes(prompt, 32);
    expect(stored[0]?.data.blocks?.map((b) => b.block_hash)).toEqual(hashes);
    // Then the finished sequence (prompt + 2 generated tokens): only its new last block, chained to block 6.
    expect(stored).toHaveLength(2);
    expect(stored[1]?.data.parent_hash).toBe(hashes[5]);
    expect(stored[1]?.data.blocks).toHaveLength(1);
    expect(hashes.some((h) => h > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(stored[0]?.data.blocks?.[0]?.tokens.map((t) => t.token_id)).toEqual(prompt.slice(0, 32));
    // The same prompt again: cached, no new stored event.
    const again = await complete({ prompt, max_tokens: 2 });
    expect(((again.usage as Json).prompt_tokens_details as Json).cached_tokens).toBe(192);
    // Fill the 64-block cache with other prompts: the first prompt's blocks are evicted.
    for (let k = 0; k < 3; k += 1) {
      await complete({
        prompt: Array.from({ length: 700 }, (_, i) => 400 + k * 7 + (i % 40)),
        max_tokens: 2,
      });
    }
    const later = parseJsonLossless(
      await (await fetch(`${w.url}/kv_cache_events`, { method: 'POST' })).text(),
    ) as { data: { type: string; block_hashes?: bigint[] } }[];
    const removed = later
      .filter((e) => e.data.type === 'removed')
      .flatMap((e) => e.data.block_hashes ?? []);
    expect(removed).toContain(hashes[0]);
  });

  it('reuses the blocks of a finished turn when the next turn extends the conversation', async () => {
    const turn1 = Array.from({ length: 100 }, (_, i) => 600 + (i % 70));
    const first = await complete({
      prompt: turn1,
      max_tokens: 64,
      ignore_eos: true,
      detokenize: false,
    });
    const generated = choice0(first).token_ids as number[];
    expect(generated).toHaveLength(64);
    const turn2 = [...turn1, ...generated, 301, 302, 303, 304, 305];
    const second = await complete({ prompt: turn2, max_tokens: 2 });
    // Whole blocks of turn 1's prompt + answer (164 tokens -> 5 blocks of 32) are cached, not just the prompt's 3.
    expect(((second.usage as Json).prompt_tokens_details as Json).cached_tokens).toBe(160);
  });
});
