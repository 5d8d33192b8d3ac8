// The result object from measured outputs: benchmark_serving's definitions of TPOT (first token excluded),
// ITL, E2EL, goodput (TPOT 0 for one-token answers), throughputs, per-request lists, and the flag parsers.
import { describe, expect, it } from 'vitest';

import {
  computeResult,
  parseGoodput,
  parseMetricPercentiles,
  parsePercentileMetrics,
  type RunDescription,
} from '../../../../electron/core/bench/bench-metrics';
import type { GeneratorStats, RequestOutput } from '../../../../electron/core/bench/bench-types';

const GEN: GeneratorStats = {
  cpu_ms: 1,
  cpu_us_per_request: 1,
  cpu_us_per_token: 1,
  mean_send_lag_ms: 0,
  p99_send_lag_ms: 0,
  max_send_lag_ms: 0,
};

function ok(ttftS: number, itlS: number[], outputTokens: number, promptTokens = 10): RequestOutput {
  const latencyS = ttftS + itlS.reduce((a, b) => a + b, 0);
  return {
    isSuccess: true,
    ttftS,
    itlS,
    latencyS,
    outputTokens,
    promptTokens,
    error: '',
    errorKind: '',
    scheduledMs: 0,
    startMs: 0,
    sentMs: 0,
  };
}

function failed(kind: string): RequestOutput {
  return {
    isSuccess: false,
    ttftS: 0,
    itlS: [],
    latencyS: 0,
    outputTokens: 0,
    promptTokens: 10,
    error: `${kind} happened`,
    errorKind: kind,
    scheduledMs: 0,
    startMs: 0,
    sentMs: 0,
  };
}

function run(over: Partial<RunDescription> = {}): RunDescription {
  return {
    model: 'org/My-Model-8B',
    baseUrl: 'http://127.0.0.1:8000',
    endpoint: '/v1/completions',
    requestRate: Infinity,
    burstiness: 1,
    maxConcurrency: 4,
    isStreaming: true,
    percentileMetrics: ['ttft', 'tpot', 'itl', 'e2el'],
    metricPercentiles: [50, 99],
    goodput: null,
    startedAtMs: Date.UTC(2025, 9, 1, 12, 0, 0),
    ...over,
  };
}

describe('computeResult', () => {
  const outputs = [
    ok(0.1, [0.02, 0.02, 0.02], 4),
    ok(0.3, [0.05], 2),
    ok(0.05, [], 1),
    failed('HTTP 503'),
  ];
  const issued = outputs.map(() => ({ prompt: 'p', promptLen: 10, outputLen: 4 }));
  const r = computeResult({ issued, outputs, durationS: 2, generator: GEN }, run());

  it('counts, totals and throughputs like benchmark_serving', () => {
    expect(r.completed).toBe(3);
    expect(r.failed).toBe(1);
    expect(r.num_prompts).toBe(4);
    expect(r.total_input_tokens).toBe(30);
    expect(r.total_output_tokens).toBe(7);
    expect(r.request_throughput).toBe(1.5);
    expect(r.output_throughput).toBe(3.5);
    expect(r.total_token_throughput).toBe(18.5);
    expect(r.request_rate).toBe('inf');
    expect(r.backend).toBe('openai');
    expect(r.request_goodput).toBeNull();
  });

  it('TPOT excludes the first token and skips one-token answers; ITL pools every gap', () => {
    // TPOT: (0.16 - 0.1) / 3 = 0.02 and (0.35 - 0.3) / 1 = 0.05.
    expect(r.mean_tpot_ms).toBeCloseTo(35, 9);
    expect(r.median_tpot_ms).toBeCloseTo(35, 9);
    expect(r.mean_itl_ms).toBeCloseTo(((0.02 * 3 + 0.05) / 4) * 1000, 9);
    expect(r.mean_ttft_ms).toBeCloseTo((0.45 / 3) * 1000, 9);
    expect(r.median_ttft_ms).toBeCloseTo(100, 9);
    expect(r.p99_e2el_ms).toBeGreaterThan(r.p50_e2el_ms ?? Infinity);
    expect(r.std_ttft_ms).toBeGreaterThan(0);
  });

  it('keeps per-request lists aligned with the requests, in seconds, with zeros and errors for failures', () => {
    expect(r.ttfts).toEqual([0.1, 0.3, 0.05, 0]);
    expect(r.output_lens).toEqual([4, 2, 1, 0]);
    expect(r.input_lens).toEqual([10, 10, 10, 10]);
    expect(r.itls[3]).toEqual([]);
    expect(r.errors).toEqual(['', '', '', 'HTTP 503 happened']);
    expect(r.error_counts).toEqual({ 'HTTP 503': 1 });
    expect(r.date).toMatch(/^\d{8}-\d{6}$/);
  });

  it('writes keys only for the selected metrics and percentiles', () => {
    const only = computeResult(
      { issued, outputs, durationS: 2, generator: GEN },
      run({ percentileMetrics: ['ttft'], metricPercentiles: [99.9] }),
    );
    expect(only['p99.9_ttft_ms']).toBeDefined();
    expect(only.mean_tpot_ms).toBeUndefined();
    expect(only.p99_ttft_ms).toBeUndefined();
  });

  it.each([
    [{ ttft: 150 }, 2],
    [{ ttft: 150, tpot: 30 }, 2],
    [{ tpot: 10 }, 1],
    [{ e2el: 200 }, 2],
    [{ ttft: 1000, tpot: 1000, e2el: 1000 }, 3],
  ])('goodput %j counts %d good requests (one-token answers have TPOT 0)', (slos, good) => {
    const g = computeResult(
      { issued, outputs, durationS: 2, generator: GEN },
      run({ goodput: slos }),
    );
    expect(g.request_goodput).toBeCloseTo(good / 2, 12);
    expect(g['request_goodput:']).toBe(g.request_goodput);
    expect(g.goodput).toEqual(slos);
  });

  it('names the chat backend and the rate', () => {
    const c = computeResult(
      { issued: [], outputs: [], durationS: 1, generator: GEN },
      run({ endpoint: '/v1/chat/completions', requestRate: 4 }),
    );
    expect(c.backend).toBe('openai-chat');
    expect(c.request_rate).toBe(4);
    expect(c.mean_ttft_ms).toBe(0);
  });
});

describe('flag parsers', () => {
  it('parses goodput pairs and rejects bad ones', () => {
    expect(parseGoodput(['ttft:200', 'tpot:20.5', 'e2el:0'])).toEqual({
      ttft: 200,
      tpot: 20.5,
      e2el: 0,
    });
    expect(() => parseGoodput(['itl:3'])).toThrow(/allowed: ttft, tpot, e2el/);
    expect(() => parseGoodput(['ttft'])).toThrow(/KEY:VALUE/);
    expect(() => parseGoodput(['ttft:-1'])).toThrow(/non-negative/);
  });

  it('parses percentile metrics and percentiles', () => {
    expect(parsePercentileMetrics('ttft,itl,ttft')).toEqual(['ttft', 'itl']);
    expect(() => parsePercentileMetrics('ttft,foo')).toThrow(/unknown percentile metric 'foo'/);
    expect(parseMetricPercentiles('50, 90,99.9')).toEqual([50, 90, 99.9]);
    expect(() => parseMetricPercentiles('0')).toThrow(/\(0, 100\]/);
  });
});
