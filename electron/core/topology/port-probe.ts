// Is a TCP port free? Binds it for a moment on the worker's host (loopback names bind 127.0.0.1).
// Layer: core.

import { createServer } from 'node:net';

/** Resolves true when `port` can be bound on `host` now, false when it is taken (EADDRINUSE/EACCES). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  const bindHost = host === 'localhost' ? '127.0.0.1' : host;
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: bindHost, port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
