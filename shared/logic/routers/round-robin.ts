// round_robin router: one index over the server list (trtllm-protocol.md 6.1). Layer: shared (pure).
import type { Router, RouteRequest, RouteSelection } from './types';
import { noServersMessage, RouterError } from './types';

export class RoundRobinRouter implements Router {
  readonly type = 'round_robin' as const;
  private list: string[];
  private index = 0;

  constructor(
    servers: readonly string[],
    private readonly role = 'the',
  ) {
    this.list = [...servers];
  }

  servers(): readonly string[] {
    return this.list;
  }

  setServers(servers: readonly string[]): void {
    const removed = this.list.some((s) => !servers.includes(s));
    this.list = [...servers];
    // Upstream resets the index when servers are removed.
    if (removed || this.index >= this.list.length) this.index = 0;
  }

  select(_req: RouteRequest, exclude?: ReadonlySet<string>): RouteSelection {
    const n = this.list.length;
    if (n === 0) throw new RouterError(noServersMessage(this.role));
    for (let i = 0; i < n; i++) {
      const server = this.list[this.index % n] as string;
      this.index = (this.index + 1) % n;
      if (!exclude || !exclude.has(server)) return { server, load: 1, finished: false };
    }
    throw new RouterError(noServersMessage(this.role));
  }

  finish(sel: RouteSelection): void {
    sel.finished = true;
  }
}
