import { createServer, type Server } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import {
  createFetchHealthProbe,
  healthUrl,
} from '../../../../electron/core/supervisor/health-probe';
import { getFreePort } from '../../../helpers/free-port';

let server: Server | null = null;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});

const serve = (handler: Parameters<typeof createServer>[1]): Promise<number> =>
  new Promise((resolve) => {
    server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve((server?.address() as { port: number }).port));
  });

describe('healthUrl', () => {
  it.each([
    ['localhost', 8001, 'http://localhost:8001/health'],
    ['0.0.0.0', 8001, 'http://127.0.0.1:8001/health'],
    ['::', 8002, 'http://[::1]:8002/health'],
    ['fe80::1', 8003, 'http://[fe80::1]:8003/health'],
    ['10.0.0.5', 9000, 'http://10.0.0.5:9000/health'],
  ])('%s:%i', (host, port, url) => {
    expect(healthUrl(host, port)).toBe(url);
  });
});

describe('fetch health probe', () => {
  const probe = createFetchHealthProbe();
  // Generous limit for the answering cases: a loaded machine can take seconds to schedule the local server.
  const LIMIT_MS = 20_000;

  it('ok on 200', async () => {
    const port = await serve((_req, res) => res.writeHead(200).end());
    expect(await probe.probe(healthUrl('127.0.0.1', port), LIMIT_MS)).toEqual({
      ok: true,
      status: 200,
      error: null,
    });
  });

  it('not ok on 503, with the status', async () => {
    const port = await serve((_req, res) => res.writeHead(503).end('loading'));
    expect(await probe.probe(healthUrl('127.0.0.1', port), LIMIT_MS)).toEqual({
      ok: false,
      status: 503,
      error: 'HTTP 503',
    });
  });

  it('not ok when nothing listens', async () => {
    const port = await getFreePort();
    expect(await probe.probe(healthUrl('127.0.0.1', port), LIMIT_MS)).toEqual({
      ok: false,
      status: null,
      error: 'ECONNREFUSED',
    });
  });

  it('times out on a worker that never answers', async () => {
    const port = await serve(() => undefined);
    // The reason names the 200 ms limit: the probe's own timer ended it (a hang would hit the test timeout).
    expect(await probe.probe(healthUrl('127.0.0.1', port), 200)).toEqual({
      ok: false,
      status: null,
      error: 'timeout after 200 ms',
    });
  });
});
