// The wire format of the proxy's HTTP cluster store (trtllm-protocol.md 7.2): status codes, {"result": …}
// bodies, both /expire forms, the empty get_prefix fix, body limits and bad JSON, on a real node:http server.
import { request, type Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_STORE_BODY_BYTES } from '../../../../electron/core/cluster/http-store-routes';
import { MemoryClusterStore } from '../../../../electron/core/cluster/memory-cluster-store';
import { closeServer, serveStore } from './cluster-fixtures';

let server: Server;
let base: string;
let store: MemoryClusterStore;

beforeAll(async () => {
  store = new MemoryClusterStore();
  ({ server, url: base } = await serveStore(() => store));
});
afterAll(async () => {
  await closeServer(server);
  await store.close();
});

async function call(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    body,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

const item = (key: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    key,
    value: `v-${key}`,
    expire_time: -1,
    ttl: -1,
    overwrite_if_exists: false,
    ...extra,
  });

describe('HTTP cluster store routes', () => {
  it('POST /set answers 200 true, then 400 false for an existing key without overwrite', async () => {
    expect(await call('POST', '/set', item('/r/set'))).toEqual({
      status: 200,
      json: { result: true },
    });
    expect(await call('POST', '/set', item('/r/set'))).toEqual({
      status: 400,
      json: { result: false },
    });
    expect(
      await call('POST', '/set', item('/r/set', { overwrite_if_exists: true, value: 'new' })),
    ).toEqual({
      status: 200,
      json: { result: true },
    });
    expect(await store.get('/r/set')).toBe('new');
  });

  it('StorageItem optional fields may be omitted or null', async () => {
    expect(await call('POST', '/set', JSON.stringify({ key: '/r/minimal' }))).toEqual({
      status: 200,
      json: { result: true },
    });
    expect(await store.get('/r/minimal')).toBe('');
    expect(
      await call(
        'POST',
        '/set',
        JSON.stringify({ key: '/r/nulls', value: 'x', ttl: null, overwrite_if_exists: null }),
      ),
    ).toEqual({
      status: 200,
      json: { result: true },
    });
  });

  it('GET /get answers the value with 200, null with 400', async () => {
    await call('POST', '/set', item('/r/get'));
    expect(await call('GET', '/get?key=%2Fr%2Fget')).toEqual({
      status: 200,
      json: { result: 'v-/r/get' },
    });
    expect(await call('GET', '/get?key=/r/none')).toEqual({ status: 400, json: { result: null } });
  });

  it('DELETE /delete answers true once, then false with 400', async () => {
    await call('POST', '/set', item('/r/del'));
    expect(await call('DELETE', '/delete?key=/r/del')).toEqual({
      status: 200,
      json: { result: true },
    });
    expect(await call('DELETE', '/delete?key=/r/del')).toEqual({
      status: 400,
      json: { result: false },
    });
  });

  it('/expire works as GET with a query and as POST with a JSON body; an unknown key is 400 false', async () => {
    await call('POST', '/set', item('/r/exp', { ttl: 5 }));
    expect(await call('GET', '/expire?key=/r/exp&ttl=10')).toEqual({
      status: 200,
      json: { result: true },
    });
    expect(await call('POST', '/expire', JSON.stringify({ key: '/r/exp', ttl: 10 }))).toEqual({
      status: 200,
      json: { result: true },
    });
    expect(await call('GET', '/expire?key=/r/unknown&ttl=10')).toEqual({
      status: 400,
      json: { result: false },
    });
    expect((await call('GET', '/expire?key=/r/exp&ttl=ten')).status).toBe(422);
  });

  it('GET /get_prefix returns the map (keys_only gives ""), and an empty result is 200 {}', async () => {
    await call('POST', '/set', item('/gp/a'));
    await call('POST', '/set', item('/gp/b'));
    expect(await call('GET', '/get_prefix?key_prefix=/gp/&keys_only=0')).toEqual({
      status: 200,
      json: { result: { '/gp/a': 'v-/gp/a', '/gp/b': 'v-/gp/b' } },
    });
    expect(await call('GET', '/get_prefix?key_prefix=/gp/&keys_only=1')).toEqual({
      status: 200,
      json: { result: { '/gp/a': '', '/gp/b': '' } },
    });
    expect(await call('GET', '/get_prefix?key_prefix=/nothing/')).toEqual({
      status: 200,
      json: { result: {} },
    });
  });

  it.each([
    ['POST', '/set', '{not json', 400, /invalid JSON/],
    ['POST', '/set', '[1,2]', 400, /must be an object/],
    ['POST', '/set', '{"value":"x"}', 422, /'key'/],
    ['POST', '/set', '{"key":"k","ttl":"5"}', 422, /'ttl'/],
    ['POST', '/set', '{"key":"k","overwrite_if_exists":"yes"}', 422, /overwrite_if_exists/],
    ['GET', '/get', undefined, 422, /'key' is required/],
    ['GET', '/get_prefix?key_prefix=/x&keys_only=maybe', undefined, 422, /keys_only/],
    ['GET', '/set', undefined, 405, /Method Not Allowed/],
    ['POST', '/get?key=k', '{}', 405, /Method Not Allowed/],
  ])('%s %s with %j answers %i', async (method, path, body, status, detail) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(status);
    expect((res.json as { detail: string }).detail).toMatch(detail);
  });

  it('a body over the limit is refused with 413', async () => {
    const big = JSON.stringify({ key: '/r/big', value: 'x'.repeat(MAX_STORE_BODY_BYTES) });
    const res = await call('POST', '/set', big);
    expect(res.status).toBe(413);
    expect(await store.get('/r/big')).toBeNull();
  });

  it('a chunked body (no content-length) over the limit is refused with 413 too', async () => {
    const { status, detail } = await new Promise<{ status: number; detail: string }>(
      (resolve, reject) => {
        const req = request(
          `${base}/set`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                detail: (JSON.parse(text) as { detail: string }).detail,
              }),
            );
          },
        );
        req.on('error', reject);
        req.write('{"key":"/r/chunked","value":"');
        req.write('y'.repeat(MAX_STORE_BODY_BYTES));
        req.end('"}');
      },
    );
    expect(status).toBe(413);
    expect(detail).toMatch(/larger than/);
    expect(await store.get('/r/chunked')).toBeNull();
  });

  it('other paths are left to the caller (the test server answers 404)', async () => {
    expect((await call('GET', '/health')).status).toBe(404);
  });
});
