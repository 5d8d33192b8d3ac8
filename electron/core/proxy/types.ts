// Types the proxy reports to its embedder (the console backend) and accepts at run time.
// JSON-safe plain data so they cross a MessagePort unchanged. Layer: core.
import type { RouterType } from '../../../shared/model/config';
import type { RequestOutcome } from '../../../shared/model/requests';

/** How a request ended: the console API's outcome union (shared/model/requests.ts), one definition for both. */
export type RecordOutcome = RequestOutcome;

/** One request's timeline (epoch ms, fractional) and result, as docs/architecture.md "The request path" lists. */
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

/** One role's router settings in a routing change (the router section's keys, trtllm-protocol.md 3.2 and 6). */
export interface RoleRoutingUpdate {
  type: RouterType;
  use_tokens?: boolean;
  max_batch_size?: number;
  tokens_per_block?: number;
}

/** A run-time routing change for one or both roles. */
export interface RoutingUpdate {
  context?: RoleRoutingUpdate;
  generation?: RoleRoutingUpdate;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';

export const LOG_LEVEL_ORDER: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warning: 3,
  error: 4,
};

/** Accepts upstream's level names too (`verbose` -> debug, `internal_error` -> error). */
export function parseLogLevel(s: string): LogLevel | undefined {
  const v = s.toLowerCase();
  if (v === 'trace' || v === 'debug' || v === 'info' || v === 'error') return v;
  if (v === 'warning' || v === 'warn') return 'warning';
  if (v === 'verbose') return 'debug';
  if (v === 'internal_error' || v === 'critical') return 'error';
  return undefined;
}
