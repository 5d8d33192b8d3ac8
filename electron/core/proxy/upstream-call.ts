// One phase's call to a worker, with the retry policy written once (reliability.md items 2-4, 18; the
// shape of undici's RetryHandler: the policy is an object owning its decisions, not a branch in every
// caller). Pick a worker the request may use, send, and on a failure that the phase's policy allows
// to retry, charge the worker, wait a little jitter and try another one; never after a byte reached
// the client (the caller only calls this before that). Layer: core.
import type { RouteRequest, RouteSelection } from '../../../shared/logic/routers/types';
import { RouterError } from '../../../shared/logic/routers/types';
import type { ProxyMetrics } from './metrics';
import type { Abortable, ProxyRequest } from './proxy-request';
import { Ending } from './proxy-request';
import type { UpstreamFailureKind } from './upstream-error';
import { UpstreamError } from './upstream-error';
import type { Upstreams } from './upstreams';
import type { WorkerEndpoint, WorkerPool } from './worker-pool';

/** A worker's share of load taken by routing; given back once, however the call ends. */
export class Lease {
  private isReleased = false;
  constructor(
    readonly pool: WorkerPool,
    readonly worker: WorkerEndpoint,
    readonly selection: RouteSelection,
  ) {}

  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    this.pool.release(this.worker, this.selection);
  }
}

/** When to try another worker: how many extra attempts, on which failures, after how long. */
export class RetryPolicy {
  constructor(
    readonly maxRetries: number,
    private readonly metrics: ProxyMetrics,
    private readonly jitterMs: () => number = () => 1 + Math.random() * 4,
  ) {}

  /** Whether attempt `attempt` (0-based) may be followed by another; counts the retry and waits the jitter. */
  async allowsAnother(attempt: number, request: ProxyRequest): Promise<boolean> {
    if (attempt >= this.maxRetries) return false;
    this.metrics.countRetry(request.rec);
    request.rec.retries++;
    await new Promise((r) => setTimeout(r, this.jitterMs()));
    return true;
  }
}

/** What differs between the phases: the pool, the pin header, which failures retry, the messages. */
export interface PhaseSpec<C extends Abortable, T> {
  role: 'context' | 'generation';
  pinHeader: string;
  requestType: 'context_only' | 'generation_only';
  /** Failures worth another worker (the request surely or probably never ran); timeouts never are. */
  retryOn: ReadonlySet<UpstreamFailureKind>;
  /** Opens the call: postWhole or postStream. */
  open(
    worker: WorkerEndpoint,
    path: string,
    payload: string,
    timeoutMs: number,
    headers?: Readonly<Record<string, string>>,
  ): C;
  /** The call's first result: the whole answer, or a stream's head. */
  awaitReply(call: C): Promise<T>;
  /** Stamps the record when a request goes out (ctxSentAt / genSentAt and the worker). */
  markSent(request: ProxyRequest, worker: WorkerEndpoint): void;
  timeoutMessage: string;
  failedMessage: string;
  /** The client's message when the worker's bytes were not valid HTTP. */
  protocolMessage: string;
  unavailableMessage: string;
}

export interface PhaseCall<C, T> {
  request: ProxyRequest;
  route: RouteRequest;
  path: string;
  payload: string;
  timeoutMs: number;
  /** Extra request headers (the internal-auth signature of a generation call). */
  headers?: Readonly<Record<string, string>>;
  /** A worker chosen earlier for the first attempt (conditional disaggregation reserves the gen worker). */
  reserved?: Lease;
  spec: PhaseSpec<Abortable & C, T>;
}

export interface Answered<C, T> {
  lease: Lease;
  call: C;
  value: T;
}

/** Shared dependencies of every phase call. */
export interface UpstreamCallDeps {
  upstreams: Upstreams;
  policy: RetryPolicy;
  metrics: ProxyMetrics;
  log: (msg: string) => void;
}

/**
 * Runs one phase: the reply and the lease on the worker that gave it (the caller releases it), or how
 * the request ends. On failure the lease is released here.
 */
export async function callWithRetry<C extends Abortable, T>(
  deps: UpstreamCallDeps,
  p: PhaseCall<C, T>,
): Promise<Answered<C, T> | Ending> {
  const { request, spec } = p;
  const pool = deps.upstreams.pool(spec.role);
  const pin = deps.upstreams.pinExclusion(request.req, pool, spec.pinHeader);
  if (pin === 'unknown') {
    p.reserved?.release();
    return Ending.error(
      'client_error',
      400,
      `${spec.pinHeader} names no ${spec.role} worker of this proxy`,
      `unknown pinned ${spec.role} worker`,
    );
  }
  // Workers this request may not go to: the pin's exclusions, then each failed attempt's worker.
  let excluded = pin;
  let reserved = p.reserved;
  const route: RouteRequest = { ...p.route, requestType: spec.requestType };
  for (let attempt = 0; ; attempt++) {
    if (request.isCancelled) {
      reserved?.release();
      return request.cancelEnding();
    }
    const lease = reserved ?? pickWorker(pool, route, excluded ?? NO_EXCLUSION, attempt);
    reserved = undefined;
    if (lease instanceof Ending) return lease;
    if (lease === undefined) break;
    spec.markSent(request, lease.worker);
    const call = spec.open(lease.worker, p.path, p.payload, p.timeoutMs, p.headers);
    request.current = call;
    try {
      const value = await spec.awaitReply(call);
      request.current = undefined;
      return { lease, call, value };
    } catch (thrown) {
      request.current = undefined;
      lease.release();
      const failed = chargeFailure(deps, request, lease, thrown);
      if (failed instanceof Ending) return failed;
      if (failed === 'timeout') {
        return Ending.error('timeout', 504, spec.timeoutMessage, `${spec.role} timeout`);
      }
      // Bad framing (the connection is already closed): the worker answered, so never retried.
      if (failed === 'protocol') {
        return Ending.error('upstream_error', 502, spec.protocolMessage, `${spec.role} protocol`);
      }
      if (!spec.retryOn.has(failed)) {
        return Ending.error('upstream_error', 502, spec.failedMessage, `${spec.role} ${failed}`);
      }
      deps.log(`${spec.role} attempt on ${lease.worker.url} failed: ${failed}`);
      (excluded ??= new Set()).add(lease.worker.url);
      if (!(await deps.policy.allowsAnother(attempt, request))) break;
    }
  }
  return Ending.error('upstream_error', 503, spec.unavailableMessage, spec.unavailableMessage, {
    'retry-after': '1',
  });
}

/** The routing exclusion of a first attempt with no pin. */
const NO_EXCLUSION: ReadonlySet<string> = new Set();

/**
 * Routes one attempt. A router error on the first attempt with members present is the router's own
 * failure (500, as upstream); later, or with no members, it means nobody is left (undefined: 503).
 */
function pickWorker(
  pool: WorkerPool,
  route: RouteRequest,
  excluded: ReadonlySet<string>,
  attempt: number,
): Lease | Ending | undefined {
  try {
    const { worker, selection } = pool.select(route, excluded);
    return new Lease(pool, worker, selection);
  } catch (err) {
    if (!(err instanceof RouterError)) throw err;
    if (attempt === 0 && pool.size() > 0) {
      return Ending.error(
        'upstream_error',
        500,
        `Internal server error ${err.message}`,
        err.message,
      );
    }
    return undefined;
  }
}

/**
 * After a call threw: anything but an UpstreamError is rethrown; an abort (the request was cancelled)
 * ends the request as its cancel reason says, without blaming the worker; any other failure is charged
 * to the worker, counted as `<role>_<kind>`, and its kind returned.
 */
function chargeFailure(
  deps: UpstreamCallDeps,
  request: ProxyRequest,
  lease: Lease,
  thrown: unknown,
): UpstreamFailureKind | Ending {
  if (!(thrown instanceof UpstreamError)) throw thrown;
  if (thrown.kind === 'aborted' || request.isCancelled) return request.cancelEnding();
  lease.pool.reportFailure(lease.worker, thrown.kind);
  deps.metrics.countUpstreamError(`${lease.pool.role}_${thrown.kind}`);
  return thrown.kind;
}
