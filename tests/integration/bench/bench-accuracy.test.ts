// The load test against simulated workers whose timing is known, checking the reported TTFT, ITL, TPOT and
// throughput against what the worker's timing implies, the open loop's accounting of late sends (no
// coordinated omission), and the disaggregated path through the real proxy. Only physical lower bounds
// (a simulated iteration cannot take less than its sleep, so load cannot break them), the identities
// between the metrics, and counts: no upper bound on a time or lower bound on a throughput, which a loaded
// machine breaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runBenchmark } from '../../../electron/core/bench/run-benchmark';
import {
  type RunningProcess,
  startProxyProcess,
  startSimWorker,
} from '../../../electron/core/planner/sim-cluster';
import { customGpuProfile, GPU_PROFILES } from '../../../shared/logic/gpu-profiles';
import {
  decodeStepMs,
  modelProfileFromName,
  prefillTimeMs,
} from '../../../shared/logic/timing-model';

const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const ITER_MS = 20;

describe('fixed 20 ms iterations (zero-delay engine + extraIterationMs)', () => {
  let w: RunningProcess;
  beforeAll(async () => {
    w = await startSimWorker({
      model: MODEL,
      gpu: GPU_PROFILES.h100,
      env: { DISAGG_SIM_ZERO_DELAY: '1', DISAGG_SIM_FAULTS: `{"extraIterationMs":${ITER_MS}}` },
    });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('one stream at a time: TTFT is one iteration, ITL and TPOT one iteration each, exact token counts', async () => {
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 64, outputLen: 12 },
      numPrompts: 5,
      maxConcurrency: 1,
      shouldIgnoreEos: true,
    });
    expect(r.completed).toBe(5);
    expect(r.total_input_tokens).toBe(5 * 64);
    expect(r.total_output_tokens).toBe(5 * 12);
    expect(r.output_lens).toEqual([12, 12, 12, 12, 12]);
    expect(r.itls.every((l) => l.length === 11)).toBe(true);
    expect(r.median_ttft_ms).toBeGreaterThanOrEqual(ITER_MS - 1);
    expect(r.median_itl_ms).toBeGreaterThanOrEqual(ITER_MS - 1);
    expect(r.mean_tpot_ms).toBeGreaterThanOrEqual(ITER_MS - 1);
    // E2EL = TTFT + 11 gaps of at least one iteration each, so TTFT is taken at the first token, not the last.
    for (let i = 0; i < 5; i += 1) {
      const gaps = (r.itls[i] ?? []).reduce((a, b) => a + b, 0);
      expect(r.e2els[i]).toBeCloseTo((r.ttfts[i] ?? 0) + gaps, 9);
    }
  });

  it('closed loop of 8: every iteration advances all 8 streams, so output throughput approaches 8 / 20 ms', async () => {
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 32, outputLen: 16 },
      numPrompts: 32,
      maxConcurrency: 8,
      shouldIgnoreEos: true,
      goodput: { tpot: ITER_MS * 3 },
    });
    expect(r.completed).toBe(32);
    const ideal = (8 * 1000) / ITER_MS; // tokens/s if every iteration advanced 8 sequences by one token
    // A ceiling the worker's iterations impose (load only lowers throughput); how close it comes is printed.
    expect(r.output_throughput).toBeLessThanOrEqual(ideal * 1.02);
    console.log(
      `[bench accuracy] closed loop of 8: ${r.output_throughput.toFixed(0)} tokens/s of an ideal ${ideal.toFixed(0)}`,
    );
    expect(r.output_throughput).toBeCloseTo(r.total_output_tokens / r.duration, 6);
    expect(r.request_throughput).toBeCloseTo(32 / r.duration, 6);
    expect(r.median_itl_ms).toBeGreaterThanOrEqual(ITER_MS - 1);
    expect(r.request_goodput).toBeCloseTo(r.request_throughput, 6);
  });

  it('chat and non-streaming requests are measured too', async () => {
    const chat = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/chat/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 16, outputLen: 6 },
      numPrompts: 3,
      maxConcurrency: 1,
      shouldIgnoreEos: true,
    });
    expect(chat.completed).toBe(3);
    expect(chat.output_lens).toEqual([6, 6, 6]);
    // The role-only first chunk is not a token: TTFT still covers the prefill iteration.
    expect(chat.median_ttft_ms).toBeGreaterThanOrEqual(ITER_MS - 1);
    expect(chat.itls.every((l) => l.length === 5)).toBe(true);
    const plain = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 16, outputLen: 6 },
      numPrompts: 3,
      maxConcurrency: 1,
      shouldIgnoreEos: true,
      isStreaming: false,
    });
    expect(plain.completed).toBe(3);
    expect(plain.output_lens).toEqual([6, 6, 6]);
    expect(plain.median_ttft_ms).toBeCloseTo(plain.median_e2el_ms ?? 0, 9);
    expect(plain.median_e2el_ms).toBeGreaterThanOrEqual(6 * ITER_MS - 1);
    expect(plain.mean_itl_ms).toBe(0);
  });

  it('an abort ends the run: in-flight requests fail as aborted, the rest are not sent', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 16, outputLen: 200 },
      numPrompts: 50,
      maxConcurrency: 2,
      shouldIgnoreEos: true,
      signal: controller.signal,
    });
    // Each request needs 200 iterations (4 s): "aborted" means they were cut, not waited for.
    expect(r.num_prompts).toBe(2);
    expect(r.error_counts).toEqual({ aborted: 2 });
  });

  it('open loop: a request sent late because the generator stalled is charged from its scheduled time', async () => {
    // Stall this process's event loop for 300 ms shortly after the start: requests due meanwhile go out late.
    const stall = setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // Busy wait on purpose: the generator cannot send during it.
      }
    }, 50);
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 16, outputLen: 2 },
      numPrompts: 40,
      requestRate: 50,
      shouldIgnoreEos: true,
    });
    clearTimeout(stall);
    expect(r.completed).toBe(40);
    expect(r.generator.max_send_lag_ms).toBeGreaterThan(150);
    // The worst TTFT includes the stall: at least the lag plus one iteration.
    expect(r.p99_ttft_ms).toBeGreaterThan(r.generator.max_send_lag_ms * 0.5);
    expect(Math.max(...r.ttfts) * 1000).toBeGreaterThanOrEqual(
      r.generator.max_send_lag_ms + ITER_MS - 2,
    );
  });
});

describe('timing model of a slow custom GPU (real delays)', () => {
  // A deliberately slow GPU so model times dwarf scheduling noise: ~28 ms decode steps, ~0.1-0.4 s prefills.
  const gpu = customGpuProfile({
    name: 'Slow test GPU',
    memoryGiB: 80,
    memoryBandwidthGBps: 100,
    denseBf16Tflops: 10,
  });
  const model = modelProfileFromName(MODEL);
  let w: RunningProcess;
  beforeAll(async () => {
    w = await startSimWorker({ model: MODEL, gpu });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('reports TTFT = prefill time and TPOT = decode step time of the timing model', async () => {
    const isl = 400;
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: isl, outputLen: 8 },
      numPrompts: 3,
      maxConcurrency: 1,
      shouldIgnoreEos: true,
    });
    const prefill = prefillTimeMs(isl, model, gpu);
    const step = decodeStepMs(1, model, gpu);
    expect(r.completed).toBe(3);
    // Lower bounds only (the model's sleeps are a floor; load only adds). TTFT is taken after the prefill and
    // before the decode steps: the 7 steps after it are at least 7 x step, so it is not taken at the end.
    expect(r.median_ttft_ms).toBeGreaterThanOrEqual(prefill - 1);
    expect(r.median_tpot_ms).toBeGreaterThanOrEqual(step - 1);
    for (let i = 0; i < 3; i += 1) {
      expect((r.e2els[i] ?? 0) - (r.ttfts[i] ?? 0)).toBeGreaterThanOrEqual((7 * step - 2) / 1000);
    }
    const e2el = prefill + 7 * step;
    expect(r.median_e2el_ms).toBeGreaterThanOrEqual(e2el - 2);
    console.log(
      `[bench accuracy] model TTFT ${prefill.toFixed(1)} ms, TPOT ${step.toFixed(1)} ms; measured ${r.median_ttft_ms?.toFixed(1)} / ${r.median_tpot_ms?.toFixed(1)} ms`,
    );
  });
});

describe('through the real proxy (1 context + 1 generation worker)', () => {
  let ctx: RunningProcess;
  let gen: RunningProcess;
  let proxy: RunningProcess;
  beforeAll(async () => {
    const env = { DISAGG_SIM_ZERO_DELAY: '1', DISAGG_SIM_FAULTS: '{"extraIterationMs":10}' };
    [ctx, gen] = await Promise.all([
      startSimWorker({ model: MODEL, gpu: GPU_PROFILES.h100, env }),
      startSimWorker({ model: MODEL, gpu: GPU_PROFILES.h100, env }),
    ]);
    proxy = await startProxyProcess({
      contextUrls: [ctx.hostPort],
      generationUrls: [gen.hostPort],
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([ctx?.stop(), gen?.stop()]);
  });

  it('streams every request to the end with exact token counts; TTFT covers the context phase', async () => {
    const r = await runBenchmark({
      baseUrl: proxy.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 48, outputLen: 10 },
      numPrompts: 12,
      maxConcurrency: 4,
      shouldIgnoreEos: true,
      shouldTestFirst: true,
    });
    expect(r.failed).toBe(0);
    expect(r.completed).toBe(12);
    expect(r.total_output_tokens).toBe(120);
    expect(r.total_input_tokens).toBe(12 * 48);
    // Context iteration on the ctx worker, then the first generation iteration: at least two iterations.
    expect(r.median_ttft_ms).toBeGreaterThanOrEqual(2 * 10 - 1);
    expect(r.median_itl_ms).toBeGreaterThanOrEqual(10 - 1);
  });

  it('chat through the proxy, prompts from dataset text: every stream completes with exact output counts', async () => {
    const r = await runBenchmark({
      baseUrl: proxy.url,
      endpoint: '/v1/chat/completions',
      model: MODEL,
      dataset: {
        kind: 'text',
        text: '["Tell me about asyncio", "The capital of Germany is"]',
        outputLen: 6,
      },
      numPrompts: 4,
      maxConcurrency: 2,
      shouldIgnoreEos: true,
    });
    expect(r.failed).toBe(0);
    expect(r.output_lens).toEqual([6, 6, 6, 6]);
    // The generation worker may send the context's first token together with its own first one (one chunk,
    // usage jumping by 2): token events, and so ITL entries, can be one fewer than the tokens; TPOT uses usage.
    expect(r.itls.every((l) => l.length === 4 || l.length === 5)).toBe(true);
    // Chat prompts are templated by the server: the input count is the server's usage, above the raw text's.
    expect(r.input_lens.every((n) => n > 4)).toBe(true);
    expect(r.median_ttft_ms).toBeGreaterThanOrEqual(2 * 10 - 1);
  });

  it('fails fast with a clear message when the server cannot be reached', async () => {
    await expect(
      runBenchmark({
        baseUrl: 'http://127.0.0.1:9',
        endpoint: '/v1/completions',
        model: MODEL,
        dataset: { kind: 'random', inputLen: 4, outputLen: 2 },
        numPrompts: 1,
        shouldTestFirst: true,
        requestTimeoutMs: 5_000,
      }),
    ).rejects.toThrow(/Initial test run failed/);
  });
});
