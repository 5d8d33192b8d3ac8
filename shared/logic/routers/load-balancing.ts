// load_balancing router: least active requests, or least active prompt "tokens" (trtllm-protocol.md 6.2).
// Token load counts characters for string prompts and ids for token prompts, as upstream does; it is
// only defined for completions that are context-only or plain, otherwise upstream raises ValueError.
// Layer: shared (pure).
import type { Router, RouteRequest, RouteSelection } from './types';
import { noServersMessage, RouterError } from './types';

/** Upstream's token load: `sum(len(p) for p in prompts)`; throws where upstream raises ValueError. */
export function tokenLoad(req: RouteRequest): number {
  if (req.endpoint === 'chat') {
    throw new RouterError(
      'Chat completion requests are not supported for load balancing by tokens',
    );
  }
  if (req.requestType !== undefined && req.requestType !== 'context_only') {
    throw new RouterError(
      'Only context-only or non-disaggregated requests can be balanced by tokens',
    );
  }
  const p = req.prompt;
  if (p === undefined) return 0;
  return p.length;
}

export class LoadBalancingRouter implements Router {
  readonly type = 'load_balancing' as const;
  private list: string[];
  private readonly loads = new Map<string, number>();

  constructor(
    servers: readonly string[],
    private readonly useTokens = false,
    private readonly role = 'the',
  ) {
    this.list = [];
    this.setServers(servers);
  }

  /** True when load is counted in prompt tokens rather than requests. */
  get usesTokens(): boolean {
    return this.useTokens;
  }

  servers(): readonly string[] {
    return this.list;
  }

  setServers(servers: readonly string[]): void {
    this.list = [...servers];
    for (const s of this.list) if (!this.loads.has(s)) this.loads.set(s, 0);
    for (const s of [...this.loads.keys()]) if (!this.list.includes(s)) this.loads.delete(s);
  }

  /** Current load per server (requests or tokens). */
  load(server: string): number {
    return this.loads.get(server) ?? 0;
  }

  select(req: RouteRequest, exclude?: ReadonlySet<string>): RouteSelection {
    const amount = this.useTokens ? tokenLoad(req) : 1;
    let best: string | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const s of this.list) {
      if (exclude && exclude.has(s)) continue;
      const l = this.loads.get(s) ?? 0;
      // Ties break by server string order, as upstream's (load, server) heap tuples do.
      if (l < bestLoad || (l === bestLoad && best !== undefined && s < best)) {
        best = s;
        bestLoad = l;
      }
    }
    if (best === undefined) throw new RouterError(noServersMessage(this.role));
    this.loads.set(best, bestLoad + amount);
    return { server: best, load: amount, finished: false };
  }

  finish(sel: RouteSelection): void {
    if (sel.finished) return;
    sel.finished = true;
    const l = this.loads.get(sel.server);
    if (l !== undefined) this.loads.set(sel.server, Math.max(0, l - sel.load));
  }
}
