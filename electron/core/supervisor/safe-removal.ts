// Safe removal of a worker (feature C4), the four manual steps upstream documents (protocol 7.1: delete the
// etcd key first, wait for "Server xxx is removed", then stop the worker) done in order with bounds:
// stop routing -> drain in-flight requests -> delete its registry key -> wait until the proxy dropped it ->
// stop the process. The proxy and registry sides are ports, filled in by the backend. Layer: core.

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

export type SafeRemovalStepName = 'stopRouting' | 'drain' | 'deregister' | 'proxyDropped' | 'stopProcess';

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

/** Removes one worker safely. Steps that fail or time out are reported and the removal goes on: the process is always stopped. */
export async function removeWorkerSafely(workerId: string, ports: SafeRemovalPorts, opts: SafeRemovalOptions = {}): Promise<SafeRemovalReport> {
  const drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
  const proxyDropTimeoutMs = opts.proxyDropTimeoutMs ?? 30_000;
  const pollMs = opts.pollIntervalMs ?? 200;
  const now = opts.now ?? Date.now;
  const report: SafeRemovalReport = { workerId, steps: [], cutOffRequests: 0 };

  const step = async (name: SafeRemovalStepName, body: () => Promise<{ outcome: 'done' | 'timeout'; detail: string | null }>): Promise<void> => {
    const t0 = now();
    let s: SafeRemovalStep;
    try {
      const r = await body();
      s = { name, ...r, durationMs: now() - t0 };
    } catch (err) {
      s = { name, outcome: 'failed', detail: message(err), durationMs: now() - t0 };
    }
    report.steps.push(s);
    opts.onStep?.(s);
  };

  /** Polls until done() or the bound; resolves with whether it finished in time. */
  const until = async (done: () => Promise<boolean>, boundMs: number): Promise<boolean> => {
    const deadline = now() + boundMs;
    for (;;) {
      if (await done()) return true;
      if (now() >= deadline) return false;
      await sleep(Math.min(pollMs, Math.max(1, deadline - now())));
    }
  };

  await step('stopRouting', async () => {
    await ports.stopRouting(workerId);
    return { outcome: 'done', detail: null };
  });
  await step('drain', async () => {
    let left = 0;
    const drained = await until(async () => (left = await ports.inFlight(workerId)) === 0, drainTimeoutMs);
    report.cutOffRequests = drained ? 0 : left;
    return drained ? { outcome: 'done', detail: null } : { outcome: 'timeout', detail: `${left} request(s) still in flight after ${drainTimeoutMs} ms` };
  });
  await step('deregister', async () => {
    await ports.deregister(workerId);
    return { outcome: 'done', detail: null };
  });
  await step('proxyDropped', async () => {
    const dropped = await until(async () => !(await ports.isKnownToProxy(workerId)), proxyDropTimeoutMs);
    return dropped ? { outcome: 'done', detail: null } : { outcome: 'timeout', detail: `the proxy still lists the worker after ${proxyDropTimeoutMs} ms` };
  });
  await step('stopProcess', async () => {
    await ports.stopProcess(workerId);
    return { outcome: 'done', detail: null };
  });
  return report;
}
