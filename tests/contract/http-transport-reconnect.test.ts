// The HTTP transport's event stream survives a console restart on the same port: it reconnects, and
// whenConnected() waits until it has.

import { describe, expect, it } from 'vitest';

import { startApiServer } from '../../electron/core/http/api-server';
import { createApiClient } from '../../shared/api/client';
import { API_EVENTS } from '../../shared/api/contract';
import { httpTransport } from '../../shared/api/http-transport';
import { createFakeBackend } from './fake-backend';

describe('httpTransport reconnect', () => {
  it('resumes event delivery after the server restarts', async () => {
    const backend = createFakeBackend();
    let server = await startApiServer({ backend, token: 'fixed-token-for-this-test-0123456789' });
    const { port } = server;
    const client = createApiClient(
      httpTransport({ baseUrl: server.url, token: server.token, reconnectDelayMs: 50 }),
    );
    try {
      const seen: number[] = [];
      client.on('gpus:sampled', (e) => seen.push(e.atMs));
      await client.whenConnected();
      backend.emit('gpus:sampled', { atMs: 1, samples: [] });
      await expect.poll(() => seen, { timeout: 5000 }).toEqual([1]);

      await server.close();
      server = await startApiServer({
        backend,
        port,
        token: 'fixed-token-for-this-test-0123456789',
      });
      await expect.poll(() => backend.listenerCount(), { timeout: 5000 }).toBe(API_EVENTS.length);
      await client.whenConnected();
      backend.emit('gpus:sampled', { atMs: 2, samples: [] });
      await expect.poll(() => seen, { timeout: 5000 }).toEqual([1, 2]);
    } finally {
      client.close();
      await server.close();
    }
  });
});
