// The proxy embedded in a worker_threads Worker (what the console backend runs): it serves, reports
// request records in batches, and takes membership and routing changes at run time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ProxyThreadHandle } from '../../../electron/core/proxy/proxy-thread';
import { startProxyInWorkerThread } from '../../../electron/core/proxy/proxy-thread';
import type { ProxyRequestRecord } from '../../../electron/core/proxy/types';
import { parseDisaggConfig } from '../../../shared/logic/config-parse';
import type { FakeWorker } from './proxy-test-kit';
import { completionBody, request, startFakeWorker, waitFor } from './proxy-test-kit';

describe('proxy in a worker thread', () => {
  let ctx: FakeWorker;
  let gen: FakeWorker[];
  let h: ProxyThreadHandle;

  beforeAll(async () => {
    const all = await Promise.all([startFakeWorker(), startFakeWorker(), startFakeWorker()]);
    ctx = all[0];
    gen = all.slice(1);
    const cfg = parseDisaggConfig(
      `hostname: 127.0.0.1\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls: ["${ctx.url}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["${gen[0]?.url}"]\n  router:\n    type: load_balancing\n`,
      'disagg.yaml',
    );
    if (!cfg.ok) throw new Error('bad config');
    h = await startProxyInWorkerThread({ config: cfg.value, overrides: { port: 0 }, settings: { startTimeoutS: 10 }, recordBatchMs: 50, shouldWaitForWorkers: true });
  }, 30_000);

  afterAll(async () => {
    await h?.stop(500);
    await Promise.all([ctx, ...gen].map((w) => w.kill()));
  });

  it('serves requests and reports records in batches', async () => {
    const got: ProxyRequestRecord[] = [];
    const off = h.onRecords((r) => got.push(...r));
    for (let i = 0; i < 3; i++) expect((await request(h.port, 'POST', '/v1/completions', completionBody({ stream: i % 2 === 0 }))).status).toBe(200);
    await waitFor(() => got.length === 3, 3_000, 'three records');
    off();
    expect(got.every((r) => r.outcome === 'ok' && r.genWorker === `http://${gen[0]?.url}`)).toBe(true);
    expect(got[0]?.tokenTimes.length).toBe(8);
  });

  it('takes membership and routing changes at run time', async () => {
    h.addWorker('generation', gen[1]?.url ?? '');
    // Sequential requests under least-load all tie and go to one server; round robin alternates.
    h.setRouting({ generation: { type: 'round_robin' } });
    await waitFor(async () => (await h.stats()).workers.filter((w) => w.role === 'generation').length === 2, 3_000, 'two gen workers');
    for (let i = 0; i < 4; i++) await request(h.port, 'POST', '/v1/completions', completionBody());
    expect(((await gen[1]?.stats())?.counts['gen'] ?? 0)).toBeGreaterThan(0);
    h.updateMembership({ generation: [gen[1]?.url ?? ''] });
    await waitFor(async () => (await h.stats()).workers.filter((w) => w.role === 'generation').length === 1, 3_000, 'one gen worker');
    const before = (await gen[0]?.stats())?.counts['gen'] ?? 0;
    for (let i = 0; i < 3; i++) await request(h.port, 'POST', '/v1/completions', completionBody());
    expect((await gen[0]?.stats())?.counts['gen']).toBe(before);
    const s = await h.stats();
    expect(s.isReady).toBe(true);
    expect(s.metricsText).toMatch(/disagg_proxy_requests_total/);
  });
  it('by default serves at once, without waiting for static workers (the console supervises them)', async () => {
    const cfg = parseDisaggConfig(
      'hostname: 127.0.0.1\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:1"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:2"]\n',
      'disagg.yaml',
    );
    if (!cfg.ok) throw new Error('bad config');
    const t0 = Date.now();
    const other = await startProxyInWorkerThread({ config: cfg.value, overrides: { port: 0 } });
    try {
      expect(Date.now() - t0).toBeLessThan(5_000);
      const r = await request(other.port, 'POST', '/v1/completions', completionBody());
      expect(r.status).toBe(503);
      expect(r.body).not.toContain('127.0.0.1');
    } finally {
      await other.stop(100);
    }
  });
});
