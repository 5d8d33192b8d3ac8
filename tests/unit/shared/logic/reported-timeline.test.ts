// The playground's timeline from the workers' per-request metrics (docs/upstream-versions.md section 3): the
// headers our proxy builds with upstream's arithmetic map to context, KV transfer and generation bars.
import { describe, expect, it } from 'vitest';

import {
  buildMetricsHeaders,
  type MetricsPhase,
} from '../../../../electron/core/proxy/request-metrics';
import {
  parseReportedMetrics,
  reportedMetricsFromEvent,
  reportedTimeline,
} from '../../../../shared/logic/reported-timeline';

/** A merged disaggregated answer: server arrival at t=100 s, context 2-200 ms, generation 210-1000 ms. */
const PHASES: MetricsPhase[] = [
  {
    name: 'disagg',
    timing: {
      arrival_time: 100,
      last_token_time: 101,
      server_arrival_time: 100,
      ctx_dispatch_time: 100.002,
      server_first_token_time: 100.3,
    },
  },
  {
    name: 'ctx',
    timing: {
      arrival_time: 100.002,
      first_scheduled_time: 100.003,
      first_token_time: 100.2,
      last_token_time: 100.2,
    },
  },
  {
    name: 'gen',
    timing: {
      arrival_time: 100.21,
      kv_cache_transfer_start: 100.21,
      kv_cache_transfer_end: 100.25,
      first_scheduled_time: 100.25,
      first_token_time: 100.3,
      last_token_time: 101,
    },
  },
];

const round = (segments: { kind: string; fromMs: number; toMs: number }[]): string[] =>
  segments.map((s) => `${s.kind} ${s.fromMs.toFixed(1)}-${s.toMs.toFixed(1)}`);

describe('reportedTimeline', () => {
  it('places each phase where its stamps say, from the server arrival', () => {
    const reported = parseReportedMetrics(buildMetricsHeaders(PHASES));
    if (!reported) throw new Error('no metrics parsed');
    expect(reported.durationsMs['gen_kv_transfer']).toBeCloseTo(40, 6);
    const t = reportedTimeline(reported);
    expect(round(t?.segments ?? [])).toEqual([
      'proxy 0.0-2.0',
      'context 2.0-200.0',
      'handoff 210.0-250.0',
      'generation 250.0-1000.0',
    ]);
    expect(t?.segments.every((s) => /reported/.test(s.label))).toBe(true);
    expect(t?.totalMs).toBeCloseTo(1000, 6);
  });

  it('lays durations end to end when the workers sent no stamps', () => {
    const t = reportedTimeline({
      durationsMs: { ctx_e2e: 100, gen_kv_transfer: 20, gen_e2e: 300 },
      stampsSec: {},
    });
    expect(round(t?.segments ?? [])).toEqual([
      'context 0.0-100.0',
      'handoff 100.0-120.0',
      'generation 120.0-400.0',
    ]);
  });

  it.each([
    ['nothing', {}],
    ['a single worker (server phase only)', { 'Server-Timing': 'server_e2e;dur=12.000000' }],
    ['malformed entries', { 'Server-Timing': 'ctx_e2e;dur=abc, gen_e2e;dur=' }],
  ])('has no timeline for %s', (_what, headers) => {
    const reported = parseReportedMetrics(headers);
    expect(reported === null ? null : reportedTimeline(reported)).toBeNull();
  });

  it('keeps the first of a repeated entry (upstream writes worker entries twice)', () => {
    const r = parseReportedMetrics({
      'server-timing': 'ctx_e2e;dur=10.000000, ctx_e2e;dur=99.000000',
    });
    expect(r?.durationsMs['ctx_e2e']).toBe(10);
  });

  it('reads the trtllm.perf_metrics stream event and ignores other events', () => {
    const data = JSON.stringify(buildMetricsHeaders(PHASES));
    expect(reportedMetricsFromEvent('trtllm.perf_metrics', data)?.stampsSec['gen-end']).toBe(101);
    expect(reportedMetricsFromEvent(undefined, data)).toBeNull();
    expect(reportedMetricsFromEvent('trtllm.perf_metrics', '[1,2]')).toBeNull();
    expect(reportedMetricsFromEvent('trtllm.perf_metrics', 'not json')).toBeNull();
  });
});
