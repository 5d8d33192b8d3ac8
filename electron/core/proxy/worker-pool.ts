// One role's workers (context or generation): membership, the router over them, a connection pool per
// worker, in-flight and error counts, and passive ejection with recovery through an active /health
// probe (reliability.md item 10: ejection time x count with a cap, never eject every worker).
// Layer: core.
import type { Router, RouteRequest, RouteSelection } from '../../../shared/logic/routers/types';
import { RouterError } from '../../../shared/logic/routers/types';
import type { WorkerRole } from '../../../shared/model/worker';
import type { UpstreamFailureKind, UpstreamTarget } from './upstream-client';
import {
  createUpstreamPool,
  getUpstream,
  parseHostPort,
  type UpstreamPool,
} from './upstream-client';

export type { WorkerRole } from '../../../shared/model/worker';

export interface EjectionPolicy {
  /** Consecutive failures (5xx, invalid answers, resets, timeouts) before ejection. */
  failureThreshold: number;
  /** Consecutive connect errors before ejection. */
  connectFailureThreshold: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Timeout of the recovery /health probe. */
  probeTimeoutMs: number;
}

export const DEFAULT_EJECTION: EjectionPolicy = {
  failureThreshold: 3,
  connectFailureThreshold: 1,
  baseEjectionMs: 2_000,
  maxEjectionMs: 30_000,
  probeTimeoutMs: 1_000,
};

/** One worker as the proxy sees it. `url` is `http://host:port` like the Oct 2025 proxy. */
export class WorkerEndpoint implements UpstreamTarget {
  readonly host: string;
  readonly port: number;
  /** Keep-alive connections to this worker. */
  readonly pool: UpstreamPool;
  inFlight = 0;
  consecutiveFailures = 0;
  ejectionCount = 0;
  isEjected = false;
  isRemoved = false;
  requests = 0;
  errors = 0;
  ejections = 0;
  probeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly url: string,
    readonly role: WorkerRole,
    maxSockets: number,
  ) {
    const hp = parseHostPort(url);
    this.host = hp.host;
    this.port = hp.port;
    this.pool = createUpstreamPool(this.host, this.port, maxSockets);
  }
}

/** JSON-safe view of a worker for the console and /metrics. */
export interface WorkerSnapshot {
  url: string;
  role: WorkerRole;
  inFlight: number;
  requests: number;
  errors: number;
  ejections: number;
  isEjected: boolean;
  /** Pooled keep-alive sockets to this worker (busy + idle). */
  openSockets: number;
}

/** `host:port` or `http://host:port` -> `http://host:port`. */
export function normalizeWorkerUrl(url: string): string {
  const { host, port } = parseHostPort(url);
  return `http://${host}:${port}`;
}

export class WorkerPool {
  private readonly workers = new Map<string, WorkerEndpoint>();

  constructor(
    readonly role: WorkerRole,
    private router: Router,
    private readonly maxSocketsPerWorker: number,
    private readonly policy: EjectionPolicy = DEFAULT_EJECTION,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    for (const s of router.servers()) {
      this.workers.set(s, new WorkerEndpoint(s, role, maxSocketsPerWorker));
    }
  }

  get routerType(): Router['type'] {
    return this.router.type;
  }

  getRouter(): Router {
    return this.router;
  }

  /** Swaps the router (run-time routing change); membership is kept. */
  setRouter(router: Router): void {
    router.setServers([...this.workers.keys()]);
    this.router = router;
  }

  size(): number {
    return this.workers.size;
  }

  urls(): string[] {
    return [...this.workers.keys()];
  }

  get(url: string): WorkerEndpoint | undefined {
    return this.workers.get(url);
  }

  all(): WorkerEndpoint[] {
    return [...this.workers.values()];
  }

  /**
   * Replaces the membership. Removed workers keep serving their in-flight requests (nothing is lost
   * except on a worker that died); their pooled sockets close when the last one ends.
   */
  setMembers(urls: readonly string[]): void {
    const wanted = [...new Set(urls.map(normalizeWorkerUrl))];
    let changed = false;
    for (const [url, w] of this.workers) {
      if (!wanted.includes(url)) {
        this.workers.delete(url);
        w.isRemoved = true;
        if (w.probeTimer) clearTimeout(w.probeTimer);
        if (w.inFlight === 0) w.pool.destroy();
        this.log(`Server ${url} is removed`);
        changed = true;
      }
    }
    for (const url of wanted) {
      if (!this.workers.has(url)) {
        this.workers.set(url, new WorkerEndpoint(url, this.role, this.maxSocketsPerWorker));
        this.log(`Server ${url} is added`);
        changed = true;
      }
    }
    if (changed || this.router.servers().length !== this.workers.size) {
      this.router.setServers([...this.workers.keys()]);
    }
  }

  addMember(url: string): void {
    this.setMembers([...this.workers.keys(), normalizeWorkerUrl(url)]);
  }

  removeMember(url: string): void {
    const n = normalizeWorkerUrl(url);
    this.setMembers([...this.workers.keys()].filter((u) => u !== n));
  }

  /**
   * Picks a worker that is neither ejected nor already tried. When every untried worker is ejected,
   * ejected ones are allowed again (panic mode: never refuse because everything is ejected).
   */
  select(
    req: RouteRequest,
    tried: ReadonlySet<string>,
  ): { worker: WorkerEndpoint; selection: RouteSelection } {
    let exclude: Set<string> | undefined;
    let hasHealthyCandidate = false;
    for (const w of this.workers.values()) {
      if (tried.has(w.url)) continue;
      if (w.isEjected) {
        exclude ??= new Set(tried);
        exclude.add(w.url);
      } else {
        hasHealthyCandidate = true;
      }
    }
    const ex = hasHealthyCandidate ? (exclude ?? tried) : tried;
    const selection = this.router.select(req, ex.size > 0 ? ex : undefined);
    const worker = this.workers.get(selection.server);
    if (!worker) {
      this.router.finish(selection);
      throw new RouterError(`No ${this.role} servers available`);
    }
    worker.inFlight++;
    worker.requests++;
    return { worker, selection };
  }

  /** Releases the router load and the in-flight count of one selection. */
  release(worker: WorkerEndpoint, selection: RouteSelection): void {
    this.router.finish(selection);
    worker.inFlight = Math.max(0, worker.inFlight - 1);
    if (worker.isRemoved && worker.inFlight === 0) worker.pool.destroy();
  }

  reportSuccess(worker: WorkerEndpoint): void {
    worker.consecutiveFailures = 0;
  }

  /** Counts a failure; ejects after the threshold unless that would eject every worker. */
  reportFailure(worker: WorkerEndpoint, kind: UpstreamFailureKind | 'status' | 'invalid'): void {
    if (kind === 'aborted') return;
    worker.errors++;
    worker.consecutiveFailures++;
    const threshold =
      kind === 'connect' ? this.policy.connectFailureThreshold : this.policy.failureThreshold;
    if (worker.isEjected || worker.isRemoved || worker.consecutiveFailures < threshold) return;
    let others = 0;
    for (const w of this.workers.values()) if (w !== worker && !w.isEjected) others++;
    if (others === 0) return;
    this.eject(worker);
  }

  private eject(worker: WorkerEndpoint): void {
    worker.ejections++;
    worker.isEjected = true;
    const ms = this.backOff(worker);
    this.log(
      `Server ${worker.url} ejected for ${ms} ms after ${worker.consecutiveFailures} failures`,
    );
  }

  /** One more ejection period (base x count, capped), after which the worker is probed; returns its length. */
  private backOff(worker: WorkerEndpoint): number {
    worker.ejectionCount++;
    const delayMs = Math.min(
      this.policy.baseEjectionMs * worker.ejectionCount,
      this.policy.maxEjectionMs,
    );
    if (worker.probeTimer) clearTimeout(worker.probeTimer);
    worker.probeTimer = setTimeout(() => {
      worker.probeTimer = undefined;
      void this.probe(worker);
    }, delayMs);
    worker.probeTimer.unref();
    return delayMs;
  }

  private async probe(worker: WorkerEndpoint): Promise<void> {
    if (worker.isRemoved) return;
    const r = await getUpstream(worker, '/health', this.policy.probeTimeoutMs);
    if (worker.isRemoved) return;
    if (r && r.status === 200) {
      worker.isEjected = false;
      worker.consecutiveFailures = 0;
      this.log(`Server ${worker.url} recovered`);
      return;
    }
    this.backOff(worker);
  }

  snapshot(): WorkerSnapshot[] {
    return this.all().map((w) => ({
      url: w.url,
      role: w.role,
      inFlight: w.inFlight,
      requests: w.requests,
      errors: w.errors,
      ejections: w.ejections,
      isEjected: w.isEjected,
      openSockets: w.pool.openSockets(),
    }));
  }

  /** Stops probes and closes pooled sockets. */
  close(): void {
    for (const w of this.workers.values()) {
      if (w.probeTimer) clearTimeout(w.probeTimer);
      w.pool.destroy();
    }
  }
}
