// The one object the supervisor's parts share: its ports (launcher, probe, clock, logs, pid file), the
// workers it manages and who listens to their status. Every part takes it as its first argument, so what a
// part reads and changes is visible at the call (no closure state across parts). Layer: core.
import type { AppError } from '../../../shared/api/envelope';
import type { RestartPolicy } from '../../../shared/logic/restart-policy';
import type { WorkerCommandOptions } from '../../../shared/logic/worker-command';
import {
  initialWorkerMachine,
  type WorkerMachine,
  type WorkerTimer,
} from '../../../shared/logic/worker-state';
import type { GpuHolder } from '../../../shared/model/gpu';
import type { LogLine } from '../../../shared/model/logs';
import type { WorkerSpec, WorkerState, WorkerStatus } from '../../../shared/model/worker';
import type { HealthProbe } from './health-probe';
import { CONSOLE_LINE_PREFIX, type LogStore } from './log-store';
import type { Leftover, PidFile } from './pid-file';
import type { PortAllocator } from './port-allocator';
import type { LaunchedProcess, ProcessLauncher } from './process-launcher';
import { SupervisorError } from './supervisor-errors';

/** Time source and timers; tests may pass fakes. */
export interface SupervisorClock {
  now(): number;
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: SupervisorClock = {
  now: () => Date.now(),
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** One worker under supervision: its spec, its lifecycle machine and what its current run holds. */
export interface ManagedWorker {
  spec: WorkerSpec;
  policy: RestartPolicy;
  machine: WorkerMachine;
  proc: LaunchedProcess | null;
  /** Bumped on every spawn: results of probes of an older run are dropped. */
  runId: number;
  /** Log sequence number before this run's first line (for the stderr tail of this run only). */
  runFirstSeq: number;
  timers: Map<WorkerTimer, unknown>;
  spawning: Promise<void> | null;
  /** A start() in progress (port check, then spawn): a stop() right after it waits for it. */
  starting: Promise<unknown> | null;
  lastProgressKey: string;
  /** Set by adopt(): the next spawn wraps this running process instead of launching one. */
  adopting: Leftover | null;
  /** The command line of the running process (program first), for the pid file. */
  command: string[];
  /** Why the last spawn was refused (an AppError from checkExecutable), for start() to rethrow. */
  refusal: AppError | null;
  /** The process writes stdout and stderr into its log file (no stream of its own per line). */
  hasSharedOutput: boolean;
}

/** The supervisor's ports and state, resolved once by createWorkerSupervisor. */
export interface SupervisorContext {
  readonly launcher: ProcessLauncher;
  readonly probe: HealthProbe;
  readonly clock: SupervisorClock;
  readonly ports: PortAllocator;
  readonly logs: LogStore;
  readonly pidFile: PidFile | null;
  readonly commandOptions: WorkerCommandOptions;
  /** Marks launched workers with WORKER_OWNER_ENV (see WorkerSupervisorOptions.ownerTag). */
  readonly ownerTag: string | undefined;
  /** Asked before a binary is spawned; a throw refuses the spawn. */
  readonly checkExecutable: ((command: string) => Promise<void>) | undefined;
  /** stderr lines kept as the crash reason. */
  readonly tailLines: number;
  /** The restart policy of a worker with this spec (defaults, then the supervisor's, then per worker). */
  readonly policyOf: (spec: WorkerSpec) => RestartPolicy;
  readonly onUnexpectedError: (err: unknown) => void;
  readonly workers: Map<string, ManagedWorker>;
  readonly listeners: Set<(status: WorkerStatus) => void>;
}

/** States in which a process is (or may be) alive. */
export const RUNNING: WorkerState[] = ['starting', 'ready', 'degraded', 'stopping'];

/** A worker just added: stopped, no run yet. */
export function newManagedWorker(spec: WorkerSpec, policy: RestartPolicy): ManagedWorker {
  return {
    spec,
    policy,
    machine: initialWorkerMachine(spec.id),
    proc: null,
    runId: 0,
    runFirstSeq: 0,
    timers: new Map(),
    spawning: null,
    starting: null,
    lastProgressKey: '',
    adopting: null,
    command: [],
    refusal: null,
    hasSharedOutput: false,
  };
}

export function getWorker(ctx: SupervisorContext, id: string): ManagedWorker {
  const w = ctx.workers.get(id);
  if (!w) throw new SupervisorError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
  return w;
}

/** A line of the console's own in the worker's log; returns its log line (its seq marks a run's start). */
export function noteLine(ctx: SupervisorContext, id: string, text: string): LogLine {
  return ctx.logs.append(id, 'stdout', CONSOLE_LINE_PREFIX + text);
}

/** Rewrites the pid file with every worker that has a process now. */
export function writePidFile(ctx: SupervisorContext): void {
  if (!ctx.pidFile) return;
  try {
    const running = [...ctx.workers.values()].filter((w) => w.proc !== null);
    ctx.pidFile.update(
      running.map((w) => ({
        id: w.spec.id,
        pid: w.proc?.pid ?? -1,
        host: w.spec.host,
        port: w.spec.port,
        command: w.command,
      })),
    );
  } catch (err) {
    ctx.onUnexpectedError(err);
  }
}

/** Cancels every pending timer of the worker (before it is forgotten, or at dispose). */
export function clearTimers(ctx: SupervisorContext, w: ManagedWorker): void {
  for (const handle of w.timers.values()) ctx.clock.clearTimeout(handle);
}

/** GPU index -> the workers assigned to it. */
export function gpuHoldersOf(ctx: SupervisorContext): Record<string, GpuHolder[]> {
  const holders: Record<string, GpuHolder[]> = {};
  for (const w of ctx.workers.values()) {
    for (const gpu of w.spec.gpus) {
      (holders[String(gpu)] ??= []).push({ workerId: w.spec.id, role: w.spec.role });
    }
  }
  return holders;
}

/** Worker id -> pid, for the workers that have a process now. */
export function runningPidsOf(ctx: SupervisorContext): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const w of ctx.workers.values()) if (w.proc) pids[w.spec.id] = w.proc.pid;
  return pids;
}
