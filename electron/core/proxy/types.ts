// Types the proxy reports to its embedder (the console backend) and accepts at run time.
// JSON-safe plain data so they cross a MessagePort unchanged. Layer: core.

export type RecordOutcome =
  | 'ok'
  /** The context phase finished the request (trtllm-protocol.md 5.5). */
  | 'ok_context_only'
  | 'client_error'
  | 'upstream_error'
  | 'timeout'
  | 'client_disconnected'
  | 'rejected'
  | 'not_ready';

/** One request's timeline (epoch ms, fractional) and result, as docs/architecture.md "request path" lists. */
export interface ProxyRequestRecord {
  id: number;
  endpoint: 'completions' | 'chat';
  isStream: boolean;
  receivedAt: number;
  ctxSentAt?: number;
  ctxAnsweredAt?: number;
  genSentAt?: number;
  firstByteAt?: number;
  tokenTimes: number[];
  doneAt: number;
  ctxWorker?: string;
  genWorker?: string;
  promptTokens?: number;
  completionTokens?: number;
  outcome: RecordOutcome;
  status: number;
  retries: number;
  errorMessage?: string;
}

/** Membership for both roles (`host:port` or `http://host:port`). */
export interface MembershipUpdate {
  context?: string[];
  generation?: string[];
}

/** A run-time routing change for one or both roles. */
export interface RoutingUpdate {
  context?: { type: 'round_robin' | 'load_balancing' | 'kv_cache_aware'; use_tokens?: boolean; max_batch_size?: number; tokens_per_block?: number };
  generation?: { type: 'round_robin' | 'load_balancing' | 'kv_cache_aware'; use_tokens?: boolean; max_batch_size?: number; tokens_per_block?: number };
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';

export const LOG_LEVEL_ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4 };

/** Accepts upstream's level names too (`verbose` -> debug, `internal_error` -> error). */
export function parseLogLevel(s: string): LogLevel | undefined {
  const v = s.toLowerCase();
  if (v === 'trace' || v === 'debug' || v === 'info' || v === 'error') return v;
  if (v === 'warning' || v === 'warn') return 'warning';
  if (v === 'verbose') return 'debug';
  if (v === 'internal_error' || v === 'critical') return 'error';
  return undefined;
}
