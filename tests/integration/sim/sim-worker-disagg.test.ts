// The disaggregated flow between two real sim workers, driven exactly as the proxy does (protocol section 5):
// a context_only request to the context worker, then the generation request with the params flipped to
// generation_only and the prompt replaced by prompt_token_ids (completions) or added (chat).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { computeBlockHashes } from '../../../shared/logic/kv-block-hash';
import { parseJsonLossless } from '../../../shared/logic/lossless-json';
import { postJson, type SimProcess, sseData, startSimWorker, tempFile } from './sim-process';

type Json = Record<string, unknown>;

let ctx: SimProcess;
let gen: SimProcess;
const TRANSFER_TIMEOUT_MS = 1_500;

beforeAll(async () => {
  const ctxOptions = tempFile(
    'ctx.yaml',
    `disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\n  kv_transfer_timeout_ms: ${TRANSFER_TIMEOUT_MS}\nkv_cache_config:\n  event_buffer_max_size: 1024\n`,
  );
  const genOptions = tempFile(
    'gen.yaml',
    'cache_transceiver_config:\n  backend: UCX\nreturn_perf_metrics: true\nperf_metrics_max_requests: 50\nkv_cache_config:\n  event_buffer_max_size: 1024\n',
  );
  [ctx, gen] = await Promise.all([
    startSimWorker(['m', '--extra_llm_api_options', ctxOptions, '--server_role', 'context'], {
      DISAGG_SIM_ZERO_DELAY: '1',
    }),
    // The gen worker keeps real delays so the KV transfer time is measurable (0.2 GB/s link).
    startSimWorker(['m', '--extra_llm_api_options', genOptions, '--server_role', 'generation'], {
      DISAGG_SIM_KV_LINK_GB_S: '0.2',
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([ctx?.stop(), gen?.stop()]);
});

function choice0(body: unknown): Json {
  return ((body as Json).choices as Json[])[0] ?? {};
}

async function contextPhase(path: string, request: Json): Promise<Json> {
  const r = await postJson(`${ctx.url}${path}`, {
    ...request,
    disaggregated_params: { request_type: 'context_only' },
    stream: false,
    stream_options: null,
  });
  expect(r.status).toBe(200);
  return r.body as Json;
}

function genParams(ctxBody: Json): Json {
  return { ...(choice0(ctxBody).disaggregated_params as Json), request_type: 'generation_only' };
}

const PROMPT = 'Once upon a time the old man walked to the market with his small dog and';

describe('disaggregated completions', () => {
  it.each([
    [{ temperature: 0 }],
    [{ temperature: 0.9, seed: 42 }],
    [{ temperature: 1, top_p: 0.8, seed: 7, ignore_eos: true }],
  ])(
    'gives the aggregated text for the same prompt and sampling (%j), first token not repeated',
    async (sampling) => {
      const request = { model: 'm', prompt: PROMPT, max_tokens: 32, ...sampling };
      const agg = await postJson(`${gen.url}/v1/completions`, request);
      const aggText = String(choice0(agg.body).text);
      const ctxBody = await contextPhase('/v1/completions', request);
      const firstText = String(choice0(ctxBody).text);
      expect(firstText.length).toBeGreaterThan(0);
      const g = await postJson(`${gen.url}/v1/completions`, {
        ...request,
        prompt: ctxBody.prompt_token_ids,
        disaggregated_params: genParams(ctxBody),
      });
      expect(g.status).toBe(200);
      const genText = String(choice0(g.body).text);
      expect(genText).toBe(aggText);
      expect(genText.startsWith(firstText)).toBe(true);
      expect(genText.startsWith(firstText + firstText)).toBe(false);
      expect(((g.body as Json).usage as Json).completion_tokens).toBe(
        ((agg.body as Json).usage as Json).completion_tokens,
      );
    },
  );

  it('streams the same text from the generation worker', async () => {
    const request = { model: 'm', prompt: PROMPT, max_tokens: 20, temperature: 0 };
    const aggText = String(
      choice0((await postJson(`${ctx.url}/v1/completions`, request)).body).text,
    );
    const ctxBody = await contextPhase('/v1/completions', request);
    const r = await postJson(`${gen.url}/v1/completions`, {
      ...request,
      prompt: ctxBody.prompt_token_ids,
      stream: true,
      disaggregated_params: genParams(ctxBody),
    });
    const chunks = sseData(r.text);
    expect(chunks[chunks.length - 1]).toBe('[DONE]');
    const text = chunks
      .slice(0, -1)
      .map((d) => String(choice0(JSON.parse(d)).text))
      .join('');
    expect(text).toBe(aggText);
  });

  it('gives an immediate length finish for max_tokens 1 on the generation worker', async () => {
    const request = { model: 'm', prompt: PROMPT, max_tokens: 1, temperature: 0 };
    const ctxBody = await contextPhase('/v1/completions', request);
    expect(choice0(ctxBody).finish_reason).toBe('length');
    const g = await postJson(`${gen.url}/v1/completions`, {
      ...request,
      prompt: ctxBody.prompt_token_ids,
      disaggregated_params: genParams(ctxBody),
    });
    expect(choice0(g.body)).toMatchObject({ text: choice0(ctxBody).text, finish_reason: 'length' });
  });
});

describe('disaggregated chat', () => {
  it('gives the aggregated content when the gen request carries prompt_token_ids and the messages', async () => {
    const request = {
      model: 'm',
      messages: [
        { role: 'system', content: 'You are a helpfule assistant.' },
        { role: 'user', content: 'What is the capital of Germany?' },
      ],
      max_tokens: 24,
      temperature: 0,
    };
    const agg = await postJson(`${ctx.url}/v1/chat/completions`, request);
    const aggText = String((choice0(agg.body).message as Json).content);
    const ctxBody = await contextPhase('/v1/chat/completions', request);
    expect(Array.isArray(ctxBody.prompt_token_ids)).toBe(true);
    const g = await postJson(`${gen.url}/v1/chat/completions`, {
      ...request,
      prompt_token_ids: ctxBody.prompt_token_ids,
      disaggregated_params: genParams(ctxBody),
    });
    expect(g.status).toBe(200);
    expect((choice0(g.body).message as Json).content).toBe(aggText);
    const firstText = String((choice0(ctxBody).message as Json).content);
    expect(aggText.startsWith(firstText + firstText)).toBe(false);
    const s = await postJson(`${gen.url}/v1/chat/completions`, {
      ...request,
      stream: true,
      prompt_token_ids: (await contextPhase('/v1/chat/completions', request)).prompt_token_ids,
      disaggregated_params: genParams(await contextPhase('/v1/chat/completions', request)),
    });
    const streamed = sseData(s.text)
      .slice(1, -1)
      .map((d) => ((choice0(JSON.parse(d)).delta as Json).content as string | undefined) ?? '')
      .join('');
    expect(streamed).toBe(aggText);
  });
});

describe('KV state on the context worker', () => {
  async function pending(): Promise<number[]> {
    const info = (await (await fetch(`${ctx.url}/_sim/info`)).json()) as {
      pending_contexts: number[];
    };
    return info.pending_contexts;
  }

  it('keeps the state until the transfer, then frees it (a second pull fails fast)', async () => {
    const request = { model: 'm', prompt: PROMPT, max_tokens: 8, temperature: 0 };
    const ctxBody = await contextPhase('/v1/completions', request);
    const id = Number((choice0(ctxBody).disaggregated_params as Json).ctx_request_id);
    expect(await pending()).toContain(id);
    const first = await postJson(`${gen.url}/v1/completions`, {
      ...request,
      prompt: ctxBody.prompt_token_ids,
      disaggregated_params: genParams(ctxBody),
    });
    expect(first.status).toBe(200);
    expect(await pending()).not.toContain(id);
    // The state is gone from the context worker (above), so the 400 is the lookup's answer, not a transfer
    // that waited for kv_transfer_timeout_ms.
    const second = await postJson(`${gen.url}/v1/completions`, {
      ...request,
      prompt: ctxBody.prompt_token_ids,
      disaggregated_params: genParams(ctxBody),
    });
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ object: 'error', code: 400 });
    expect(String((second.body as Json).message)).toContain(
      `unknown or expired ctx_request_id ${id}`,
    );
  });

  it('rejects an unknown ctx_request_id', async () => {
    const ctxBody = await contextPhase('/v1/completions', {
      model: 'm',
      prompt: 'hello there',
      max_tokens: 4,
    });
    const params = { ...genParams(ctxBody), ctx_request_id: 4242 };
    const r = await postJson(`${gen.url}/v1/completions`, {
      model: 'm',
      prompt: ctxBody.prompt_token_ids,
      max_tokens: 4,
      disaggregated_params: params,
    });
    expect(r.status).toBe(400);
    expect(String((r.body as Json).message)).toContain('unknown or expired ctx_request_id 4242');
  });

  it('frees an unclaimed state after kv_transfer_timeout_ms', async () => {
    const request = { model: 'm', prompt: 'a short story about the sea', max_tokens: 4 };
    const ctxBody = await contextPhase('/v1/completions', request);
    const id = Number((choice0(ctxBody).disaggregated_params as Json).ctx_request_id);
    expect(await pending()).toContain(id);
    const created = Date.now();
    let ids = await pending();
    while (ids.includes(id) && Date.now() - created < TRANSFER_TIMEOUT_MS + 5_000) {
      await new Promise((r) => setTimeout(r, 100));
      ids = await pending();
    }
    expect(ids).not.toContain(id);
    expect(Date.now() - created).toBeGreaterThanOrEqual(TRANSFER_TIMEOUT_MS / 2);
    const r = await postJson(`${gen.url}/v1/completions`, {
      ...request,
      prompt: ctxBody.prompt_token_ids,
      disaggregated_params: genParams(ctxBody),
    });
    expect(r.status).toBe(400);
  });

  it('takes transfer time proportional to the KV bytes (0.2 GB/s link) and reports it in perf metrics', async () => {
    await fetch(`${gen.url}/perf_metrics`);
    const timeGen = async (prompt: number[]): Promise<number> => {
      const request = { model: 'm', prompt, max_tokens: 2, temperature: 0 };
      const ctxBody = await contextPhase('/v1/completions', request);
      const started = Date.now();
      const r = await postJson(`${gen.url}/v1/completions`, {
        ...request,
        prompt: ctxBody.prompt_token_ids,
        disaggregated_params: genParams(ctxBody),
      });
      expect(r.status).toBe(200);
      return Date.now() - started;
    };
    const short = await timeGen(Array.from({ length: 20 }, (_, i) => 300 + i));
    const long = await timeGen(Array.from({ length: 1_000 }, (_, i) => 300 + (i % 90)));
    // 1000 tokens x 128 KiB per token (8B-class model, fp16) at 0.2 GB/s is about 650 ms, 20 tokens about
    // 13 ms: floors on the long one (load only adds time); the difference is printed, not asserted.
    expect(long).toBeGreaterThanOrEqual(600);
    console.log(`KV transfer at 0.2 GB/s: ${long} ms for 1000 tokens, ${short} ms for 20`);
    const perf = (await (await fetch(`${gen.url}/perf_metrics`)).json()) as {
      ctx_request_id?: number;
      perf_metrics: { timing_metrics: Record<string, number> };
    }[];
    expect(perf).toHaveLength(2);
    const t = perf[1]?.perf_metrics.timing_metrics ?? {};
    expect(perf[1]?.ctx_request_id).toEqual(expect.any(Number));
    expect(t.kv_cache_size).toBe(1_000 * 131_072);
    expect((t.kv_cache_transfer_end ?? 0) - (t.kv_cache_transfer_start ?? 0)).toBeGreaterThan(0.5);
  });
});

describe('KV events across the pair', () => {
  it('starts with created and reports the same prompt blocks on both workers', async () => {
    const fresh = parseJsonLossless(
      await (await fetch(`${gen.url}/kv_cache_events`, { method: 'POST' })).text(),
    ) as { event_id: number; data: { type: string } }[];
    expect(fresh[0]).toMatchObject({ event_id: 0, data: { type: 'created' } });
    await fetch(`${ctx.url}/kv_cache_events`, { method: 'POST' });
    const prompt = Array.from({ length: 100 }, (_, i) => 500 + i);
    const request = { model: 'm', prompt, max_tokens: 3 };
    const ctxBody = await contextPhase('/v1/completions', request);
    await postJson(`${gen.url}/v1/completions`, {
      ...request,
      disaggregated_params: genParams(ctxBody),
    });
    const blocksOf = async (url: string): Promise<bigint[]> => {
      const events = parseJsonLossless(
        await (await fetch(`${url}/kv_cache_events`, { method: 'POST' })).text(),
      ) as { data: { type: string; blocks?: { block_hash: bigint }[] } }[];
      // The first stored event is the prompt; a generation worker later adds the finished sequence's blocks.
      const first = events.find((e) => e.data.type === 'stored');
      return (first?.data.blocks ?? []).map((b) => b.block_hash);
    };
    const expected = computeBlockHashes(prompt, 32);
    expect(await blocksOf(ctx.url)).toEqual(expected);
    expect(await blocksOf(gen.url)).toEqual(expected);
  });
});
