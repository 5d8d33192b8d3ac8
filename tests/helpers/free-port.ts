// A free TCP port on the loopback interface, for tests that must pass a port to a child process
// (etcd, workers) instead of letting it bind port 0. Layer: tests (node).
import { createServer } from 'node:net';

/** Binds 127.0.0.1:0, reads the port the kernel chose, closes the socket and returns the port. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('getFreePort: the server has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
