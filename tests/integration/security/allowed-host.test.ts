// `serve --allowed-host NAME` and the allowedHosts setting (issue #15 item 6, DNS rebinding): a real `serve`
// answers the names given on its command line and in settings.json besides loopback, and refuses any other
// Host with 421 and the error envelope before the token is looked at. Bad names are refused up front.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseServeArgs } from '../../../electron/cli/serve-command';
import { rawHttp } from '../../helpers/raw-http';
import { consoleOf, type Serve, startServe } from '../lifecycle/serve-kit';

let dataDir = '';
let serve: Serve | null = null;
let c: { base: string; token: string };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dc-allowed-host-'));
  mkdirSync(dataDir, { recursive: true });
  // A setting written by hand, one valid name and one that is not a host name (ignored with a warning).
  writeFileSync(
    join(dataDir, 'settings.json'),
    JSON.stringify({ allowedHosts: ['Box.LAN', 'http://bad:1'] }),
  );
  serve = startServe(dataDir, [
    '--allowed-host',
    'console.example',
    '--allowed-host=10.1.2.3',
    '--port',
    '0',
  ]);
  c = await consoleOf(serve);
}, 90_000);

afterAll(async () => {
  if (serve && serve.proc.exitCode === null && serve.proc.signalCode === null) {
    serve.proc.kill('SIGTERM');
    await serve.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function listWith(host: string): Promise<{ status: number; body: unknown }> {
  const port = Number(new URL(c.base).port);
  const res = await rawHttp(port, 'POST', '/api/workers:list', {
    headers: { host, authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
    body: '[]',
  });
  return { status: res.status, body: JSON.parse(res.text) as unknown };
}

describe('serve --allowed-host', () => {
  it.each([
    ['a name from --allowed-host', 'console.example:443'],
    ['an address from --allowed-host=', '10.1.2.3'],
    ['a name from settings.json, any case', 'box.lan:8080'],
    ['loopback as always', 'localhost'],
  ])('answers %s', async (_what, host) => {
    const res = await listWith(host);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true });
  });

  it('refuses Host: evil.example with 421 and the error envelope', async () => {
    const res = await listWith('evil.example');
    expect(res.status).toBe(421);
    expect(res.body).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect((res.body as { error: { message: string } }).error.message).toContain(
      '--allowed-host NAME',
    );
  });

  it('ignores a settings entry that is not a host name, saying so', () => {
    expect(serve?.stderr()).toContain(
      'allowedHosts entry ignored: "http://bad:1" is not a host name',
    );
  });

  it('keeps allowedHosts out of settings:set', async () => {
    const res = await fetch(`${c.base}/api/settings:set`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ allowedHosts: ['evil.example'] }]),
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(400);
    expect((await listWith('evil.example')).status).toBe(421);
  });
});

describe('parseServeArgs --allowed-host', () => {
  it('collects repeated names, lower-case', () => {
    const r = parseServeArgs(['--allowed-host', 'A.example', '--allowed-host', 'b.example'], {});
    expect(r.ok && r.args.allowedHosts).toEqual(['a.example', 'b.example']);
    const none = parseServeArgs([], {});
    expect(none.ok && none.args.allowedHosts).toEqual([]);
  });

  it.each(['https://a.example', 'a.example:8080', 'a b', ''])(
    'refuses %j with one line naming the flag',
    (name) => {
      const r = parseServeArgs(['--allowed-host', name], {});
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toMatch(/^--allowed-host: .* is not a host name/);
    },
  );
});
