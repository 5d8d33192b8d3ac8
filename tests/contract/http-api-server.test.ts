// What only the HTTP twin has: the token on every /api call, the body limit, malformed bodies, the raw SSE
// wire format, and static serving of the built renderer (safe paths, content types, index.html fallback).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type ApiServer, safeJoin, startApiServer } from '../../electron/core/http/api-server';
import { createApiClient } from '../../shared/api/client';
import { API_EVENTS } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import { httpTransport } from '../../shared/api/http-transport';
import { openSseReader, type SseReader } from '../helpers/sse-reader';
import { createFakeBackend, type FakeBackend } from './fake-backend';

let staticDir: string;
let server: ApiServer;
let backend: FakeBackend;
const readers: SseReader[] = [];

beforeAll(async () => {
  staticDir = mkdtempSync(join(tmpdir(), 'api-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>console</title>');
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(staticDir, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(tmpdir(), 'api-secret.txt'), 'secret');
  backend = createFakeBackend();
  server = await startApiServer({ backend, staticDir, maxBodyBytes: 1024, log: () => undefined });
});

afterEach(() => {
  for (const r of readers.splice(0)) r.close();
});

afterAll(async () => {
  await server.close();
  rmSync(staticDir, { recursive: true, force: true });
});

const post = (
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('api-server auth', () => {
  it('prints a console URL with the token on 127.0.0.1', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.consoleUrl).toBe(`${server.url}/?token=${encodeURIComponent(server.token)}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  const cases: { name: string; headers: Record<string, string>; query: string }[] = [
    { name: 'no token', headers: {}, query: '' },
    { name: 'wrong bearer', headers: { authorization: 'Bearer nope' }, query: '' },
    { name: 'wrong query token', headers: {}, query: '?token=nope' },
    { name: 'basic auth', headers: { authorization: 'Basic abc' }, query: '' },
    { name: 'right token, but in the query string', headers: {}, query: '?token=<right>' },
  ];
  it.each(cases)(
    'answers 401 with an UNAUTHORIZED envelope ($name) and never calls the backend',
    async ({ headers, query }) => {
      const res = await post(
        `/api/workers:list${query.replace('<right>', encodeURIComponent(server.token))}`,
        '[]',
        headers,
      );
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'missing or wrong console token' },
      });
      expect(backend.calls.filter((c) => c.channel === 'workers:list')).toEqual([]);
    },
  );

  it('accepts the token as a bearer header', async () => {
    const res = await post('/api/proxy:info', '[]', { authorization: `Bearer ${server.token}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, value: { port: 8000 } });
  });

  it('refuses the event stream without the token', async () => {
    const r = await openSseReader(`${server.url}/api/events`);
    readers.push(r);
    expect(r.status).toBe(401);
  });

  it('makes the typed client throw UNAUTHORIZED with a wrong token, also for events', async () => {
    const transport = httpTransport({ baseUrl: server.url, token: 'wrong' });
    const client = createApiClient(transport);
    await expect(client.invoke('workers:list')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    client.on('workers:statusChanged', () => undefined);
    const err = await client.whenConnected().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UNAUTHORIZED');
    client.close();
  });
});

describe('api-server requests', () => {
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}` });

  it.each([
    {
      name: 'not JSON',
      body: '{oops',
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'request body must be a JSON array of arguments',
    },
    {
      name: 'an object, not an array',
      body: '{"a":1}',
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'arguments: must be an array, got an object',
    },
    {
      name: 'over the size limit',
      body: JSON.stringify(['x'.repeat(2000)]),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'request body exceeds 1024 bytes',
    },
  ])('rejects a body that is $name', async ({ body, status, code, message }) => {
    const res = await post('/api/workers:restart', body, auth());
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ ok: false, error: { code, message } });
  });

  it('treats an empty body as no arguments', async () => {
    const res = await post('/api/proxy:info', '', auth());
    expect(res.status).toBe(200);
  });

  it.each([
    { path: '/api/shell:exec', status: 404, code: 'UNKNOWN_CHANNEL' },
    { path: '/api/workers:remove', body: '["ghost"]', status: 404, code: 'WORKER_NOT_FOUND' },
    { path: '/api/settings:get', status: 501, code: 'NOT_SUPPORTED' },
    { path: '/api/workers:stop', body: '["ctx0"]', status: 500, code: 'INTERNAL' },
  ])(
    'maps $code to HTTP $status with the envelope in the body',
    async ({ path, body, status, code }) => {
      const res = await post(path, body ?? '[]', auth());
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ ok: false, error: { code } });
    },
  );

  it('answers 405 for GET on a channel', async () => {
    const res = await fetch(`${server.url}/api/workers:list`, { headers: auth() });
    expect(res.status).toBe(405);
  });

  it('streams events as `event: <name>` / `data: <json>` after a connected event', async () => {
    const r = await openSseReader(`${server.url}/api/events`, {
      authorization: `Bearer ${server.token}`,
    });
    readers.push(r);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await r.waitFor((m) => m.event === 'console:connected');
    backend.emit('logs:appended', {
      workerId: 'ctx0',
      lines: [{ seq: 1, atMs: 2, stream: 'stderr', text: 'a "quoted"\nline' }],
    });
    const m = await r.waitFor((x) => x.event === 'logs:appended');
    expect(JSON.parse(m.data)).toEqual({
      workerId: 'ctx0',
      lines: [{ seq: 1, atMs: 2, stream: 'stderr', text: 'a "quoted"\nline' }],
    });
    expect(r.rawText()).toContain('event: logs:appended\ndata: {"workerId":"ctx0"');
  });

  it('drops its backend subscriptions when the client disconnects', async () => {
    await expect.poll(() => backend.listenerCount(), { timeout: 5000 }).toBe(0);
    const r = await openSseReader(`${server.url}/api/events`, {
      authorization: `Bearer ${server.token}`,
    });
    await r.waitFor((m) => m.event === 'console:connected');
    // The SSE stream subscribes once to every event of the contract.
    expect(backend.listenerCount()).toBe(API_EVENTS.length);
    r.close();
    await expect.poll(() => backend.listenerCount(), { timeout: 5000 }).toBe(0);
  });
});

describe('api-server slow event clients', () => {
  it('disconnects a client that stops reading instead of buffering without bound', async () => {
    const slowBackend = createFakeBackend();
    const slow = await startApiServer({
      backend: slowBackend,
      maxSseBufferBytes: 64 * 1024,
      log: () => undefined,
    });
    const r = await openSseReader(`${slow.url}/api/events`, {
      authorization: `Bearer ${slow.token}`,
    });
    try {
      await r.waitFor((m) => m.event === 'console:connected');
      r.pause();
      const big = 'x'.repeat(512 * 1024);
      for (let i = 0; i < 64 && slowBackend.listenerCount() > 0; i++) {
        slowBackend.emit('logs:appended', {
          workerId: 'ctx0',
          lines: [{ seq: i, atMs: i, stream: 'stdout', text: big }],
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await expect.poll(() => slowBackend.listenerCount(), { timeout: 5000 }).toBe(0);
    } finally {
      r.close();
      await slow.close();
    }
  });
});

describe('api-server static files', () => {
  it.each([
    {
      path: '/',
      status: 200,
      type: 'text/html; charset=utf-8',
      body: '<!doctype html><title>console</title>',
    },
    {
      path: '/?token=abc',
      status: 200,
      type: 'text/html; charset=utf-8',
      body: '<!doctype html><title>console</title>',
    },
    {
      path: '/assets/app.js',
      status: 200,
      type: 'text/javascript; charset=utf-8',
      body: 'console.log(1)',
    },
    { path: '/assets/app.css', status: 200, type: 'text/css; charset=utf-8', body: 'body{}' },
    {
      path: '/workers/ctx0',
      status: 200,
      type: 'text/html; charset=utf-8',
      body: '<!doctype html><title>console</title>',
    },
    {
      path: '/assets/missing.js',
      status: 404,
      type: 'text/plain; charset=utf-8',
      body: 'not found\n',
    },
    {
      path: '/..%2fapi-secret.txt',
      status: 400,
      type: 'text/plain; charset=utf-8',
      body: 'bad path\n',
    },
    {
      path: '/assets/..%2f..%2fapi-secret.txt',
      status: 400,
      type: 'text/plain; charset=utf-8',
      body: 'bad path\n',
    },
    { path: '/%E0%A4%A', status: 400, type: 'text/plain; charset=utf-8', body: 'bad path\n' },
  ])('GET $path -> $status', async ({ path, status, type, body }) => {
    const res = await fetch(`${server.url}${path}`);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe(type);
    expect(await res.text()).toBe(body);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it.each([
    ['/', '/srv/app'],
    ['/a/b.js', '/srv/app/a/b.js'],
    ['/../etc/passwd', null],
    ['/a/../b.js', '/srv/app/b.js'],
    ['/%2e%2e/etc/passwd', null],
    ['/a/%2e%2e/%2e%2e/x', null],
    ['/a%00.js', null],
    ['/a%5c..%5cx', null],
  ])('safeJoin("/srv/app", %s) = %s', (urlPath, expected) => {
    expect(safeJoin('/srv/app', urlPath)).toBe(expected);
  });
});
