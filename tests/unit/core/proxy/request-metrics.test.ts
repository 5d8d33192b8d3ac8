// Per-request metrics with upstream's formats and arithmetic (docs/upstream-versions.md section 3;
// perf_metrics.py build_metrics_headers / build_metrics_record_from_headers / combine_disagg_metrics).
import { describe, expect, it } from 'vitest';

import {
  buildMetricsHeaders,
  disaggPhase,
  limitMetricsHeaders,
  metricsFromSseEvent,
  metricsSseEvent,
  phaseFromWorkerHeaders,
  wantsRequestMetrics,
} from '../../../../electron/core/proxy/request-metrics';

const workerTiming = {
  arrival_time: 10,
  first_scheduled_time: 10.00125,
  first_token_time: 10.0085,
  last_token_time: 10.024,
  kv_cache_transfer_start: null,
  kv_cache_transfer_end: null,
};

describe('worker phase', () => {
  it('formats a server phase as upstream (ms with 6 decimals, stamps with 9)', () => {
    const h = buildMetricsHeaders([{ name: 'server', timing: workerTiming }]);
    expect(h).toEqual({
      'Server-Timing':
        'server_queue;dur=1.250000, server_ttft;dur=8.500000, server_e2e;dur=24.000000',
      'X-TRTLLM-Start-End-Time': 'server-start;ts=10.000000000, server-end;ts=10.024000000',
    });
  });

  it('leaves out ranges with a missing or negative end', () => {
    const h = buildMetricsHeaders([
      { name: 'server', timing: { arrival_time: 5, first_token_time: 4 } },
    ]);
    expect(h).toEqual({ 'X-TRTLLM-Start-End-Time': 'server-start;ts=5.000000000' });
  });
});

describe('merge on the disaggregated server', () => {
  const ctxHeaders = buildMetricsHeaders([
    {
      name: 'server',
      timing: {
        arrival_time: 1,
        first_scheduled_time: 1.01,
        first_token_time: 1.02,
        last_token_time: 1.02,
      },
    },
  ]);
  const genHeaders = {
    ...buildMetricsHeaders([
      {
        name: 'server',
        timing: {
          arrival_time: 1.03,
          first_scheduled_time: 1.035,
          first_token_time: 1.04,
          last_token_time: 1.2,
          kv_cache_transfer_start: 1.031,
          kv_cache_transfer_end: 1.034,
        },
      },
    ]),
    'X-TRTLLM-Step-Metrics': 'server-step-3-forward;dur=2.000000',
  };

  it('renames the worker phase and recovers its timestamps from stamps + durations', () => {
    const ctx = phaseFromWorkerHeaders(ctxHeaders, 'ctx');
    expect(ctx?.inherited?.['Server-Timing']).toBe(
      'ctx_queue;dur=10.000000, ctx_ttft;dur=20.000000, ctx_e2e;dur=20.000000',
    );
    expect(ctx?.timing.arrival_time).toBe(1);
    expect(ctx?.timing.first_scheduled_time).toBeCloseTo(1.01, 9);
    expect(ctx?.timing.first_token_time).toBeCloseTo(1.02, 9);
    expect(ctx?.timing.last_token_time).toBe(1.02);
    expect(phaseFromWorkerHeaders({}, 'ctx')).toBeUndefined();
  });

  it('answers disagg, ctx, gen in order; disagg queue/ttft from the proxy clock; worker entries recomputed then inherited', () => {
    const ctx = phaseFromWorkerHeaders(ctxHeaders, 'ctx');
    const gen = phaseFromWorkerHeaders(genHeaders, 'gen');
    const phases = [
      disaggPhase({
        arrivalSec: 0.99,
        ctxDispatchSec: 1.0,
        firstTokenSec: 1.05,
        lastTokenSec: 1.21,
      }),
      ...(ctx ? [ctx] : []),
      ...(gen ? [gen] : []),
    ];
    const h = buildMetricsHeaders(phases);
    const timing = (h['Server-Timing'] ?? '').split(', ');
    expect(timing.slice(0, 2)).toEqual(['disagg_queue;dur=10.000000', 'disagg_ttft;dur=60.000000']);
    // ctx: recomputed from the recovered stamps, then the worker's own text (upstream writes both).
    expect(timing.slice(2, 8)).toEqual([
      'ctx_queue;dur=10.000000',
      'ctx_ttft;dur=20.000000',
      'ctx_e2e;dur=20.000000',
      'ctx_queue;dur=10.000000',
      'ctx_ttft;dur=20.000000',
      'ctx_e2e;dur=20.000000',
    ]);
    // gen's kv_transfer exists only in its inherited text: no stamps travel for it.
    expect(timing.filter((t) => t.startsWith('gen_kv_transfer'))).toEqual([
      'gen_kv_transfer;dur=3.000000',
    ]);
    expect(
      h['X-TRTLLM-Start-End-Time']?.startsWith(
        'disagg-start;ts=0.990000000, disagg-end;ts=1.210000000, ctx-start;ts=1.000000000',
      ),
    ).toBe(true);
    expect(h['X-TRTLLM-Step-Metrics']).toBe('gen-step-3-forward;dur=2.000000');
  });

  it('without a context phase (ctx skipped) the disagg queue is left out', () => {
    const h = buildMetricsHeaders([
      disaggPhase({ arrivalSec: 1, ctxDispatchSec: null, firstTokenSec: 1.5, lastTokenSec: 2 }),
    ]);
    expect(h['Server-Timing']).toBe('disagg_ttft;dur=500.000000');
  });
});

describe('stream event and opt-in', () => {
  it('writes the event after [DONE] as compact JSON in header order and reads it back', () => {
    const headers = {
      'X-TRTLLM-Start-End-Time': 'server-start;ts=1.000000000',
      'Server-Timing': 'server_ttft;dur=1.000000',
    };
    const event = metricsSseEvent(headers);
    expect(event).toBe(
      'event: trtllm.perf_metrics\ndata: {"Server-Timing":"server_ttft;dur=1.000000","X-TRTLLM-Start-End-Time":"server-start;ts=1.000000000"}\n\n',
    );
    expect(metricsFromSseEvent(event)).toEqual(headers);
    expect(metricsFromSseEvent('data: [DONE]\n\n')).toBeUndefined();
    expect(metricsSseEvent({})).toBe('');
  });

  it('drops step and chunk lists above 80 KiB', () => {
    const big = { 'Server-Timing': 'x', 'X-TRTLLM-Step-Metrics': 'y'.repeat(90 * 1024) };
    expect(limitMetricsHeaders(big)).toEqual({ 'Server-Timing': 'x' });
  });

  it.each([
    ['1', true],
    [' 1 ', true],
    ['true', false],
    ['0', false],
    [undefined, false],
    [['1'], true],
  ] as const)('opt-in %j -> %s', (v, expected) => {
    expect(wantsRequestMetrics(v as string | string[] | undefined)).toBe(expected);
  });
});
