// The console API defends itself (issue #15 item 6): Host allowlist against DNS rebinding, Origin check on
// state-changing calls, the token only from the Authorization header, constant-time token check, and a static
// root that serves neither dotfiles nor files reached through a symlink leading out of it.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ApiServer, startApiServer } from '../../../electron/core/http/api-server';
import {
  allowedHostNames,
  createTokenCheck,
  hostNameOf,
  hostRefusal,
  originRefusal,
} from '../../../electron/core/http/request-guards';
import { createFakeBackend, type FakeBackend } from '../../contract/fake-backend';
import { type RawAnswer, rawHttp } from '../../helpers/raw-http';

let root: string;
let staticDir: string;
let server: ApiServer;
let backend: FakeBackend;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'api-harden-'));
  staticDir = join(root, 'static');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(staticDir, '.env'), 'SECRET=1');
  mkdirSync(join(staticDir, '.git'));
  writeFileSync(join(staticDir, '.git', 'config'), '[core]');
  writeFileSync(join(root, 'outside', 'secret.txt'), 'secret');
  symlinkSync(join(root, 'outside', 'secret.txt'), join(staticDir, 'leak.txt'));
  symlinkSync(join(root, 'outside'), join(staticDir, 'leakdir'));
  symlinkSync(join(staticDir, 'assets', 'app.js'), join(staticDir, 'alias.js'));
  backend = createFakeBackend();
  server = await startApiServer({
    backend,
    staticDir,
    allowedHosts: ['gpu-box.example'],
    log: () => undefined,
  });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A request with exactly the headers given; the Host header only when the test names one. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawAnswer> {
  return rawHttp(server.port, method, path, {
    headers,
    body,
    isHostOmitted: headers.host === undefined,
  });
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}` });
const own = (): string => `127.0.0.1:${server.port}`;

describe('Host allowlist (DNS rebinding)', () => {
  it.each([
    ['127.0.0.1 with the port', () => own()],
    ['localhost with the port', () => `localhost:${server.port}`],
    ['[::1] with the port', () => `[::1]:${server.port}`],
    ['localhost through an SSH tunnel on another port', () => 'localhost:9000'],
    ['the configured name', () => `GPU-Box.example:${server.port}`],
  ])('answers %s', async (_name, host) => {
    const res = await raw('POST', '/api/workers:list', { host: host(), ...auth() }, '[]');
    expect(res.status).toBe(200);
  });

  it.each([
    ['a rebinding name', 'attacker.example:1234'],
    ['a name that only starts like localhost', 'localhost.attacker.example'],
    ['another address', '10.0.0.5'],
    ['garbage', 'a b'],
  ])(
    'refuses %s with 421 FORBIDDEN on /api and on static files, before the token check',
    async (_name, host) => {
      const before = backend.calls.length;
      for (const [method, path, headers] of [
        ['POST', '/api/workers:list', auth()],
        ['POST', '/api/workers:list', {}],
        ['GET', '/', {}],
      ] as const) {
        const res = await raw(
          method,
          path,
          { host, ...headers },
          method === 'POST' ? '[]' : undefined,
        );
        expect(res.status).toBe(421);
        const answer = JSON.parse(res.text) as {
          ok: boolean;
          error: { code: string; message: string };
        };
        expect(answer.ok).toBe(false);
        expect(answer.error.code).toBe('FORBIDDEN');
        expect(answer.error.message).toContain('DNS-rebinding');
      }
      expect(backend.calls.length).toBe(before);
    },
  );

  it('refuses a request without a Host header (Node answers 400 itself; the guard would say 421)', async () => {
    const res = await raw('GET', '/', {});
    expect([400, 421]).toContain(res.status);
    expect(res.text).not.toContain('<title>console</title>');
    expect(hostRefusal(undefined, allowedHostNames('127.0.0.1'))).toBe(
      'the request has no Host header',
    );
  });

  it('parses Host values and builds the allowed set', () => {
    expect(hostNameOf('[::1]:80')).toBe('[::1]');
    expect(hostNameOf('LocalHost')).toBe('localhost');
    expect(hostNameOf('a:b:c')).toBeNull();
    expect([...allowedHostNames('0.0.0.0')]).toEqual(['127.0.0.1', 'localhost', '[::1]']);
    expect(allowedHostNames('192.168.1.7').has('192.168.1.7')).toBe(true);
    expect(allowedHostNames('::1').has('[::1]')).toBe(true);
    expect(hostRefusal('192.168.1.7:80', allowedHostNames('127.0.0.1'))).toMatch(
      /not a name this console answers to/,
    );
  });
});

describe('Origin check on state-changing calls', () => {
  it('allows calls without an Origin (curl, SDKs) and from its own page', async () => {
    expect((await raw('POST', '/api/workers:list', { host: own(), ...auth() }, '[]')).status).toBe(
      200,
    );
    expect(
      (
        await raw(
          'POST',
          '/api/workers:list',
          { host: own(), origin: `http://${own()}`, ...auth() },
          '[]',
        )
      ).status,
    ).toBe(200);
  });

  it.each([
    ['another site', 'https://attacker.example'],
    ['the same host on another port', 'http://127.0.0.1:1'],
    ['an opaque origin', 'null'],
    ['https of the same host', () => `https://${own()}`],
  ])('refuses %s with 403 FORBIDDEN and never reaches the backend', async (_name, origin) => {
    const before = backend.calls.length;
    const res = await raw(
      'POST',
      '/api/workers:remove',
      { host: own(), origin: typeof origin === 'function' ? origin() : origin, ...auth() },
      '["ctx0"]',
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(backend.calls.length).toBe(before);
  });

  it('leaves reads (GET) to the token check', () => {
    expect(originRefusal(undefined, 'x')).toBeNull();
    expect(originRefusal('http://LOCALHOST:5', 'localhost:5')).toBeNull();
  });
});

describe('the token', () => {
  it('is read only from the Authorization header, never from the query string', async () => {
    const viaQuery = await raw(
      'POST',
      `/api/workers:list?token=${encodeURIComponent(server.token)}`,
      { host: own() },
      '[]',
    );
    expect(viaQuery.status).toBe(401);
    const events = await raw('GET', `/api/events?token=${encodeURIComponent(server.token)}`, {
      host: own(),
    });
    expect(events.status).toBe(401);
  });

  it('is checked by digest, so wrong tokens of any length, and no token, fail', () => {
    const check = createTokenCheck('s3cret-token');
    expect(check('s3cret-token')).toBe(true);
    expect(check('s3cret-tokeN')).toBe(false);
    expect(check('s3cret')).toBe(false);
    expect(check('s3cret-token-and-more')).toBe(false);
    expect(check('')).toBe(false);
    expect(check(null)).toBe(false);
    expect(createTokenCheck('')(null)).toBe(false);
  });
});

describe('static root', () => {
  it.each([
    ['/.env', 404],
    ['/.git/config', 404],
    ['/%2egit/config', 404],
    ['/assets/../.env', 404],
    ['/leak.txt', 404],
    ['/leakdir/secret.txt', 404],
    ['/alias.js', 200],
    ['/assets/app.js', 200],
  ])('GET %s -> %i', async (path, status) => {
    const res = await raw('GET', path, { host: own() });
    expect(res.status).toBe(status);
    expect(res.text).not.toContain('secret');
    expect(res.text).not.toContain('SECRET');
  });
});
