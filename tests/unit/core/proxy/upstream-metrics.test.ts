// The disaggregated server's metrics under upstream's names (electron/core/proxy/upstream-metrics.ts): the
// names are perf_metrics.py's; our exposition equals prom-client's for the same events (both parsed,
// series for series, plus the HELP/TYPE lines); and the record -> event mapping counts where upstream's
// handlers count.
import { describe, expect, it } from 'vitest';

import { promClientUpstreamSink } from '../../../../bench/prom-client-upstream-sink';
import type { ProxyRequestRecord } from '../../../../electron/core/proxy/types';
import {
  feedUpstreamMetrics,
  feedUpstreamRetry,
  UPSTREAM_METRICS,
  type UpstreamMetricSink,
  UpstreamNamedMetrics,
} from '../../../../electron/core/proxy/upstream-metrics';
import { REQUEST_OUTCOMES, type RequestOutcome } from '../../../../shared/model/requests';

/** Transcribed from tensorrt_llm/serve/perf_metrics.py (SERVER_ and CLIENT_METRICS_DEFINITIONS, role prefixes). */
const UPSTREAM_NAMES = [
  'total_requests',
  'stream_requests',
  'nonstream_requests',
  'validation_exceptions',
  'http_exceptions',
  'internal_errors',
  'total_responses',
  'queue_latency_seconds',
  ...['ctx_', 'gen_'].flatMap((p) =>
    [
      'total_requests',
      'error_requests',
      'retry_requests',
      'completed_requests',
      'first_token_latency_seconds',
      'complete_latency_seconds',
      'per_token_latency_seconds',
    ].map((n) => p + n),
  ),
];

function rec(patch: Partial<ProxyRequestRecord>): ProxyRequestRecord {
  return {
    id: 1,
    endpoint: 'chat',
    isStream: true,
    receivedAt: 1000,
    tokenTimes: [],
    doneAt: 2000,
    outcome: 'ok',
    status: 200,
    retries: 0,
    ...patch,
  };
}

/** Seeded records of every outcome, streamed and not, with and without a context phase. */
function records(count: number, seed: number): ProxyRequestRecord[] {
  let s = seed;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  // Every outcome, 'ok' weighted up.
  const outcomes: RequestOutcome[] = ['ok', 'ok', ...REQUEST_OUTCOMES];
  const out: ProxyRequestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = outcomes[Math.floor(rnd() * outcomes.length)] as RequestOutcome;
    const receivedAt = 1_000_000 + i * 100;
    const hasCtx = rnd() < 0.8 && outcome !== 'client_error' && outcome !== 'rejected';
    const ctxSentAt = hasCtx ? receivedAt + rnd() * 5 : undefined;
    const ctxAnsweredAt =
      hasCtx && outcome !== 'upstream_error'
        ? (ctxSentAt as number) + rnd() ** 2 * 3000
        : undefined;
    const hasGen = outcome !== 'ok_context_only' && (ctxAnsweredAt !== undefined || !hasCtx);
    const genSentAt =
      hasGen && outcome !== 'client_error' && outcome !== 'rejected'
        ? (ctxAnsweredAt ?? receivedAt) + rnd() * 2
        : undefined;
    const isStream = rnd() < 0.7;
    const tokenTimes: number[] = [];
    if (genSentAt !== undefined && isStream) {
      let t = genSentAt + rnd() ** 3 * 2000;
      for (let k = Math.floor(rnd() * 40); k >= 0; k--) tokenTimes.push((t += rnd() ** 4 * 200));
    }
    out.push(
      rec({
        id: i,
        isStream,
        receivedAt,
        ctxSentAt,
        ctxAnsweredAt,
        genSentAt,
        tokenTimes,
        doneAt: (tokenTimes.at(-1) ?? genSentAt ?? receivedAt) + rnd() * 50,
        outcome,
        status: outcome.startsWith('ok') ? 200 : outcome === 'client_error' ? 400 : 502,
      }),
    );
  }
  return out;
}

/** Exposition lines as series -> value; comment lines kept apart. */
function parse(text: string): { series: Map<string, number>; comments: string[] } {
  const series = new Map<string, number>();
  const comments: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { series, comments };
}

describe('upstream-named disaggregated server metrics', () => {
  it("serves exactly upstream's metric names, in upstream's order", () => {
    expect(UPSTREAM_METRICS.map((d) => d.name)).toEqual(UPSTREAM_NAMES);
  });

  it.each([1, 2, 3])('our text equals prom-client for the same records (seed %i)', async (seed) => {
    const ours = new UpstreamNamedMetrics();
    const prom = promClientUpstreamSink();
    for (const r of records(400, seed)) {
      for (const sink of [ours, prom.sink]) {
        if (r.id % 7 === 0) feedUpstreamRetry(r, sink);
        feedUpstreamMetrics(r, sink);
      }
    }
    const a = parse(ours.render().join('\n'));
    const b = parse(await prom.registry.metrics());
    expect(a.comments).toEqual(b.comments);
    expect([...a.series.keys()].sort()).toEqual([...b.series.keys()].sort());
    for (const [key, value] of b.series) expect(a.series.get(key)).toBeCloseTo(value, 9);
    expect(a.series.get('total_requests_total')).toBeGreaterThan(0);
    expect(a.series.get('gen_per_token_latency_seconds_count')).toBeGreaterThan(0);
  });
});

describe('record -> upstream events', () => {
  function eventsOf(...recs: ProxyRequestRecord[]): Record<string, number> {
    const seen: Record<string, number> = {};
    const sink: UpstreamMetricSink = {
      inc: (n) => void (seen[n] = (seen[n] ?? 0) + 1),
      observe: (n) => void (seen[`${n}:observed`] = (seen[`${n}:observed`] ?? 0) + 1),
    };
    for (const r of recs) feedUpstreamMetrics(r, sink);
    return seen;
  }

  it('a streamed request through both phases', () => {
    expect(
      eventsOf(
        rec({
          ctxSentAt: 1001,
          ctxAnsweredAt: 1100,
          genSentAt: 1101,
          tokenTimes: [1200, 1210, 1220],
        }),
      ),
    ).toEqual({
      total_requests: 1,
      stream_requests: 1,
      total_responses: 1,
      'queue_latency_seconds:observed': 1,
      ctx_total_requests: 1,
      ctx_completed_requests: 1,
      'ctx_complete_latency_seconds:observed': 1,
      gen_total_requests: 1,
      gen_completed_requests: 1,
      'gen_first_token_latency_seconds:observed': 1,
      'gen_per_token_latency_seconds:observed': 2,
      'gen_complete_latency_seconds:observed': 1,
    });
  });

  it('a refused body counts only as a validation exception', () => {
    expect(eventsOf(rec({ outcome: 'client_error', status: 400, isStream: false }))).toEqual({
      validation_exceptions: 1,
    });
  });

  it('a failed context call: an internal error and a ctx error, no generation', () => {
    expect(
      eventsOf(rec({ ctxSentAt: 1001, outcome: 'upstream_error', status: 502, isStream: false })),
    ).toEqual({
      total_requests: 1,
      nonstream_requests: 1,
      internal_errors: 1,
      'queue_latency_seconds:observed': 1,
      ctx_total_requests: 1,
      ctx_completed_requests: 1,
      ctx_error_requests: 1,
    });
  });

  it('shed, not ready and timeouts are HTTP exceptions', () => {
    const seen = eventsOf(
      rec({ outcome: 'rejected', status: 429 }),
      rec({ outcome: 'not_ready', status: 503 }),
      rec({ outcome: 'timeout', status: 504, genSentAt: 1002 }),
    );
    expect(seen.http_exceptions).toBe(3);
    expect(seen.gen_error_requests).toBe(1);
    expect(seen.total_responses).toBeUndefined();
  });

  it('a retry counts on the phase the request is in', () => {
    const seen: string[] = [];
    const sink: UpstreamMetricSink = { inc: (n) => void seen.push(n), observe: () => undefined };
    feedUpstreamRetry(rec({}), sink);
    feedUpstreamRetry(rec({ ctxSentAt: 1001, ctxAnsweredAt: 1100 }), sink);
    feedUpstreamRetry(rec({ genSentAt: 1001 }), sink);
    expect(seen).toEqual(['ctx_retry_requests', 'gen_retry_requests', 'gen_retry_requests']);
  });
});
