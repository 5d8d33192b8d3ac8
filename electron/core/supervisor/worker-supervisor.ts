// Runs workers as child processes and carries out the effects the pure lifecycle reducer
// (shared/logic/worker-state.ts) asks for: spawn, health probes, timers, signals. Ready only when GET /health
// answers 200 (protocol 7.4); crashes become state with their reason kept (style guide §5). This file
// assembles the parts, which share one explicit SupervisorContext: supervisor-context.ts (state, pid file),
// worker-effects.ts (the reducer loop: probes, signals, timers), worker-run.ts (one run: launch or adopt,
// progress, exit) and worker-control.ts (add, start, stop, restart, adopt, remove, dispose). Layer: core.
import { resolveRestartPolicy, type RestartPolicy } from '../../../shared/logic/restart-policy';
import {
  buildWorkerCommand,
  type WorkerCommandOptions,
} from '../../../shared/logic/worker-command';
import type { GpuHolder } from '../../../shared/model/gpu';
import type { WorkerSpec, WorkerState, WorkerStatus } from '../../../shared/model/worker';
import { createFetchHealthProbe, type HealthProbe } from './health-probe';
import type { LogStore } from './log-store';
import type { Leftover, PidFile } from './pid-file';
import { createPortAllocator, type PortAllocator } from './port-allocator';
import { createNodeProcessLauncher, type ProcessLauncher } from './process-launcher';
import {
  getWorker,
  gpuHoldersOf,
  realClock,
  runningPidsOf,
  type SupervisorClock,
  type SupervisorContext,
  writePidFile,
} from './supervisor-context';
import {
  addWorker,
  adoptWorker,
  disposeWorkers,
  removeWorker,
  restartWorker,
  startWorker,
  stopWorker,
  waitForWorker,
} from './worker-control';

export { realClock, type SupervisorClock } from './supervisor-context';

export interface WorkerSupervisorOptions {
  logStore: LogStore;
  commandOptions: WorkerCommandOptions;
  launcher?: ProcessLauncher;
  probe?: HealthProbe;
  clock?: SupervisorClock;
  ports?: PortAllocator;
  policy?: Partial<RestartPolicy>;
  /** Per-worker policy overrides (e.g. a short readyTimeoutMs for simulated workers). */
  policyFor?: (spec: WorkerSpec) => Partial<RestartPolicy>;
  pidFile?: PidFile | null;
  /** Marks every launched worker with WORKER_OWNER_ENV=ownerTag (the data dir), so a crash cannot hide one. */
  ownerTag?: string;
  /**
   * Called before every spawn of a worker that runs a binary (not the simulated one) with the program to run;
   * a throw refuses the spawn (the worker goes 'errored' with the message, and start() rethrows an AppError).
   */
  checkExecutable?: (command: string) => Promise<void>;
  /** stderr lines kept as the crash reason. */
  stderrTailLines?: number;
  /** Where failures that are nobody's request end up (style guide §7). */
  onUnexpectedError?: (err: unknown) => void;
}

export interface WorkerSupervisor {
  /** A free port on host for a worker about to be added as `id` (reserved for it; add() with it then succeeds). */
  allocatePort(id: string, host: string): Promise<number>;
  /** Registers a worker (reserving its port); does not start it. */
  add(spec: WorkerSpec): WorkerStatus;
  /** Checks the port, then spawns; resolves once the process runs (state 'starting') or failed to spawn. */
  start(id: string): Promise<WorkerStatus>;
  /** SIGTERM, SIGKILL after killTimeoutMs; resolves once the process is gone. */
  stop(id: string): Promise<WorkerStatus>;
  restart(id: string): Promise<WorkerStatus>;
  /**
   * Takes over a worker a crashed console left running (see pid-file.ts readLeftovers): registers the spec and
   * supervises the existing process (health, stop, restart on exit) instead of spawning one.
   */
  adopt(spec: WorkerSpec, leftover: Leftover): Promise<WorkerStatus>;
  /** How a worker with this spec is launched: command line (program first, as the pid file records it), env. */
  launchOf(spec: WorkerSpec): { command: string[]; env: Record<string, string> };
  /** Rewrites the pid file with the running workers now (after a leftover decision, before any spawn). */
  recordPids(): void;
  /** Stops the worker and forgets it. */
  remove(id: string): Promise<void>;
  status(id: string): WorkerStatus;
  spec(id: string): WorkerSpec;
  list(): WorkerStatus[];
  /** Resolves with the first status that satisfies the predicate; rejects after timeoutMs. */
  waitFor(
    id: string,
    until: WorkerState[] | ((s: WorkerStatus) => boolean),
    timeoutMs: number,
  ): Promise<WorkerStatus>;
  /** Every status change, carrying the full status (idempotent for the UI). */
  onDidChangeStatus(cb: (status: WorkerStatus) => void): () => void;
  /** GPU index -> the workers assigned to it. */
  gpuHolders(): Record<string, GpuHolder[]>;
  /** The pids of running workers (for the GPU view's process attribution and the pid file). */
  runningPids(): Record<string, number>;
  /** Stops every worker this supervisor started and waits for their exits. */
  dispose(): Promise<void>;
}

export function createWorkerSupervisor(opts: WorkerSupervisorOptions): WorkerSupervisor {
  const ctx = createSupervisorContext(opts);
  return {
    allocatePort: (id, host) => ctx.ports.allocate(host, id),
    add: (spec) => addWorker(ctx, spec),
    start: (id) => startWorker(ctx, id),
    adopt: (spec, leftover) => adoptWorker(ctx, spec, leftover),
    launchOf(spec) {
      const cmd = buildWorkerCommand(spec, opts.commandOptions);
      return { command: [cmd.command, ...cmd.args], env: cmd.env };
    },
    recordPids: () => writePidFile(ctx),
    stop: (id) => stopWorker(ctx, id),
    restart: (id) => restartWorker(ctx, id),
    remove: (id) => removeWorker(ctx, id),
    status: (id) => getWorker(ctx, id).machine.status,
    spec: (id) => getWorker(ctx, id).spec,
    list: () => [...ctx.workers.values()].map((w) => w.machine.status),
    waitFor: (id, until, timeoutMs) => waitForWorker(ctx, id, until, timeoutMs),
    onDidChangeStatus(cb) {
      ctx.listeners.add(cb);
      return () => ctx.listeners.delete(cb);
    },
    gpuHolders: () => gpuHoldersOf(ctx),
    runningPids: () => runningPidsOf(ctx),
    dispose: () => disposeWorkers(ctx),
  };
}

/** The options with their defaults filled in, and the empty worker table. */
function createSupervisorContext(opts: WorkerSupervisorOptions): SupervisorContext {
  return {
    launcher: opts.launcher ?? createNodeProcessLauncher(),
    probe: opts.probe ?? createFetchHealthProbe(),
    clock: opts.clock ?? realClock,
    ports: opts.ports ?? createPortAllocator(),
    logs: opts.logStore,
    pidFile: opts.pidFile ?? null,
    commandOptions: opts.commandOptions,
    ownerTag: opts.ownerTag,
    checkExecutable: opts.checkExecutable,
    tailLines: opts.stderrTailLines ?? 20,
    policyOf: (spec) => resolveRestartPolicy({ ...opts.policy, ...opts.policyFor?.(spec) }),
    onUnexpectedError:
      opts.onUnexpectedError ?? ((err: unknown) => console.error('supervisor:', err)),
    workers: new Map(),
    listeners: new Set(),
  };
}
