// What the proxy adds for the console, against fake workers (real child processes): CORS for the console's
// loopback page only, the x-disagg-* response headers the playground reads, and route pinning by the
// x-disagg-context-worker / x-disagg-generation-worker request headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  completionBody,
  request,
  startFakeWorker,
  startProxy,
  streamRequest,
} from './proxy-test-kit';

const hostPort = (w: FakeWorker): string => `127.0.0.1:${w.port}`;

describe('proxy headers for the console', () => {
  let ctxA: FakeWorker;
  let ctxB: FakeWorker;
  let genA: FakeWorker;
  let genB: FakeWorker;
  let p: ProxyUnderTest;

  beforeAll(async () => {
    [ctxA, ctxB, genA, genB] = await Promise.all([
      startFakeWorker(['--name', 'ctxA']),
      startFakeWorker(['--name', 'ctxB']),
      startFakeWorker(['--name', 'genA']),
      startFakeWorker(['--name', 'genB']),
    ]);
    p = await startProxy({
      contextUrls: [ctxA.url, ctxB.url],
      generationUrls: [genA.url, genB.url],
    });
  });
  afterAll(async () => {
    await p.proxy.close();
    await Promise.all([ctxA.kill(), ctxB.kill(), genA.kill(), genB.kill()]);
  });

  it('answers a CORS preflight from a loopback origin and exposes the x-disagg headers', async () => {
    const origin = 'http://127.0.0.1:5173';
    const r = await request(p.port, 'OPTIONS', '/v1/chat/completions', undefined, {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-disagg-context-worker',
    });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(origin);
    expect(r.headers['access-control-allow-headers']).toContain('x-disagg-context-worker');
    const post = await request(p.port, 'POST', '/v1/completions', completionBody(), { origin });
    expect(post.headers['access-control-allow-origin']).toBe(origin);
    expect(post.headers['access-control-expose-headers']).toContain('x-disagg-request-id');
  });

  it('gives no CORS grant to a web site origin', async () => {
    const r = await request(p.port, 'OPTIONS', '/v1/completions', undefined, {
      origin: 'https://evil.example',
    });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.status).toBe(404);
  });

  it('names the request id, both workers and the phase times on whole and streamed answers', async () => {
    const whole = await request(p.port, 'POST', '/v1/completions', completionBody());
    expect(whole.status).toBe(200);
    expect(Number(whole.headers['x-disagg-request-id'])).toBeGreaterThan(0);
    expect([hostPort(ctxA), hostPort(ctxB)]).toContain(whole.headers['x-disagg-context-worker']);
    expect([hostPort(genA), hostPort(genB)]).toContain(whole.headers['x-disagg-generation-worker']);
    expect(Number(whole.headers['x-disagg-context-ms'])).toBeGreaterThanOrEqual(0);
    expect(Number(whole.headers['x-disagg-handoff-ms'])).toBeGreaterThanOrEqual(0);

    const streamed = await streamRequest(
      p.port,
      '/v1/completions',
      completionBody({ stream: true }),
    );
    expect(streamed.status).toBe(200);
    expect(Number(streamed.headers['x-disagg-request-id'])).toBeGreaterThan(
      Number(whole.headers['x-disagg-request-id']),
    );
    expect(streamed.headers['x-disagg-generation-worker']).toBeDefined();
  });

  it('sends every request to the pinned pair', async () => {
    const pins = {
      'x-disagg-context-worker': hostPort(ctxB),
      'x-disagg-generation-worker': hostPort(genA),
    };
    for (let i = 0; i < 4; i++) {
      const r = await request(p.port, 'POST', '/v1/completions', completionBody(), pins);
      expect(r.status).toBe(200);
      expect(r.headers['x-disagg-context-worker']).toBe(hostPort(ctxB));
      expect(r.headers['x-disagg-generation-worker']).toBe(hostPort(genA));
    }
  });

  it('refuses a pin that names no worker of the proxy with a 400 that says which header', async () => {
    const r = await request(p.port, 'POST', '/v1/completions', completionBody(), {
      'x-disagg-generation-worker': '127.0.0.1:1',
    });
    expect(r.status).toBe(400);
    expect(r.body).toContain('x-disagg-generation-worker');
  });
});
