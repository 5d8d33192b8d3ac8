// Ports for workers: free ones chosen, conflicts found before a start with a clear PORT_IN_USE error.
// "Free" means we could bind it just now on the worker's host and no other worker of this console has it.
// Layer: core.
import { createServer } from 'node:net';

import { SupervisorError } from './supervisor-errors';

export type PortCheck = { free: true } | { free: false; reason: string };

/** Tries to bind host:port and releases it at once. */
export function probePort(host: string, port: number): Promise<PortCheck> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve({
        free: false,
        reason:
          err.code === 'EADDRINUSE' ? 'in use by another process' : `${err.code ?? err.message}`,
      });
    });
    // exclusive: a port held by a cluster-worker socket of our own process must not look free.
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve({ free: true }));
    });
  });
}

/** A free loopback port chosen by the OS (bind 0, read, close), for a process that needs a number up front. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export interface PortAllocatorOptions {
  /** First port tried by allocate(); workers conventionally sit at 8001, 8002 ... (upstream examples). */
  firstPort?: number;
  lastPort?: number;
}

export interface PortAllocator {
  /** A free port on host, skipping ports held by other workers; reserved for `owner` until released. */
  allocate(host: string, owner: string): Promise<number>;
  /** Throws SupervisorError PORT_IN_USE when host:port is bound elsewhere or held by another worker. */
  assertFree(host: string, port: number, owner: string): Promise<void>;
  /** Marks a port as used by owner (e.g. a worker with a fixed port). */
  reserve(port: number, owner: string): void;
  release(owner: string): void;
  /** Port -> owner of current reservations. */
  reservations(): Record<number, string>;
}

export function createPortAllocator(opts: PortAllocatorOptions = {}): PortAllocator {
  const first = opts.firstPort ?? 8001;
  const last = opts.lastPort ?? 8999;
  const held = new Map<number, string>();

  const assertFree = async (host: string, port: number, owner: string): Promise<void> => {
    const holder = held.get(port);
    if (holder !== undefined && holder !== owner) {
      throw new SupervisorError(
        'PORT_IN_USE',
        `port ${port} is already assigned to worker ${holder}`,
        { port, holder },
      );
    }
    const check = await probePort(host, port);
    if (!check.free) {
      throw new SupervisorError(
        'PORT_IN_USE',
        `port ${port} on ${host} is not available: ${check.reason}`,
        { port, host },
      );
    }
  };

  return {
    assertFree,
    async allocate(host, owner) {
      for (let port = first; port <= last; port++) {
        if (held.has(port)) continue;
        if ((await probePort(host, port)).free) {
          held.set(port, owner);
          return port;
        }
      }
      throw new SupervisorError(
        'PORT_IN_USE',
        `no free port between ${first} and ${last} on ${host}`,
        { host },
      );
    },
    reserve(port, owner) {
      held.set(port, owner);
    },
    release(owner) {
      for (const [port, o] of held) if (o === owner) held.delete(port);
    },
    reservations() {
      return Object.fromEntries(held);
    },
  };
}
