// The timing model on real processes: in-flight batching bounded by max_batch_size with queueing, tensor
// parallelism speeding prefill up, and a disconnected client freeing its batch slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postJson, type SimProcess, sseData, startSimWorker, tempFile } from './sim-process';

type Json = Record<string, unknown>;

describe('batching and queueing (max_batch_size 2, real delays)', () => {
  let w: SimProcess;
  beforeAll(async () => {
    const options = tempFile(
      'b.yaml',
      'enable_iter_perf_stats: true\nstream_interval: 4\nprint_iter_log: true\n',
    );
    w = await startSimWorker(['m', '--max_batch_size', '2', '--config', options], {
      DISAGG_SIM_FAULTS: '{"extraIterationMs":15}',
    });
  });
  afterAll(async () => {
    await w.stop();
  });

  it('runs at most 2 requests at once and queues the rest', async () => {
    await fetch(`${w.url}/metrics`);
    const started = Date.now();
    const ends = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const r = await postJson(`${w.url}/v1/completions`, {
          model: 'm',
          prompt: 'the long road home',
          max_tokens: 10,
          ignore_eos: true,
        });
        expect(r.status).toBe(200);
        return Date.now() - started;
      }),
    );
    const stats = (await (await fetch(`${w.url}/metrics`)).json()) as Json[];
    expect(Math.max(...stats.map((s) => Number(s.numActiveRequests)))).toBe(2);
    expect(Math.max(...stats.map((s) => Number(s.numQueuedRequests)))).toBeGreaterThanOrEqual(3);
    // Three waves of ~10 iterations of >= 15 ms each.
    expect(Math.max(...ends)).toBeGreaterThan(3 * 10 * 15);
  });

  it('streams every stream_interval tokens', async () => {
    const r = await postJson(`${w.url}/v1/completions`, {
      model: 'm',
      prompt: 'a b c',
      max_tokens: 12,
      ignore_eos: true,
      stream: true,
    });
    const chunks = sseData(r.text)
      .slice(0, -1)
      .map((d) => JSON.parse(d) as { choices: { text: string; finish_reason: string | null }[] });
    expect(chunks).toHaveLength(3);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, 'length']);
    // print_iter_log: the executor's per-iteration line with the states dict the slurm scripts parse.
    await expect
      .poll(() => w.output(), { timeout: 20_000 })
      .toMatch(
        /iter = \d+, .*states = \{'num_ctx_requests': 1, 'num_ctx_tokens': \d+, 'num_generation_tokens': 0\}/,
      );
  });

  it('frees the slot of a client that disconnects mid-stream', async () => {
    const controller = new AbortController();
    const res = await fetch(`${w.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        prompt: 'x y z',
        max_tokens: 500,
        ignore_eos: true,
        stream: true,
      }),
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    let active = -1;
    for (let i = 0; i < 40 && active !== 0; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      const info = (await (await fetch(`${w.url}/_sim/info`)).json()) as {
        scheduler: { active: number };
      };
      active = info.scheduler.active;
    }
    expect(active).toBe(0);
  });
});

describe('tensor parallelism', () => {
  it('prefills a long prompt faster with tp_size 2 (simulated RTX 4090)', async () => {
    const env = { DISAGG_SIM_GPU: 'rtx4090' };
    const [tp1, tp2] = await Promise.all([
      startSimWorker(['meta-llama/Llama-3.1-8B-Instruct'], { ...env, CUDA_VISIBLE_DEVICES: '0' }),
      startSimWorker(['meta-llama/Llama-3.1-8B-Instruct', '--tp_size', '2'], {
        ...env,
        CUDA_VISIBLE_DEVICES: '0,1',
      }),
    ]);
    try {
      const prompt = Array.from({ length: 4000 }, (_, i) => 300 + (i % 200));
      const ttft = async (w: SimProcess): Promise<number> => {
        const started = Date.now();
        const r = await postJson(`${w.url}/v1/completions`, { model: 'm', prompt, max_tokens: 1 });
        expect(r.status).toBe(200);
        return Date.now() - started;
      };
      const one = await ttft(tp1);
      const two = await ttft(tp2);
      // About 0.8 s vs 0.45 s of simulated prefill.
      expect(one).toBeGreaterThan(600);
      expect(one - two).toBeGreaterThan(200);
    } finally {
      await Promise.all([tp1.stop(), tp2.stop()]);
    }
  });
});
