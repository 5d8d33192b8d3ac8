// The two transports every contract suite runs its behaviour over: the in-memory transport and HTTP + SSE
// through a real api-server on 127.0.0.1 (port 0). A suite builds its backend, connects with `connect`, and
// must see the same values, error codes and events on both. Layer: tests (contract helper).
import { expect } from 'vitest';

import { startApiServer } from '../../electron/core/http/api-server';
import { type ApiClient, type ApiTransport, createApiClient } from '../../shared/api/client';
import type { ApiBackend } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import { httpTransport } from '../../shared/api/http-transport';
import { inMemoryTransport } from '../../shared/api/in-memory-transport';

export interface TransportHarness {
  client: ApiClient;
  transport: ApiTransport;
  /** Closes the transport and, over HTTP, the api-server. */
  close(): Promise<void>;
}

export interface ContractTransport {
  name: 'in-memory' | 'http';
  /**
   * Connects a client to `backend`. `onUnexpected` gets what is not an AppError from a handler (both
   * transports); without it the api-server logs such errors to stderr as it does by default.
   */
  connect: (
    backend: ApiBackend,
    onUnexpected?: (err: unknown) => void,
  ) => Promise<TransportHarness>;
}

export const CONTRACT_TRANSPORTS: readonly ContractTransport[] = [
  {
    name: 'in-memory',
    connect: (backend, onUnexpected) => {
      const transport = inMemoryTransport(backend, onUnexpected);
      return Promise.resolve({
        client: createApiClient(transport),
        transport,
        close: () => Promise.resolve(transport.close()),
      });
    },
  },
  {
    name: 'http',
    connect: async (backend, onUnexpected) => {
      const server = await startApiServer({
        backend,
        ...(onUnexpected ? { log: (_message: string, err: unknown) => onUnexpected(err) } : {}),
      });
      // A short reconnect delay keeps the suites that restart the stream quick.
      const transport = httpTransport({
        baseUrl: server.url,
        token: server.token,
        reconnectDelayMs: 50,
      });
      return {
        client: createApiClient(transport),
        transport,
        close: async () => {
          transport.close();
          await server.close();
        },
      };
    },
  },
];

/** The AppError a call rejects with; fails the test when it resolves or rejects with anything else. */
export async function expectAppError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the call to fail');
}
