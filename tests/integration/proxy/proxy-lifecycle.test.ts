// Every way an inference request can end goes through the lifecycle's one finish (issue #14): the
// client gets one answer, the admission slot is given back once (active and queued back to 0, never
// below), and exactly one record is counted per request. Each case drives one exit path against fake
// workers and then checks those invariants from the outside (records, /metrics, logs).
import { afterEach, describe, expect, it } from 'vitest';

import type { ProxyServerOptions } from '../../../electron/core/proxy/proxy-server';
import type { ProxyRequestRecord } from '../../../electron/core/proxy/types';
import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  abandonStream,
  completionBody,
  metricValue,
  postHead,
  request,
  sseData,
  startFakeWorker,
  startProxy,
  streamRequest,
  trickleClient,
  waitFor,
} from './proxy-test-kit';

interface Scenario {
  /** Proxy options besides the workers. */
  opts?: Partial<ProxyServerOptions>;
  /** Number of generation workers (one context worker always). */
  gens?: number;
  /** Drives the exit path; returns how many requests it sent. */
  run(p: ProxyUnderTest, ctx: FakeWorker, gen: FakeWorker[]): Promise<number>;
  /** The outcomes of the records, in any order. */
  outcomes: string[];
}

const error = (body: string): { message: string; type: string; code: number } => (JSON.parse(body) as { error: { message: string; type: string; code: number } }).error;

const SCENARIOS: Record<string, Scenario> = {
  'success, not streamed': {
    run: async (p) => {
      const r = await request(p.port, 'POST', '/v1/completions', completionBody());
      expect(r.status).toBe(200);
      return 1;
    },
    outcomes: ['ok'],
  },
  'success, streamed': {
    run: async (p) => {
      const r = await streamRequest(p.port, '/v1/completions', completionBody({ stream: true }));
      expect(sseData(r.body).filter((d) => d === '[DONE]')).toHaveLength(1);
      return 1;
    },
    outcomes: ['ok'],
  },
  'validation error': {
    run: async (p) => {
      const r = await request(p.port, 'POST', '/v1/completions', '{"prompt": ');
      expect(r.status).toBe(400);
      expect(error(r.body).type).toBe('invalid_request_error');
      return 1;
    },
    outcomes: ['client_error'],
  },
  'missing API key': {
    opts: { apiKey: 'sk-k' },
    run: async (p) => {
      const r = await request(p.port, 'POST', '/v1/completions', completionBody());
      expect(r.status).toBe(401);
      expect(error(r.body).type).toBe('authentication_error');
      return 1;
    },
    outcomes: ['client_error'],
  },
  'overload shed (queue full)': {
    opts: { maxConcurrency: 1, maxQueue: 0 },
    run: async (p, _ctx, [gen]) => {
      await gen?.control({ tokens: 20, tokenDelayMs: 20 });
      const holder = streamRequest(p.port, '/v1/completions', completionBody({ stream: true, max_tokens: 20 }));
      await waitFor(async () => metricValue((await request(p.port, 'GET', '/metrics')).body, 'disagg_proxy_admission_active') === 1, 5_000, 'slot taken');
      const shed = await request(p.port, 'POST', '/v1/completions', completionBody());
      expect(shed.status).toBe(429);
      expect(shed.headers['retry-after']).toBe('1');
      expect((await holder).status).toBe(200);
      return 2;
    },
    outcomes: ['ok', 'rejected'],
  },
  'client abort while queued': {
    opts: { maxConcurrency: 1, maxQueue: 4, queueTimeoutMs: 10_000 },
    run: async (p, _ctx, [gen]) => {
      await gen?.control({ tokens: 30, tokenDelayMs: 20 });
      const holder = streamRequest(p.port, '/v1/completions', completionBody({ stream: true, max_tokens: 30 }));
      await waitFor(async () => metricValue((await request(p.port, 'GET', '/metrics')).body, 'disagg_proxy_admission_active') === 1, 5_000, 'slot taken');
      const queued = abandonStream(p.port, '/v1/completions', completionBody({ stream: true }), 1);
      await waitFor(async () => metricValue((await request(p.port, 'GET', '/metrics')).body, 'disagg_proxy_admission_queued') === 1, 5_000, 'queued');
      await abandonAll(queued);
      await waitFor(async () => metricValue((await request(p.port, 'GET', '/metrics')).body, 'disagg_proxy_admission_queued') === 0, 5_000, 'left the queue');
      expect((await holder).status).toBe(200);
      return 2;
    },
    outcomes: ['ok', 'client_disconnected'],
  },
  'client abort during the context phase': {
    run: async (p, ctx, [gen]) => {
      await ctx.control({ ctx: 'hang' });
      await abandonStream(p.port, '/v1/completions', completionBody({ stream: true }), 0, 150);
      await waitFor(async () => metricValue((await request(p.port, 'GET', '/metrics')).body, 'disagg_proxy_in_flight') === 0, 5_000, 'request ended');
      // Item 9: the generation request is never started.
      expect((await gen?.stats())?.counts['gen'] ?? 0).toBe(0);
      return 1;
    },
    outcomes: ['client_disconnected'],
  },
  'client abort during the stream': {
    run: async (p, _ctx, [gen]) => {
      await gen?.control({ tokens: 50, tokenDelayMs: 20 });
      await abandonStream(p.port, '/v1/completions', completionBody({ stream: true, max_tokens: 50 }), 3);
      await waitFor(async () => ((await gen?.stats())?.aborted ?? 0) === 1, 5_000, 'generation aborted');
      return 1;
    },
    outcomes: ['client_disconnected'],
  },
  'worker error before the first byte, no retry (context 5xx)': {
    run: async (p, ctx) => {
      await ctx.control({ ctx: 'status500' });
      const r = await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
      expect(r.status).toBe(502);
      expect(error(r.body)).toMatchObject({ type: 'server_error', code: 502 });
      return 1;
    },
    outcomes: ['upstream_error'],
  },
  'worker error before the first byte, retried on another worker': {
    gens: 2,
    run: async (p, _ctx, gens) => {
      await gens[0]?.kill();
      // Round robin: at least one of two requests meets the dead worker first and is retried.
      for (let i = 0; i < 2; i++) expect((await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }))).status).toBe(200);
      return 2;
    },
    outcomes: ['ok', 'ok'],
  },
  'worker error before the first byte, none left to retry': {
    run: async (p, _ctx, [gen]) => {
      await gen?.kill();
      const r = await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      return 1;
    },
    outcomes: ['upstream_error'],
  },
  'total timeout before any byte': {
    opts: { totalTimeoutMs: 300, contextTimeoutMs: 30_000 },
    run: async (p, ctx) => {
      await ctx.control({ ctx: 'hang' });
      const r = await request(p.port, 'POST', '/v1/completions', completionBody());
      expect(r.status).toBe(504);
      expect(error(r.body)).toMatchObject({ message: 'Request timed out', code: 504 });
      return 1;
    },
    outcomes: ['timeout'],
  },
  'total timeout during the stream': {
    opts: { totalTimeoutMs: 400 },
    run: async (p, _ctx, [gen]) => {
      await gen?.control({ tokens: 200, tokenDelayMs: 20 });
      const r = await streamRequest(p.port, '/v1/completions', completionBody({ stream: true, max_tokens: 200 }));
      expect(r.status).toBe(200);
      const data = sseData(r.body);
      expect(data.at(-1)).toBe('[DONE]');
      expect(JSON.parse(data.at(-2) ?? '{}')).toMatchObject({ error: { message: 'Request timed out', code: 504 } });
      return 1;
    },
    outcomes: ['timeout'],
  },
  'slow body (408 before admission)': {
    opts: { bodyTimeoutMs: 10_000, bodyRateGraceMs: 200, minBodyBytesPerS: 1_000 },
    run: async (p) => {
      const body = completionBody();
      const r = await trickleClient(p.port, postHead('/v1/completions', body.length), body, 50);
      expect(r.status).toBe(408);
      expect(error(r.body).code).toBe(408);
      return 1;
    },
    outcomes: ['client_error'],
  },
};

/** abandonStream resolves once it destroyed its connection. */
async function abandonAll(p: Promise<void>): Promise<void> {
  await p;
}

describe('proxy request lifecycle: every exit path answers once, releases once, records once', () => {
  let workers: FakeWorker[] = [];
  let p: ProxyUnderTest | undefined;

  afterEach(async () => {
    await p?.proxy.close();
    p = undefined;
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
  });

  it.each(Object.entries(SCENARIOS))('%s', async (_name, s) => {
    workers = await Promise.all(Array.from({ length: 1 + (s.gens ?? 1) }, () => startFakeWorker()));
    const [ctx, ...gens] = workers as [FakeWorker, ...FakeWorker[]];
    p = await startProxy({ contextUrls: [ctx.url], generationUrls: gens.map((w) => w.url), recordBatchMs: 5, ...s.opts });
    const records: ProxyRequestRecord[] = [];
    p.proxy.onRecords((rs) => records.push(...rs));
    const proxy = p;

    const sent = await s.run(proxy, ctx, gens);

    await waitFor(() => records.length >= sent, 5_000, `${sent} record(s)`);
    const metrics = (await request(proxy.port, 'GET', '/metrics')).body;
    expect(metricValue(metrics, 'disagg_proxy_in_flight')).toBe(0);
    expect(metricValue(metrics, 'disagg_proxy_admission_active')).toBe(0);
    expect(metricValue(metrics, 'disagg_proxy_admission_queued')).toBe(0);
    expect(p.proxy.workers().every((w) => w.inFlight === 0)).toBe(true);
    // One record per request, each counted once in the outcome counter.
    expect(records).toHaveLength(sent);
    expect(new Set(records.map((r) => r.id)).size).toBe(sent);
    expect(records.map((r) => r.outcome).sort()).toEqual([...s.outcomes].sort());
    expect(metricValue(metrics, 'disagg_proxy_requests_total')).toBe(sent);
    // A second answer or a second release would have thrown or logged.
    expect(proxy.logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
