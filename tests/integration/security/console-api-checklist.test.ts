// The console API's part of the reliability checklist (docs/reliability.md, "console API" items), each case
// followed by the invariant checks: the server still answers, open file descriptors are back to baseline
// (±5, /proc/self/fd), and no unhandled rejection happened. Runs against the real backend (in-process), except
// the 500-subscriber case, which uses the contract suite's fake backend so the test controls every event.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ApiServer, startApiServer } from '../../../electron/core/http/api-server';
import { API_CHANNELS, API_EVENTS } from '../../../shared/api/contract';
import { createFakeBackend } from '../../contract/fake-backend';
import { type RawAnswer, rawHttp } from '../../helpers/raw-http';
import { openSseReader, type SseReader } from '../../helpers/sse-reader';
import { type BackendHarness, startTestBackend } from '../core/backend/backend-kit';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

let h: BackendHarness;
let server: ApiServer;
let staticRoot: string;
let baselineFds = 0;

const openFds = (): number => readdirSync('/proc/self/fd').length;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  staticRoot = mkdtempSync(join(tmpdir(), 'checklist-static-'));
  mkdirSync(join(staticRoot, 'ui'));
  writeFileSync(join(staticRoot, 'ui', 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(staticRoot, 'secret.txt'), 'secret');
  h = await startTestBackend();
  server = await startApiServer({
    backend: h.backend,
    staticDir: join(staticRoot, 'ui'),
    // Long enough for a 16 MiB body on a loaded machine (the 413 cases), short enough for the trickle case.
    requestTimeoutMs: 10_000,
    log: () => undefined,
  });
  // One call first, so lazily opened handles (keep-alive agents, log files) are part of the baseline.
  await callRaw('proxy:info', '[]');
  baselineFds = openFds();
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await server.close();
  await h.close();
  rmSync(staticRoot, { recursive: true, force: true });
});

function rawRequest(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return rawHttp(server.port, method, path, { headers, body });
}

function callRaw(channel: string, body: string): Promise<RawAnswer> {
  return rawRequest('POST', `/api/${encodeURIComponent(channel)}`, body, {
    authorization: `Bearer ${server.token}`,
    'content-type': 'application/json',
  });
}

/** The checks every case ends with. */
async function expectInvariants(): Promise<void> {
  const alive = await callRaw('proxy:info', '[]');
  expect(alive.status).toBe(200);
  await expect
    .poll(openFds, { timeout: 10_000, interval: 100 })
    .toBeLessThanOrEqual(baselineFds + 5);
  expect(unhandled).toEqual([]);
}

describe('malformed input on every channel', () => {
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const bodies: [string, string][] = [
    ['not JSON', '{oops'],
    ['a JSON object', '{"a":1}'],
    ['a JSON string', '"workers:list"'],
    ['too many arguments', '[1,2,3,4,5,6]'],
    ['wrong types', '[{"x":{"y":[]}},[true],null]'],
    ['a null argument', '[null]'],
    ['a 100 KB string', JSON.stringify(['x'.repeat(100_000)])],
    ['deeply nested arrays', `[${deep}]`],
    [
      'prototype keys',
      '[{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}]',
    ],
  ];

  it(`never answers 5xx or INTERNAL (${API_CHANNELS.length} channels x ${bodies.length} bodies)`, async () => {
    const bad: string[] = [];
    for (const channel of API_CHANNELS) {
      for (const [name, body] of bodies) {
        const r = await callRaw(channel, body);
        const envelope = JSON.parse(r.text) as { ok: boolean; error?: { code: string } };
        if (r.status >= 500 || envelope.error?.code === 'INTERNAL') {
          bad.push(`${channel} with ${name}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectInvariants();
  }, 120_000);

  it('answers unknown channels and wrong methods with 4xx envelopes', async () => {
    expect((await callRaw('shell:exec', '[]')).status).toBe(404);
    expect((await callRaw('%E0%A4%A', '[]')).status).toBe(404);
    expect(
      (
        await rawRequest('PUT', '/api/workers:list', '[]', {
          authorization: `Bearer ${server.token}`,
        })
      ).status,
    ).toBe(405);
    expect(
      (
        await rawRequest('DELETE', '/api/events', undefined, {
          authorization: `Bearer ${server.token}`,
        })
      ).status,
    ).toBe(405);
    await expectInvariants();
  });
});

/** Streams `totalBytes` of body (declared or chunked) and resolves with the status the server answered. */
function pushBigBody(totalBytes: number, isDeclared: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/json',
    };
    if (isDeclared) headers['content-length'] = String(totalBytes);
    const req = request(
      `${server.url}/api/topology:validate`,
      { method: 'POST', agent: false, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    // The server closes the connection once it has refused the body: writes after that fail, as they should.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < totalBytes && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

describe('50 MB bodies', () => {
  it('refuses a declared 50 MB body with 413 before reading it', async () => {
    expect(await pushBigBody(50 << 20, true)).toBe(413);
    await expectInvariants();
  });

  it('refuses a chunked 50 MB body with 413 once it passes the limit', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    expect(await pushBigBody(50 << 20, false)).toBe(413);
    // The refused bytes were not kept: far less than 50 MB more heap than before (limit 16 MiB).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40 << 20);
    await expectInvariants();
  });
});

describe('clients that misbehave on the wire', () => {
  it('survives a client that disconnects in the middle of its body', async () => {
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const req = request(`${server.url}/api/topology:validate`, {
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${server.token}`, 'content-length': '100000' },
        });
        req.on('error', () => undefined);
        req.write('[{"console.yaml": "');
        setImmediate(() => {
          req.destroy();
          resolve();
        });
      });
    }
    await expectInvariants();
  });

  it('cuts off a client that trickles its body, while others are answered', async () => {
    const socket = connect(server.port, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    socket.write(
      `POST /api/topology:validate HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 1000\r\n\r\n[`,
    );
    const normal = await callRaw('workers:list', '[]');
    expect(normal.status).toBe(200);
    // The request timeout (10 s here) ends the slow request; the test's own timeout is the only time bound.
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
    await expectInvariants();
  });

  it('answers garbage on the wire with 400 and keeps serving', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
      socket.end('\x16\x03\x01 this is not HTTP\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await expectInvariants();
  });
});

describe('path traversal on the static root', () => {
  it.each([
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/%252e%252e/secret.txt',
    '/..%5csecret.txt',
    '/secret.txt%00.html',
    '//secret.txt',
    '/ui/../../secret.txt',
  ])('GET %s never serves a file outside the root', async (path) => {
    const r = await rawRequest('GET', path, undefined);
    expect(r.text).not.toContain('secret');
    expect(r.status).toBeLessThan(500);
  });

  it('keeps the invariants after the traversal attempts', async () => {
    await expectInvariants();
  });
});

describe('500 event-stream subscribers', () => {
  it('delivers an event to all of them and releases every subscription and socket when they leave', async () => {
    const fake = createFakeBackend();
    const sseServer = await startApiServer({ backend: fake, log: () => undefined });
    const before = openFds();
    const readers: SseReader[] = [];
    try {
      for (let i = 0; i < 500; i++) {
        readers.push(
          await openSseReader(`${sseServer.url}/api/events`, {
            authorization: `Bearer ${sseServer.token}`,
          }),
        );
      }
      await Promise.all(
        readers.map((r) => r.waitFor((m) => m.event === 'console:connected', 20_000)),
      );
      expect(fake.listenerCount()).toBe(500 * API_EVENTS.length);
      fake.emit('logs:appended', {
        workerId: 'ctx0',
        lines: [{ seq: 1, atMs: 1, stream: 'stdout', text: 'to everyone' }],
      });
      const got = await Promise.all(
        readers.map((r) => r.waitFor((m) => m.event === 'logs:appended', 20_000)),
      );
      expect(got.every((m) => m.data.includes('to everyone'))).toBe(true);
    } finally {
      for (const r of readers) r.close();
    }
    await expect.poll(() => fake.listenerCount(), { timeout: 10_000 }).toBe(0);
    await sseServer.close();
    await expect.poll(openFds, { timeout: 10_000, interval: 100 }).toBeLessThanOrEqual(before + 5);
    await expectInvariants();
  }, 60_000);
});
