// The proxy's defences of issue #15, asserted by outcome (who got an answer, which status, what the
// admission counters say), never by elapsed time: slow bodies and slow headers against a
// concurrency-limited proxy while normal requests keep being admitted and answered, the per-client
// connection cap, and the one OpenAI error shape on every error path.
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { ProxyServerOptions } from '../../../electron/core/proxy/proxy-server';
import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  chatBody,
  completionBody,
  metricValue,
  postHead,
  request,
  startFakeWorker,
  startProxy,
  trickleClient,
  waitFor,
} from './proxy-test-kit';

const SLOW_CLIENTS = 10;
const SLOTS = 4;

describe('proxy defences', () => {
  let workers: FakeWorker[] = [];
  let p: ProxyUnderTest | undefined;

  async function setup(
    opts: Partial<ProxyServerOptions> = {},
  ): Promise<{ p: ProxyUnderTest; ctx: FakeWorker; gen: FakeWorker }> {
    workers = await Promise.all([startFakeWorker(), startFakeWorker()]);
    const [ctx, gen] = workers as [FakeWorker, FakeWorker];
    p = await startProxy({ contextUrls: [ctx.url], generationUrls: [gen.url], ...opts });
    return { p, ctx, gen };
  }

  afterEach(async () => {
    await p?.proxy.close();
    p = undefined;
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
  });

  const admissionActive = async (port: number): Promise<number> =>
    metricValue((await request(port, 'GET', '/metrics')).body, 'disagg_proxy_admission_active');

  it(`${SLOW_CLIENTS} clients sending their body at a byte a time hold no slot of a ${SLOTS}-slot proxy, get 408 and are closed`, async () => {
    const { p } = await setup({
      maxConcurrency: SLOTS,
      maxQueue: 0,
      bodyTimeoutMs: 20_000,
      bodyRateGraceMs: 500,
      minBodyBytesPerS: 200,
    });
    const body = completionBody();
    const slow = Array.from({ length: SLOW_CLIENTS }, () =>
      trickleClient(p.port, postHead('/v1/completions', body.length), body, 100),
    );
    // While they trickle (all ten in flight, reading bodies): no slot is held, and normal requests
    // (as many as the slots, at once, with no queue) are all admitted.
    await waitFor(
      async () =>
        metricValue((await request(p.port, 'GET', '/metrics')).body, 'disagg_proxy_in_flight') ===
        SLOW_CLIENTS,
      5_000,
      'slow clients in flight',
    );
    expect(await admissionActive(p.port)).toBe(0);
    const normal = await Promise.all(
      Array.from({ length: SLOTS }, () =>
        request(p.port, 'POST', '/v1/completions', completionBody()),
      ),
    );
    expect(normal.map((r) => r.status)).toEqual(Array.from({ length: SLOTS }, () => 200));
    // Each trickle client resolves only once the proxy closed its connection.
    const answers = await Promise.all(slow);
    for (const a of answers) {
      expect(a.status).toBe(408);
      expect(JSON.parse(a.body)).toMatchObject({
        error: { type: 'invalid_request_error', code: 408 },
      });
    }
    expect((await request(p.port, 'POST', '/v1/completions', completionBody())).status).toBe(200);
    const m = (await request(p.port, 'GET', '/metrics')).body;
    expect(metricValue(m, 'disagg_proxy_shed_total')).toBe(0);
    expect(metricValue(m, 'disagg_proxy_requests_total', 'outcome="client_error"')).toBe(
      SLOW_CLIENTS,
    );
  });

  it('a body that never completes is cut at the body deadline even above the minimum rate', async () => {
    const { p } = await setup({ bodyTimeoutMs: 600, minBodyBytesPerS: 0 });
    const r = await trickleClient(
      p.port,
      postHead('/v1/completions', 10_000),
      'x'.repeat(10_000),
      20,
    );
    expect(r.status).toBe(408);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 408 } });
  });

  it(`${SLOW_CLIENTS} clients sending their headers at a byte a time get 408 while normal requests are served`, async () => {
    const { p } = await setup({ maxConcurrency: SLOTS, maxQueue: 0, headersTimeoutMs: 500 });
    const head = postHead('/v1/completions', 2);
    const slow = Array.from({ length: SLOW_CLIENTS }, () =>
      trickleClient(p.port, head.slice(0, 5), head.slice(5), 100),
    );
    const normal = await Promise.all(
      Array.from({ length: SLOTS }, () =>
        request(p.port, 'POST', '/v1/chat/completions', chatBody()),
      ),
    );
    expect(normal.map((r) => r.status)).toEqual(Array.from({ length: SLOTS }, () => 200));
    for (const a of await Promise.all(slow)) {
      expect(a.status).toBe(408);
      expect(JSON.parse(a.body)).toMatchObject({ error: { code: 408 } });
    }
    expect(await admissionActive(p.port)).toBe(0);
  });

  it('caps connections per client address: requests on the excess get 429 and their connection is closed', async () => {
    const { p } = await setup({ maxConnectionsPerClient: 2 });
    // Three idle keep-alive connections: the first two are within the cap, the third is over it.
    const sockets = await Promise.all([0, 1, 2].map(() => openSocket(p.port)));
    const answers = await Promise.all(sockets.map((s) => rawGet(s, '/v1/models')));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 429]);
    const refused = answers.find((a) => a.status === 429);
    expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({
      error: { type: 'rate_limit_error', code: 429 },
    });
    expect(refused?.closed).toBe(true);
    // Once connections close, the address is under its cap again.
    for (const s of sockets) s.destroy();
    await waitFor(
      async () => (await request(p.port, 'GET', '/v1/models')).status === 200,
      5_000,
      'a connection below the cap again',
    );
  });

  it('answers every error path in the OpenAI error shape with the status as code', async () => {
    const { p, ctx } = await setup({ apiKey: 'sk-k', maxBodyBytes: 200 });
    const auth = { authorization: 'Bearer sk-k' };
    const cases: Array<[string, Promise<{ status: number; body: string }>, number]> = [
      ['no key', request(p.port, 'POST', '/v1/completions', completionBody()), 401],
      ['bad JSON', request(p.port, 'POST', '/v1/completions', '{', auth), 400],
      ['not an object', request(p.port, 'POST', '/v1/completions', '[1]', auth), 400],
      ['bad prompt', request(p.port, 'POST', '/v1/completions', '{"prompt": 5}', auth), 400],
      [
        'too large',
        request(
          p.port,
          'POST',
          '/v1/completions',
          completionBody({ prompt: 'x'.repeat(300) }),
          auth,
        ),
        413,
      ],
      ['unknown path', request(p.port, 'GET', '/nope', undefined, auth), 404],
      [
        'unknown pin',
        request(p.port, 'POST', '/v1/completions', completionBody({ max_tokens: 1 }), {
          ...auth,
          'x-disagg-context-worker': '127.0.0.1:1',
        }),
        400,
      ],
    ];
    for (const [name, pending, status] of cases) {
      const r = await pending;
      expect(r.status, name).toBe(status);
      const e = (JSON.parse(r.body) as { error: Record<string, unknown> }).error;
      expect(Object.keys(e).sort(), name).toEqual(['code', 'message', 'param', 'type']);
      expect(e['code'], name).toBe(status);
    }
    // A worker's {"object":"error",...} 4xx and 5xx: the status kept (4xx) or a 502, both in the one shape.
    await ctx.control({ ctx: 'status400' });
    const relayed = await request(
      p.port,
      'POST',
      '/v1/completions',
      completionBody({ max_tokens: 1 }),
      auth,
    );
    expect(relayed.status).toBe(400);
    expect(JSON.parse(relayed.body)).toEqual({
      error: {
        message: 'bad request from worker',
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    });
    await ctx.control({ ctx: 'status500' });
    const failed = await request(
      p.port,
      'POST',
      '/v1/completions',
      completionBody({ max_tokens: 1 }),
      auth,
    );
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.body)).toMatchObject({
      error: { type: 'server_error', param: null, code: 502 },
    });
  });
});

function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** One GET on an open socket: its status and body, and whether the proxy closed the connection after it. */
function rawGet(
  socket: net.Socket,
  path: string,
): Promise<{ status: number; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const head = text.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(text);
      if (!closed && (head < 0 || !len || text.length - head - 4 < Number(len[1]))) return;
      settled = true;
      resolve({
        status: m ? Number(m[1]) : 0,
        body: head >= 0 ? text.slice(head + 4) : '',
        closed: closed || /connection: close/i.test(text.slice(0, head)),
      });
    };
    socket.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      done(false);
    });
    socket.on('close', () => done(true));
    socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
  });
}
