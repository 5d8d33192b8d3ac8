// The supervisor's commands: add, start, stop, restart, adopt, remove, dispose, and waiting for a status.
// Each turns a request into lifecycle events (worker-effects.ts) and waits for what the caller was promised:
// start until the process runs, stop until it is gone. Layer: core.
import type { AppError } from '../../../shared/api/envelope';
import type { WorkerSpec, WorkerState, WorkerStatus } from '../../../shared/model/worker';
import { checkRecordedWorker, type Leftover } from './pid-file';
import {
  clearTimers,
  getWorker,
  type ManagedWorker,
  newManagedWorker,
  RUNNING,
  type SupervisorContext,
  writePidFile,
} from './supervisor-context';
import { SupervisorError } from './supervisor-errors';
import { dispatch } from './worker-effects';

/** Beyond the SIGKILL escalation, how long a stop waits for a slow exit after SIGKILL. */
const EXIT_MARGIN_MS = 10_000;

/** Registers a worker (reserving its port); does not start it. */
export function addWorker(ctx: SupervisorContext, spec: WorkerSpec): WorkerStatus {
  if (ctx.workers.has(spec.id)) {
    throw new SupervisorError('CONFIG_INVALID', `a worker '${spec.id}' already exists`, {
      id: spec.id,
    });
  }
  for (const [port, holder] of Object.entries(ctx.ports.reservations())) {
    if (Number(port) === spec.port && holder !== spec.id) {
      throw new SupervisorError(
        'PORT_IN_USE',
        `port ${spec.port} is already assigned to worker ${holder}`,
        { port: spec.port, holder },
      );
    }
  }
  ctx.ports.reserve(spec.port, spec.id);
  const w = newManagedWorker(spec, ctx.policyOf(spec));
  ctx.workers.set(spec.id, w);
  return w.machine.status;
}

/** Checks the port, then spawns; resolves once the process runs or failed to spawn (a refusal rethrown). */
export function startWorker(ctx: SupervisorContext, id: string): Promise<WorkerStatus> {
  const w = getWorker(ctx, id);
  const p = startRun(ctx, w).finally(() => {
    if (w.starting === p) w.starting = null;
  });
  w.starting = p;
  return p;
}

async function startRun(ctx: SupervisorContext, w: ManagedWorker): Promise<WorkerStatus> {
  const state = w.machine.status.state;
  if (state === 'stopped' || state === 'errored' || state === 'backoff') {
    // Fail before spawning with a clear error instead of a worker that dies on bind (C2 pre-flight).
    await ctx.ports.assertFree(w.spec.host, w.spec.port, w.spec.id);
  }
  w.refusal = null;
  dispatch(ctx, w, { type: 'start', atMs: ctx.clock.now() });
  if (w.spawning) await w.spawning;
  // Set by the spawn this start awaited (TypeScript still sees the null assigned above).
  const refusal = w.refusal as AppError | null;
  if (refusal !== null) throw refusal;
  return w.machine.status;
}

/** SIGTERM, SIGKILL after killTimeoutMs (the reducer's escalation); resolves once the process is gone. */
export async function stopWorker(ctx: SupervisorContext, id: string): Promise<WorkerStatus> {
  const w = getWorker(ctx, id);
  if (w.starting) await w.starting.catch(() => undefined);
  dispatch(ctx, w, { type: 'stopRequested', atMs: ctx.clock.now() });
  if (w.spawning) await w.spawning;
  // Bounded by the SIGKILL escalation; the margin covers a slow exit after SIGKILL.
  return waitForWorker(
    ctx,
    id,
    (s) => !RUNNING.includes(s.state),
    w.policy.killTimeoutMs + EXIT_MARGIN_MS,
  );
}

/** A worker not running is started; a running one is stopped and spawned again by the reducer. */
export async function restartWorker(ctx: SupervisorContext, id: string): Promise<WorkerStatus> {
  const w = getWorker(ctx, id);
  const state = w.machine.status.state;
  if (state === 'stopped' || state === 'errored' || state === 'backoff') {
    return startWorker(ctx, id);
  }
  dispatch(ctx, w, { type: 'restartRequested', atMs: ctx.clock.now() });
  await waitForWorker(
    ctx,
    id,
    (s) => s.state !== 'stopping',
    w.policy.killTimeoutMs + EXIT_MARGIN_MS,
  );
  if (w.spawning) await w.spawning;
  return w.machine.status;
}

/** Registers the spec and supervises the running process a crashed console left instead of spawning one. */
export async function adoptWorker(
  ctx: SupervisorContext,
  spec: WorkerSpec,
  leftover: Leftover,
): Promise<WorkerStatus> {
  const state = checkRecordedWorker(leftover.worker);
  if (state !== 'running') {
    throw new SupervisorError(
      'WORKER_START_FAILED',
      `cannot adopt pid ${leftover.worker.pid}: ${state}`,
      { pid: leftover.worker.pid, state },
    );
  }
  addWorker(ctx, spec);
  const w = getWorker(ctx, spec.id);
  w.adopting = leftover;
  // No port check: the adopted process is the one holding the port.
  dispatch(ctx, w, { type: 'start', atMs: ctx.clock.now() });
  if (w.spawning) await w.spawning;
  return w.machine.status;
}

/** Stops the worker and forgets it: timers, port reservation, logs, pid file entry. */
export async function removeWorker(ctx: SupervisorContext, id: string): Promise<void> {
  await stopWorker(ctx, id);
  const w = getWorker(ctx, id);
  clearTimers(ctx, w);
  ctx.workers.delete(id);
  ctx.ports.release(id);
  ctx.logs.drop(id);
  writePidFile(ctx);
}

/** Stops every worker, waits for their exits, and removes the pid file. */
export async function disposeWorkers(ctx: SupervisorContext): Promise<void> {
  await Promise.all(
    [...ctx.workers.keys()].map((id) => stopWorker(ctx, id).catch(ctx.onUnexpectedError)),
  );
  for (const w of ctx.workers.values()) clearTimers(ctx, w);
  ctx.logs.flush();
  ctx.pidFile?.remove();
}

/** Resolves with the worker's first status that satisfies `until`; rejects after timeoutMs. */
export function waitForWorker(
  ctx: SupervisorContext,
  id: string,
  until: WorkerState[] | ((s: WorkerStatus) => boolean),
  timeoutMs: number,
): Promise<WorkerStatus> {
  const w = getWorker(ctx, id);
  const ok = Array.isArray(until) ? (s: WorkerStatus) => until.includes(s.state) : until;
  if (ok(w.machine.status)) return Promise.resolve(w.machine.status);
  return new Promise((resolve, reject) => {
    const off = (): void => {
      ctx.listeners.delete(onStatus);
      clearTimeout(timer);
    };
    const onStatus = (s: WorkerStatus): void => {
      if (s.id === id && ok(s)) {
        off();
        resolve(s);
      }
    };
    const timer = setTimeout(() => {
      off();
      const s = ctx.workers.get(id)?.machine.status;
      reject(
        new Error(
          `worker ${id}: timed out after ${timeoutMs} ms waiting (state ${s?.state ?? 'removed'})`,
        ),
      );
    }, timeoutMs);
    ctx.listeners.add(onStatus);
  });
}
