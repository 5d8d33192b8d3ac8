// A free TCP port on the loopback interface, for tests that must pass a port to a child process
// (etcd, workers) instead of letting it bind port 0. The console picks such ports the same way for its own
// children, so tests use its function rather than a copy. Layer: tests (node).
import { freeLoopbackPort } from '../../electron/core/supervisor/port-allocator';

/** Binds 127.0.0.1:0, reads the port the kernel chose, closes the socket and returns the port. */
export function getFreePort(): Promise<number> {
  return freeLoopbackPort();
}
