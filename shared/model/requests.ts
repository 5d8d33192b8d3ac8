// Recent proxy requests as the console API carries them (features O4, G2): a summary per request for the
// Recent requests table and the `requests:recorded` event, and the full timeline (every timestamp of
// docs/architecture.md "The request path", each token included) for one request. Times are epoch ms
// (fractional, as the proxy measures them). Layer: shared (pure), JSON-safe.

/** How a request ended, as the proxy records it (electron/core/proxy/types.ts RecordOutcome is this type). */
export type RequestOutcome =
  | 'ok'
  /** The context phase finished the request (trtllm-protocol.md 5.5). */
  | 'ok_context_only'
  | 'client_error'
  | 'upstream_error'
  | 'timeout'
  | 'client_disconnected'
  | 'rejected'
  | 'not_ready';

/** Every outcome, for validation and filters. */
export const REQUEST_OUTCOMES: readonly RequestOutcome[] = [
  'ok',
  'ok_context_only',
  'client_error',
  'upstream_error',
  'timeout',
  'client_disconnected',
  'rejected',
  'not_ready',
];

/** True for the outcomes that answered the client successfully. */
export function isOkOutcome(outcome: RequestOutcome): boolean {
  return outcome === 'ok' || outcome === 'ok_context_only';
}

/** One finished request, what a table row shows. */
export interface RequestSummary {
  /** The proxy's request id (also its `x-disagg-request-id` response header); restarts at 1 with the proxy. */
  id: number;
  endpoint: 'completions' | 'chat';
  isStream: boolean;
  receivedAtMs: number;
  doneAtMs: number;
  outcome: RequestOutcome;
  /** HTTP status the client got (0 when it went away before any). */
  status: number;
  /** The context worker's url as the proxy routed to it; null when the context phase was skipped. */
  ctxWorkerUrl: string | null;
  genWorkerUrl: string | null;
  /** The console's worker ids for those urls when it knows them. */
  ctxWorkerId: string | null;
  genWorkerId: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Received to first token (or to done for a whole answer); null unless the request succeeded. */
  ttftMs: number | null;
  /** Mean gap between tokens after the first; null with fewer than two token times. */
  tpotMs: number | null;
  e2eMs: number;
  retries: number;
  errorMessage: string | null;
}

/** One request with every timestamp the proxy took. */
export interface RequestDetail extends RequestSummary {
  ctxSentAtMs: number | null;
  ctxAnsweredAtMs: number | null;
  genSentAtMs: number | null;
  firstByteAtMs: number | null;
  /** Time of each token event (streams) as the proxy relayed it; at most REQUEST_TOKEN_TIMES_MAX kept. */
  tokenTimesMs: number[];
  /** Token events seen, also when tokenTimesMs was cut to its bound. */
  tokenEvents: number;
}

/** The most token times one detail keeps (a longer answer keeps the first ones; tokenEvents counts all). */
export const REQUEST_TOKEN_TIMES_MAX = 4096;

/** Filter of `requests:list`. */
export interface RequestQuery {
  /** Only these outcomes. */
  outcomes?: RequestOutcome[];
  /** Only requests that used this worker (console id or url, as context or generation worker). */
  worker?: string;
  /** At most this many, newest first (default 200). */
  limit?: number;
}

/** `requests:recorded` payload: requests finished since the last event, newest first (summaries only). */
export interface RequestsRecordedEvent {
  requests: RequestSummary[];
  /** Requests finished in this period that the event left out to stay small. */
  omitted: number;
}
