// The proxy embedded in a worker_threads Worker (what the console backend runs): it serves, reports
// request records in batches, and takes membership and routing changes at run time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  ProxyThreadHandle,
  ProxyThreadStatus,
} from '../../../electron/core/proxy/proxy-thread';
import { startProxyInWorkerThread } from '../../../electron/core/proxy/proxy-thread';
import type { ProxyRequestRecord } from '../../../electron/core/proxy/types';
import { parseDisaggConfig } from '../../../shared/logic/config-parse';
import type { DisaggConfig } from '../../../shared/model/config';
import type { FakeWorker } from './proxy-test-kit';
import { chatBody, completionBody, request, startFakeWorker, waitFor } from './proxy-test-kit';

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
    h = await startProxyInWorkerThread({
      config: cfg.value,
      overrides: { port: 0 },
      settings: { startTimeoutS: 10 },
      recordBatchMs: 50,
      shouldWaitForWorkers: true,
    });
  }, 30_000);

  afterAll(async () => {
    await h?.stop(500);
    await Promise.all([ctx, ...gen].map((w) => w.kill()));
  });

  it('serves requests and reports records in batches', async () => {
    const got: ProxyRequestRecord[] = [];
    const off = h.onRecords((r) => got.push(...r));
    for (let i = 0; i < 3; i++) {
      expect(
        (await request(h.port, 'POST', '/v1/completions', completionBody({ stream: i % 2 === 0 })))
          .status,
      ).toBe(200);
    }
    await waitFor(() => got.length === 3, 3_000, 'three records');
    off();
    expect(got.every((r) => r.outcome === 'ok' && r.genWorker === `http://${gen[0]?.url}`)).toBe(
      true,
    );
    expect(got[0]?.tokenTimes.length).toBe(8);
  });

  it("reports its own CPU and the requests and tokens it finished (the console's cost meter)", async () => {
    const before = (await h.stats()).cpu;
    for (let i = 0; i < 2; i++) {
      expect(
        (await request(h.port, 'POST', '/v1/completions', completionBody({ stream: true }))).status,
      ).toBe(200);
    }
    await waitFor(
      async () => (await h.stats()).cpu.requests === before.requests + 2,
      3_000,
      'two more requests counted',
    );
    const after = (await h.stats()).cpu;
    // Two streams of 8 tokens each (the fake worker's answers, as in the test above).
    expect(after.tokens - before.tokens).toBe(16);
    expect(after.cpuUs).toBeGreaterThan(before.cpuUs);
    expect(after.processes).toBe(1);
    if (process.platform === 'linux') expect(after.scope).toBe('thread');
  });

  it('takes membership and routing changes at run time', async () => {
    h.addWorker('generation', gen[1]?.url ?? '');
    // Sequential requests under least-load all tie and go to one server; round robin alternates.
    h.setRouting({ generation: { type: 'round_robin' } });
    await waitFor(
      async () => (await h.stats()).workers.filter((w) => w.role === 'generation').length === 2,
      3_000,
      'two gen workers',
    );
    for (let i = 0; i < 4; i++) await request(h.port, 'POST', '/v1/completions', completionBody());
    expect((await gen[1]?.stats())?.counts['gen'] ?? 0).toBeGreaterThan(0);
    h.updateMembership({ generation: [gen[1]?.url ?? ''] });
    await waitFor(
      async () => (await h.stats()).workers.filter((w) => w.role === 'generation').length === 1,
      3_000,
      'one gen worker',
    );
    const before = (await gen[0]?.stats())?.counts['gen'] ?? 0;
    for (let i = 0; i < 3; i++) await request(h.port, 'POST', '/v1/completions', completionBody());
    expect((await gen[0]?.stats())?.counts['gen']).toBe(before);
    const s = await h.stats();
    expect(s.isReady).toBe(true);
    expect(s.metricsText).toMatch(/disagg_proxy_requests_total/);
  });
  it('speaks another release when told, without a restart (docs/upstream-versions.md section 8)', async () => {
    // 1.3's check_tool_choice lets `auto` through without tools; 1.0-1.2 refuse it before any worker call.
    const autoWithoutTools = chatBody({ tool_choice: 'auto' });
    expect((await request(h.port, 'POST', '/v1/chat/completions', autoWithoutTools)).status).toBe(
      200,
    );
    const ctxCalls = (await ctx.stats()).counts['ctx'] ?? 0;
    const answersWith = (status: number) => async () =>
      (await request(h.port, 'POST', '/v1/chat/completions', autoWithoutTools)).status === status;
    h.setTrtllmVersion('1.0');
    await waitFor(answersWith(400), 3_000, 'the 1.0 rules');
    const refused = await request(h.port, 'POST', '/v1/chat/completions', autoWithoutTools);
    expect(refused.body).toMatch(/When using `tool_choice`, `tools` must be set/);
    expect((await ctx.stats()).counts['ctx'] ?? 0).toBe(ctxCalls);
    h.setTrtllmVersion('1.3');
    await waitFor(answersWith(200), 3_000, 'the 1.3 rules again');
    expect(h.status().restarts).toBe(0);
  });

  it('by default serves at once, without waiting for static workers (the console supervises them)', async () => {
    const cfg = parseDisaggConfig(
      'hostname: 127.0.0.1\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:1"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:2"]\n',
      'disagg.yaml',
    );
    if (!cfg.ok) throw new Error('bad config');
    // Waiting for the two unreachable workers would block past the test's timeout (upstream waits 180 s).
    const other = await startProxyInWorkerThread({ config: cfg.value, overrides: { port: 0 } });
    try {
      const r = await request(other.port, 'POST', '/v1/completions', completionBody());
      expect(r.status).toBe(503);
      expect(r.body).not.toContain('127.0.0.1');
    } finally {
      await other.stop(100);
    }
  });
});

describe('proxy thread restart after a crash', () => {
  let ctx: FakeWorker;
  let gen: FakeWorker[];

  beforeAll(async () => {
    const all = await Promise.all([startFakeWorker(), startFakeWorker(), startFakeWorker()]);
    ctx = all[0];
    gen = all.slice(1);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([ctx, ...gen].map((w) => w.kill()));
  });

  function config(): DisaggConfig {
    const cfg = parseDisaggConfig(
      `hostname: 127.0.0.1\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls: ["${ctx.url}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["${gen[0]?.url}"]\n`,
      'disagg.yaml',
    );
    if (!cfg.ok) throw new Error('bad config');
    return cfg.value;
  }

  const genCount = async (w: FakeWorker | undefined): Promise<number> =>
    (await w?.stats())?.counts['gen'] ?? 0;

  it('restarts on the same port with backoff, re-applies membership and routing, and counts the restarts', async () => {
    const statuses: ProxyThreadStatus[] = [];
    const logs: string[] = [];
    const h = await startProxyInWorkerThread({
      config: config(),
      overrides: { port: 0 },
      restartPolicy: { backoffBaseMs: 100, backoffMaxMs: 1_000 },
      onStatus: (s) => statuses.push(s),
      onLog: (lv, m) => logs.push(`${lv} ${m}`),
    });
    try {
      const port = h.port;
      // The console's changes: route generation to gen[1] only (the file names gen[0]), round robin.
      h.setRouting({ generation: { type: 'round_robin' } });
      h.updateMembership({ context: [ctx.url], generation: [gen[1]?.url ?? ''] });
      await waitFor(
        async () => (await h.stats()).workers.some((w) => w.url === `http://${gen[1]?.url}`),
        5_000,
        'membership applied',
      );
      const records: ProxyRequestRecord[] = [];
      h.onRecords((r) => records.push(...r));

      for (const [i, how] of (['throw', 'exit'] as const).entries()) {
        h.crashForTesting(how);
        await waitFor(
          () => h.status().restarts === i + 1 && h.status().state === 'running',
          20_000,
          `restart ${i + 1} after ${how}`,
        );
        expect(statuses.some((s) => s.state === 'restarting' && s.restarts === i)).toBe(true);
        expect(h.status().lastError).toMatch(
          how === 'throw' ? /crash requested/ : /exited with code 1/,
        );
        const gen0Before = await genCount(gen[0]);
        const gen1Before = await genCount(gen[1]);
        // The same port serves again, with the membership the console set, not the file's.
        for (let k = 0; k < 3; k++) {
          const r = await request(
            port,
            'POST',
            '/v1/completions',
            completionBody({ stream: k === 1 }),
          );
          expect(r.status).toBe(200);
        }
        expect(await genCount(gen[1])).toBe(gen1Before + 3);
        expect(await genCount(gen[0])).toBe(gen0Before);
        const st = await h.stats();
        expect(st.workers.filter((w) => w.role === 'generation').map((w) => w.url)).toEqual([
          `http://${gen[1]?.url}`,
        ]);
        // Records of the new thread reach listeners registered before the crash. (A batch not yet flushed
        // when a thread dies dies with it, so wait for this one before the next crash.)
        await waitFor(
          () => records.length === 3 * (i + 1),
          5_000,
          `records after restart ${i + 1}`,
        );
      }
      expect(logs.filter((l) => l.startsWith('warning proxy thread died'))).toHaveLength(2);
      expect(logs.some((l) => l.includes(`restarted on port ${port} (restart 2)`))).toBe(true);
    } finally {
      await h.stop(500);
    }
    expect(h.status().state).toBe('stopped');
  }, 60_000);

  it('does not restart a thread the owner stopped, nor one stopped while a restart was pending', async () => {
    const h = await startProxyInWorkerThread({
      config: config(),
      overrides: { port: 0 },
      restartPolicy: { backoffBaseMs: 300 },
    });
    const port = h.port;
    expect((await request(port, 'POST', '/v1/completions', completionBody())).status).toBe(200);
    await h.stop(500);
    expect(h.status()).toMatchObject({ state: 'stopped', restarts: 0 });
    await new Promise((r) => setTimeout(r, 800));
    expect(h.status()).toMatchObject({ state: 'stopped', restarts: 0 });
    await expect(request(port, 'GET', '/health', undefined, {}, 2_000)).rejects.toThrow();

    const h2 = await startProxyInWorkerThread({
      config: config(),
      overrides: { port: 0 },
      restartPolicy: { backoffBaseMs: 1_000 },
    });
    h2.crashForTesting('exit');
    await waitFor(() => h2.status().state === 'restarting', 10_000, 'restart pending');
    await h2.stop(200);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(h2.status()).toMatchObject({ state: 'stopped', restarts: 0 });
    await expect(request(h2.port, 'GET', '/health', undefined, {}, 2_000)).rejects.toThrow();
  }, 30_000);

  it('gives up after maxRestarts crashes in a row and says so', async () => {
    const logs: string[] = [];
    const h = await startProxyInWorkerThread({
      config: config(),
      overrides: { port: 0 },
      restartPolicy: { maxRestarts: 1, backoffBaseMs: 50 },
      onLog: (lv, m) => logs.push(`${lv} ${m}`),
    });
    h.crashForTesting('throw');
    await waitFor(
      () => h.status().state === 'running' && h.status().restarts === 1,
      20_000,
      'first restart',
    );
    h.crashForTesting('throw');
    await waitFor(() => h.status().state === 'errored', 10_000, 'errored');
    expect(h.status().restarts).toBe(1);
    expect(
      logs.some((l) => l.startsWith('error proxy thread died') && l.includes('not restarting')),
    ).toBe(true);
    await expect(h.stats()).rejects.toThrow(/errored/);
    await h.stop(100);
    expect(h.status().state).toBe('stopped');
  }, 40_000);
});
