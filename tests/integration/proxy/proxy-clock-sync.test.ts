// Steady-clock alignment (trtllm-protocol.md 8.3) against simulated workers whose steady clocks are skewed
// by DISAGG_SIM_STEADY_CLOCK_SKEW_S: after the proxy's sync the workers' /perf_metrics timestamps line up
// with the proxy's own disagg_server_* times, for workers present at start and for one that joins later.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { steadySeconds } from '../../../electron/core/proxy/perf-metrics';
import { type SimProcess, startSimWorker, tempFile } from '../sim/sim-process';
import type { ProxyUnderTest } from './proxy-test-kit';
import { request, startProxy, waitFor } from './proxy-test-kit';

const OPTIONS =
  'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\nreturn_perf_metrics: true\nperf_metrics_max_requests: 100\n';
const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const CTX_SKEW_S = 1000;
const GEN_SKEW_S = -500;
const JOINER_SKEW_S = 77;
/** Generous: the workers are local and zero-delay, a real misalignment is the hundreds of seconds of skew. */
const SLACK_S = 2;

interface Timing {
  server_arrival_time: number;
  arrival_time: number;
  first_token_time: number;
  last_token_time: number;
}
interface PerfItem {
  ctx_server: string;
  gen_server: string;
  disagg_server_arrival_time: number;
  disagg_server_first_token_time: number;
  ctx_perf_metrics: { perf_metrics: { timing_metrics: Timing } } | null;
  gen_perf_metrics: { perf_metrics: { timing_metrics: Timing } };
}

describe('proxy steady-clock sync with skewed sim workers', () => {
  let ctx: SimProcess;
  let gen: SimProcess;
  let joiner: SimProcess;
  let p: ProxyUnderTest;

  beforeAll(async () => {
    const opts = tempFile('clock.yaml', OPTIONS);
    const env = (skew: number): Record<string, string> => ({
      DISAGG_SIM_ZERO_DELAY: '1',
      DISAGG_SIM_STEADY_CLOCK_SKEW_S: String(skew),
    });
    [ctx, gen, joiner] = await Promise.all([
      startSimWorker([MODEL, '--extra_llm_api_options', opts], env(CTX_SKEW_S)),
      startSimWorker([MODEL, '--extra_llm_api_options', opts], env(GEN_SKEW_S)),
      startSimWorker([MODEL, '--extra_llm_api_options', opts], env(JOINER_SKEW_S)),
    ]);
  }, 60_000);

  afterAll(async () => {
    await p?.proxy.close();
    await Promise.all([ctx, gen, joiner].map((s) => s?.stop()));
  });

  it('the sim skew is real: its raw steady clock is off by the configured seconds', async () => {
    const before = steadySeconds();
    const r = (await (await fetch(`${ctx.url}/steady_clock_offset`)).json()) as {
      receive_ts: number;
      transmit_ts: number;
    };
    const after = steadySeconds();
    expect(r.receive_ts).toBeGreaterThan(before + CTX_SKEW_S - SLACK_S);
    expect(r.transmit_ts).toBeLessThan(after + CTX_SKEW_S + SLACK_S);
  });

  function checkAligned(it: PerfItem, t0: number, t1: number): void {
    // The proxy's own stamps are on the test's clock (both CLOCK_MONOTONIC, same machine).
    expect(it.disagg_server_arrival_time).toBeGreaterThanOrEqual(t0);
    expect(it.disagg_server_first_token_time).toBeLessThanOrEqual(t1);
    const ctxT = it.ctx_perf_metrics?.perf_metrics.timing_metrics;
    const genT = it.gen_perf_metrics.perf_metrics.timing_metrics;
    expect(ctxT).toBeDefined();
    for (const t of [ctxT as Timing, genT]) {
      for (const v of [
        t.server_arrival_time,
        t.arrival_time,
        t.first_token_time,
        t.last_token_time,
      ]) {
        expect(v).toBeGreaterThan(it.disagg_server_arrival_time - SLACK_S);
        expect(v).toBeLessThan(it.disagg_server_first_token_time + SLACK_S);
      }
    }
    // The context request reaches its worker after the proxy received it, and the generation after that.
    expect((ctxT as Timing).server_arrival_time).toBeGreaterThan(
      it.disagg_server_arrival_time - 0.5,
    );
    expect(genT.server_arrival_time).toBeGreaterThan((ctxT as Timing).server_arrival_time - 0.5);
  }

  it('workers present at start: perf timestamps are on the proxy clock', async () => {
    p = await startProxy({
      contextUrls: [`127.0.0.1:${ctx.port}`],
      generationUrls: [`127.0.0.1:${gen.port}`],
      perfMetricsMaxRequests: 50,
    });
    const synced = (url: string): boolean =>
      p.logs.some((l) => l.startsWith(`info Server: ${url}, delay:`));
    await waitFor(() => synced(ctx.url) && synced(gen.url), 15_000, 'clock sync of both workers');
    const t0 = steadySeconds();
    for (let i = 0; i < 3; i++) {
      const r = await request(
        p.port,
        'POST',
        '/v1/completions',
        JSON.stringify({ model: MODEL, prompt: `clock ${i}`, max_tokens: 3 }),
      );
      expect(r.status).toBe(200);
    }
    const t1 = steadySeconds();
    let items: PerfItem[] = [];
    await waitFor(
      async () => {
        items = items.concat(
          JSON.parse((await request(p.port, 'GET', '/perf_metrics')).body) as PerfItem[],
        );
        return items.length >= 3;
      },
      10_000,
      'three perf_metrics pairs',
    );
    expect(items).toHaveLength(3);
    for (const item of items) checkAligned(item, t0, t1);
    const line = p.logs.find((l) => l.startsWith(`info Server: ${ctx.url}, delay:`)) ?? '';
    // The measured offset is the skew (the log prints worker minus proxy).
    expect(Number(/offset: (-?[\d.]+)/.exec(line)?.[1])).toBeCloseTo(CTX_SKEW_S, 0);
  });

  it('a worker that joins later is synced too', async () => {
    p.proxy.addWorker('generation', `http://127.0.0.1:${joiner.port}`);
    await waitFor(
      () => p.logs.some((l) => l.startsWith(`info Server: ${joiner.url}, delay:`)),
      15_000,
      'clock sync of the joiner',
    );
    const t0 = steadySeconds();
    // Round robin over the two gen workers: four requests reach both.
    for (let i = 0; i < 4; i++) {
      const r = await request(
        p.port,
        'POST',
        '/v1/completions',
        JSON.stringify({ model: MODEL, prompt: `join ${i}`, max_tokens: 3 }),
      );
      expect(r.status).toBe(200);
    }
    const t1 = steadySeconds();
    let items: PerfItem[] = [];
    await waitFor(
      async () => {
        items = items.concat(
          JSON.parse((await request(p.port, 'GET', '/perf_metrics')).body) as PerfItem[],
        );
        return items.length >= 4;
      },
      10_000,
      'four perf_metrics pairs',
    );
    expect(new Set(items.map((i) => i.gen_server))).toEqual(new Set([gen.url, joiner.url]));
    for (const item of items) checkAligned(item, t0, t1);
  });
});
