// The tail causes a running proxy reports on /metrics (issue #16), by counts: requests that queued for
// an admission slot are observed once each with their wait, every upstream call observes its wait for
// a connection, and the event-loop delay monitor runs while the server does. How long any of it takes
// is for `npm run bench:proxy` run 2 (bench/README.md).
import { afterEach, describe, expect, it } from 'vitest';

import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  completionBody,
  metricValue,
  request,
  startFakeWorker,
  startProxy,
} from './proxy-test-kit';

describe('proxy /metrics: admission and pool waits, event-loop delay', () => {
  let workers: FakeWorker[] = [];
  let p: ProxyUnderTest | undefined;

  afterEach(async () => {
    await p?.proxy.close();
    p = undefined;
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
  });

  it('observes each admitted request once, the queued ones with their wait, and each upstream call', async () => {
    workers = await Promise.all([startFakeWorker(), startFakeWorker()]);
    const [ctx, gen] = workers as [FakeWorker, FakeWorker];
    // Streams of 5 tokens 20 ms apart: one slot, so the second and third wait for the first.
    await gen.control({ tokenDelayMs: 20 });
    p = await startProxy({
      contextUrls: [ctx.url],
      generationUrls: [gen.url],
      logLevel: 'info',
      maxConcurrency: 1,
      maxQueue: 8,
      queueTargetMs: 10_000,
      queueIntervalMs: 10_000,
      queueTimeoutMs: 10_000,
    });
    const port = p.port;
    const metrics = async (): Promise<string> => (await request(port, 'GET', '/metrics')).body;
    const before = await metrics();
    const body = completionBody({ stream: true, max_tokens: 5 });
    const answers = await Promise.all(
      [0, 1, 2].map(() => request(port, 'POST', '/v1/completions', body)),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const after = await metrics();
    const delta = (name: string): number => metricValue(after, name) - metricValue(before, name);
    expect(delta('disagg_proxy_admission_wait_seconds_count')).toBe(3);
    // Two of them queued behind a whole stream.
    expect(delta('disagg_proxy_admission_wait_seconds_sum')).toBeGreaterThan(0);
    // A context and a generation call each (health probes may add their own).
    expect(delta('disagg_proxy_upstream_pool_wait_seconds_count')).toBeGreaterThanOrEqual(6);
    expect(metricValue(after, 'disagg_proxy_upstream_connections_opened_total')).toBeGreaterThan(0);
    expect(metricValue(after, 'disagg_proxy_event_loop_delay_seconds_count')).toBeGreaterThan(0);
  });
});
