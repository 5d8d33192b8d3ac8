// The router interface shared by round_robin, load_balancing and kv_cache_aware, and what a router is
// told about a request. Pure selection logic only: no I/O; the proxy feeds KV events in.
// Layer: shared (pure). Facts: docs/trtllm-protocol.md section 6.

/** What a router needs to know about one request (built once per request by the proxy). */
export interface RouteRequest {
  /** Which OpenAI endpoint the client called. */
  endpoint: 'completions' | 'chat';
  /** Completions: the single prompt after unwrapping (string or token ids). */
  prompt?: string | readonly number[];
  /** Chat: `prompt_token_ids` when the client sent them. */
  promptTokenIds?: readonly number[];
  /** Chat: the messages (kv_cache_aware tokenises their text when no token ids were given). */
  messages?: unknown;
  /** `disaggregated_params.request_type` of the request being routed, when it has one. */
  requestType?: string;
}

/** Per-request info returned by kv_cache_aware (upstream's `info` dict). */
export interface KvRouteInfo {
  block_hashes: bigint[][];
  token_lists: number[][];
  /** Matched tokens per server, in the router's server order (upstream sums these for conditional disagg). */
  matches: number[];
}

/** One routing decision; hand it back to `finish()` exactly once. */
export interface RouteSelection {
  server: string;
  /** The load this request added (1 request, or its token count). */
  load: number;
  info?: KvRouteInfo;
  /** Set by the router when finished, so a double finish is harmless. */
  finished: boolean;
}

/** Upstream raises ValueError for these; the proxy maps them to an error response. */
export class RouterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouterError';
  }
}

export interface Router {
  readonly type: 'round_robin' | 'load_balancing' | 'kv_cache_aware';
  /** Current server list, in order. */
  servers(): readonly string[];
  /** Replaces the server list (membership change); load of servers that stay is kept. */
  setServers(servers: readonly string[]): void;
  /**
   * Picks a server. `exclude` holds servers that must not be chosen (already tried, ejected); when it
   * leaves nothing, RouterError.
   */
  select(req: RouteRequest, exclude?: ReadonlySet<string>): RouteSelection;
  /** Releases the load taken by `select`. */
  finish(sel: RouteSelection): void;
}

/** Error text upstream uses when a role has no server. */
export function noServersMessage(role: string): string {
  return `No ${role} servers available`;
}
