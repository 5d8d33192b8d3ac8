// Safe removal of a worker (feature C4), the four manual steps upstream documents (protocol 7.1: delete the
// etcd key first, wait for "Server xxx is removed", then stop the worker) done in order with bounds:
// stop routing -> drain in-flight requests -> delete its registry key -> wait until the proxy dropped it ->
// stop the process. The proxy and registry sides are ports, filled in by the backend (worker-removal.ts).
// Layer: core.

/** What the backend provides for one removal; every call may throw (the step is then reported 'failed'). */
export interface SafeRemovalPorts {
  /** The proxy sends no new request to the worker from now on. */
  stopRouting(workerId: string): Promise<void>;
  /** Requests the proxy has in flight on the worker now. */
  inFlight(workerId: string): Promise<number>;
  /** Deletes the worker's etcd / disagg_cluster key; a no-op for statically listed workers. */
  deregister(workerId: string): Promise<void>;
  /** Whether the proxy still lists the worker among its servers. */
  isKnownToProxy(workerId: string): Promise<boolean>;
  /** Stops the process and forgets it (WorkerSupervisor.remove). */
  stopProcess(workerId: string): Promise<void>;
}

export interface SafeRemovalOptions {
  /** Bound on waiting for in-flight requests; what is left then is cut off. */
  drainTimeoutMs?: number;
  /** Bound on waiting for the proxy to drop the worker (metadata mode polls every refresh_interval). */
  proxyDropTimeoutMs?: number;
  pollIntervalMs?: number;
  now?: () => number;
  /** Told about each step as it ends (for progress in the UI). */
  onStep?: (step: SafeRemovalStep) => void;
}

export type SafeRemovalStepName =
  'stopRouting' | 'drain' | 'deregister' | 'proxyDropped' | 'stopProcess';

export interface SafeRemovalStep {
  name: SafeRemovalStepName;
  outcome: 'done' | 'timeout' | 'failed';
  durationMs: number;
  detail: string | null;
}

export interface SafeRemovalReport {
  workerId: string;
  steps: SafeRemovalStep[];
  /** Requests still in flight when the drain bound ran out (they were cut off). */
  cutOffRequests: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Runs the removal's steps in order, each reported; a step that fails or times out does not stop the next. */
class StepRunner {
  readonly report: SafeRemovalReport;
  private readonly now: () => number;
  private readonly pollMs: number;

  constructor(
    workerId: string,
    private readonly opts: SafeRemovalOptions,
  ) {
    this.report = { workerId, steps: [], cutOffRequests: 0 };
    this.now = opts.now ?? Date.now;
    this.pollMs = opts.pollIntervalMs ?? 200;
  }

  async step(
    name: SafeRemovalStepName,
    body: () => Promise<{ outcome: 'done' | 'timeout'; detail: string | null }>,
  ): Promise<void> {
    const t0 = this.now();
    let s: SafeRemovalStep;
    try {
      const r = await body();
      s = { name, ...r, durationMs: this.now() - t0 };
    } catch (err) {
      s = { name, outcome: 'failed', detail: message(err), durationMs: this.now() - t0 };
    }
    this.report.steps.push(s);
    this.opts.onStep?.(s);
  }

  /** Polls until done() or the bound; resolves with whether it finished in time. */
  async until(done: () => Promise<boolean>, boundMs: number): Promise<boolean> {
    const deadline = this.now() + boundMs;
    for (;;) {
      if (await done()) return true;
      if (this.now() >= deadline) return false;
      await sleep(Math.min(this.pollMs, Math.max(1, deadline - this.now())));
    }
  }
}

/** Stop routing, then wait (bounded) for the requests in flight: the first two steps of a removal. */
async function stopRoutingAndDrain(
  workerId: string,
  ports: Pick<SafeRemovalPorts, 'stopRouting' | 'inFlight'>,
  run: StepRunner,
  drainTimeoutMs: number,
): Promise<void> {
  await run.step('stopRouting', async () => {
    await ports.stopRouting(workerId);
    return { outcome: 'done', detail: null };
  });
  await run.step('drain', async () => {
    let left = 0;
    const drained = await run.until(
      async () => (left = await ports.inFlight(workerId)) === 0,
      drainTimeoutMs,
    );
    run.report.cutOffRequests = drained ? 0 : left;
    return drained
      ? { outcome: 'done', detail: null }
      : {
          outcome: 'timeout',
          detail: `${left} request(s) still in flight after ${drainTimeoutMs} ms`,
        };
  });
}

/** Drains a worker without removing it (cluster command drainWorker): it stays running, routed to by nobody. */
export async function drainWorkerSafely(
  workerId: string,
  ports: Pick<SafeRemovalPorts, 'stopRouting' | 'inFlight'>,
  opts: SafeRemovalOptions = {},
): Promise<SafeRemovalReport> {
  const run = new StepRunner(workerId, opts);
  await stopRoutingAndDrain(workerId, ports, run, opts.drainTimeoutMs ?? 30_000);
  return run.report;
}

/** Removes one worker safely. Steps that fail or time out are reported and the removal goes on: the process is always stopped. */
export async function removeWorkerSafely(
  workerId: string,
  ports: SafeRemovalPorts,
  opts: SafeRemovalOptions = {},
): Promise<SafeRemovalReport> {
  const proxyDropTimeoutMs = opts.proxyDropTimeoutMs ?? 30_000;
  const run = new StepRunner(workerId, opts);
  await stopRoutingAndDrain(workerId, ports, run, opts.drainTimeoutMs ?? 30_000);
  await run.step('deregister', async () => {
    await ports.deregister(workerId);
    return { outcome: 'done', detail: null };
  });
  await run.step('proxyDropped', async () => {
    const dropped = await run.until(
      async () => !(await ports.isKnownToProxy(workerId)),
      proxyDropTimeoutMs,
    );
    return dropped
      ? { outcome: 'done', detail: null }
      : {
          outcome: 'timeout',
          detail: `the proxy still lists the worker after ${proxyDropTimeoutMs} ms`,
        };
  });
  await run.step('stopProcess', async () => {
    await ports.stopProcess(workerId);
    return { outcome: 'done', detail: null };
  });
  return run.report;
}
