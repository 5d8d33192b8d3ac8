// Shared setup for the cluster integration tests: a real etcd, or the proxy's in-memory store served on a
// real node:http server, each with the client a worker would use. Layer: tests (node).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {
  ClusterStorage,
  StorageWatchEvent,
} from '../../../../electron/core/cluster/cluster-storage';
import { handleClusterStoreRequest } from '../../../../electron/core/cluster/http-store-routes';
import { startEtcd } from '../../../helpers/etcd';

export type BackendName = 'etcd' | 'http';

/** A running store: `uri` is its cluster_uri; `stop` releases everything. */
export interface StoreBackend {
  name: BackendName;
  uri: string;
  stop: () => Promise<void>;
}

/** Serves `store` (the proxy's in-memory store) on 127.0.0.1; other paths answer 404. */
export async function serveStore(
  getStore: () => ClusterStorage,
  port = 0,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    handleClusterStoreRequest(getStore(), req, res, url)
      .then((handled) => {
        if (!handled) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"detail":"Not Found"}');
        }
      })
      .catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${actual}` };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startEtcdBackend(): Promise<StoreBackend & { endpoint: string }> {
  const etcd = await startEtcd();
  return {
    name: 'etcd',
    uri: `etcd://${etcd.host}:${etcd.port}`,
    endpoint: etcd.endpoint,
    stop: etcd.stop,
  };
}

/** A unique key prefix per test so tests sharing one store never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `/test-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}/`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(50);
  }
}

/** Records watch events and lets a test wait for one. */
export class EventLog {
  readonly events: StorageWatchEvent[] = [];
  readonly push = (event: StorageWatchEvent): void => {
    this.events.push(event);
  };

  async waitFor(
    type: StorageWatchEvent['type'],
    key: string,
    timeoutMs = 5_000,
  ): Promise<StorageWatchEvent> {
    let found: StorageWatchEvent | undefined;
    await waitFor(
      `${type} ${key}`,
      () => {
        found = this.events.find((e) => e.type === type && e.key === key);
        return found !== undefined;
      },
      timeoutMs,
    );
    return found as StorageWatchEvent;
  }
}
