// The load generator at scale against a zero-delay simulated worker: 1000 concurrent streams and an open
// loop at 500 requests/s complete with exact counts, and the generator reports its own cost. That cost (CPU
// per request and per token, send lag; measured ~15-20 us/token and ~0.5 ms/request of 32 tokens on 2 idle
// cores) is printed, not asserted: it is a wall-clock figure that a loaded machine changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runBenchmark } from '../../../electron/core/bench/run-benchmark';
import { type RunningProcess, startSimWorker } from '../../../electron/core/planner/sim-cluster';
import { GPU_PROFILES } from '../../../shared/logic/gpu-profiles';

const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

describe('load generator overhead (zero-delay worker)', () => {
  let w: RunningProcess;
  beforeAll(async () => {
    w = await startSimWorker({
      model: MODEL,
      gpu: GPU_PROFILES.h100,
      env: { DISAGG_SIM_ZERO_DELAY: '1' },
    });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('1000 concurrent streams of 32 tokens: every stream completes, the generator reports its cost', async () => {
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 32, outputLen: 32 },
      numPrompts: 1000,
      maxConcurrency: 1000,
      shouldIgnoreEos: true,
      percentileMetrics: ['ttft', 'itl'],
    });
    const g = r.generator;
    console.log(
      `[bench overhead] ${r.completed} streams x 32 tokens in ${r.duration.toFixed(2)} s: generator CPU ${g.cpu_ms.toFixed(0)} ms = ` +
        `${g.cpu_us_per_request.toFixed(0)} us/request, ${g.cpu_us_per_token.toFixed(1)} us/token; send lag p99 ${g.p99_send_lag_ms.toFixed(1)} ms`,
    );
    expect(r.completed).toBe(1000);
    expect(r.total_output_tokens).toBe(1000 * 32);
    expect(r.itls.every((l) => l.length === 31)).toBe(true);
    expect(g.cpu_us_per_token).toBeGreaterThan(0);
    expect(g.cpu_us_per_request).toBeCloseTo((g.cpu_ms * 1000) / r.completed, 6);
  });

  it('open loop at 500 requests/s: every request completes, send lag is reported', async () => {
    const r = await runBenchmark({
      baseUrl: w.url,
      endpoint: '/v1/completions',
      model: MODEL,
      dataset: { kind: 'random', inputLen: 16, outputLen: 8 },
      numPrompts: 500,
      requestRate: 500,
      shouldIgnoreEos: true,
      seed: 3,
    });
    console.log(
      `[bench overhead] open loop 500/s: send lag mean ${r.generator.mean_send_lag_ms.toFixed(2)} ms, p99 ${r.generator.p99_send_lag_ms.toFixed(2)} ms; ${r.generator.cpu_us_per_request.toFixed(0)} us/request`,
    );
    expect(r.completed).toBe(500);
    expect(r.generator.p99_send_lag_ms).toBeGreaterThanOrEqual(0);
    expect(r.generator.max_send_lag_ms).toBeGreaterThanOrEqual(r.generator.p99_send_lag_ms);
  });
});
