// Runs workers as child processes and carries out the effects the pure lifecycle reducer
// (shared/logic/worker-state.ts) asks for: spawn, health probes, timers, signals. Ready only when GET /health
// answers 200 (protocol 7.4); crashes become state with their reason kept (style guide §5). Layer: core.
import { resolveRestartPolicy, type RestartPolicy } from '../../../shared/logic/restart-policy';
import {
  buildWorkerCommand,
  formatCommandLine,
  type WorkerCommandOptions,
} from '../../../shared/logic/worker-command';
import {
  initialWorkerMachine,
  parseProgressLine,
  reduceWorker,
  type WorkerEffect,
  type WorkerEvent,
  type WorkerMachine,
  type WorkerTimer,
} from '../../../shared/logic/worker-state';
import type { GpuHolder } from '../../../shared/model/gpu';
import type { WorkerSpec, WorkerState, WorkerStatus } from '../../../shared/model/worker';
import { createFetchHealthProbe, type HealthProbe, healthUrl } from './health-probe';
import { CONSOLE_LINE_PREFIX, type LogStore } from './log-store';
import {
  adoptProcess,
  checkRecordedWorker,
  type Leftover,
  type PidFile,
  WORKER_OWNER_ENV,
} from './pid-file';
import { createPortAllocator, type PortAllocator } from './port-allocator';
import {
  createNodeProcessLauncher,
  type LaunchedProcess,
  type ProcessLauncher,
} from './process-launcher';
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

interface Managed {
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
}

const RUNNING: WorkerState[] = ['starting', 'ready', 'degraded', 'stopping'];

// eslint-disable-next-line max-lines-per-function -- TODO(#14): 340 lines of one closure; split once the reliability branch's launcher changes to this file have landed.
export function createWorkerSupervisor(opts: WorkerSupervisorOptions): WorkerSupervisor {
  const launcher = opts.launcher ?? createNodeProcessLauncher();
  const probe = opts.probe ?? createFetchHealthProbe();
  const clock = opts.clock ?? realClock;
  const ports = opts.ports ?? createPortAllocator();
  const logs = opts.logStore;
  const tailLines = opts.stderrTailLines ?? 20;
  const onUnexpectedError =
    opts.onUnexpectedError ?? ((err: unknown) => console.error('supervisor:', err));
  const workers = new Map<string, Managed>();
  const listeners = new Set<(s: WorkerStatus) => void>();

  const note = (id: string, text: string) => logs.append(id, 'stdout', CONSOLE_LINE_PREFIX + text);

  const get = (id: string): Managed => {
    const w = workers.get(id);
    if (!w) throw new SupervisorError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
    return w;
  };

  const writePidFile = (): void => {
    if (!opts.pidFile) return;
    try {
      const running = [...workers.values()].filter((w) => w.proc !== null);
      opts.pidFile.update(
        running.map((w) => ({
          id: w.spec.id,
          pid: w.proc?.pid ?? -1,
          host: w.spec.host,
          port: w.spec.port,
          command: w.command,
        })),
      );
    } catch (err) {
      onUnexpectedError(err);
    }
  };

  const dispatch = (w: Managed, event: WorkerEvent): void => {
    const before = w.machine.status;
    const t = reduceWorker(w.machine, event, w.policy);
    w.machine = t.machine;
    for (const effect of t.effects) run(w, effect);
    if (w.machine.status !== before) {
      const status = w.machine.status;
      for (const l of listeners) {
        try {
          l(status);
        } catch (err) {
          onUnexpectedError(err);
        }
      }
    }
  };

  const run = (w: Managed, effect: WorkerEffect): void => {
    switch (effect.type) {
      case 'spawn':
        w.spawning = spawn(w).catch(onUnexpectedError);
        return;
      case 'probe':
        void doProbe(w);
        return;
      case 'kill':
        if (w.proc) {
          note(w.spec.id, `sending ${effect.signal} to process group ${w.proc.pid}`);
          w.proc.kill(effect.signal);
        }
        return;
      case 'startTimer': {
        const old = w.timers.get(effect.timer);
        if (old !== undefined) clock.clearTimeout(old);
        const handle = clock.setTimeout(() => {
          if (w.timers.get(effect.timer) !== handle) return;
          w.timers.delete(effect.timer);
          dispatch(w, { type: 'timerFired', timer: effect.timer, atMs: clock.now() });
        }, effect.delayMs);
        w.timers.set(effect.timer, handle);
        return;
      }
      case 'cancelTimer': {
        const handle = w.timers.get(effect.timer);
        if (handle !== undefined) clock.clearTimeout(handle);
        w.timers.delete(effect.timer);
        return;
      }
    }
  };

  const spawn = async (w: Managed): Promise<void> => {
    const id = w.spec.id;
    const cmd = buildWorkerCommand(w.spec, opts.commandOptions);
    w.runId++;
    const runId = w.runId;
    w.runFirstSeq = note(
      id,
      `$ ${formatCommandLine(cmd, { CUDA_VISIBLE_DEVICES: cmd.env.CUDA_VISIBLE_DEVICES ?? '' })}`,
    ).seq;
    w.lastProgressKey = '';
    let proc: LaunchedProcess;
    const isAdopted = w.adopting !== null;
    try {
      if (w.adopting !== null) {
        proc = adoptProcess(w.adopting.worker);
        w.command = w.adopting.worker.command;
        w.adopting = null;
        note(
          id,
          `adopted running process ${proc.pid} left by an earlier console: its output since that console stopped is lost, and it is not captured while it runs (its stdout/stderr pipes went with that console); the next restart logs as usual`,
        );
      } else {
        const env =
          opts.ownerTag === undefined ? cmd.env : { ...cmd.env, [WORKER_OWNER_ENV]: opts.ownerTag };
        proc = await launcher.launch({ command: cmd.command, args: cmd.args, env });
        w.command = [cmd.command, ...cmd.args];
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOENT'
          ? `cannot start '${cmd.command}': not found (set the trtllm-serve path, or install TensorRT-LLM)`
          : `cannot start '${cmd.command}': ${(err as Error).message}`;
      note(id, message);
      if (w.runId === runId) dispatch(w, { type: 'spawnFailed', message, atMs: clock.now() });
      return;
    }
    w.proc = proc;
    if (w.machine.status.state === 'stopping') {
      // Stopped while the spawn was in flight: the kill effect found no process then.
      proc.kill('SIGTERM');
    }
    proc.onLine((stream, line) => {
      logs.append(id, stream, line);
      if (w.proc !== proc || w.machine.status.state !== 'starting') return;
      const progress = parseProgressLine(line, clock.now());
      if (!progress) return;
      // tqdm redraws many times a second; pass on only visible changes.
      const key = `${progress.message}|${progress.fraction === null ? '' : Math.round(progress.fraction * 100)}`;
      if (key === w.lastProgressKey) return;
      w.lastProgressKey = key;
      dispatch(w, { type: 'progress', progress });
    });
    dispatch(w, { type: 'spawned', pid: proc.pid, atMs: clock.now() });
    if (isAdopted) {
      dispatch(w, {
        type: 'progress',
        progress: {
          message: `adopted from the previous console (pid ${proc.pid}); waiting for /health`,
          fraction: null,
          atMs: clock.now(),
        },
      });
    }
    writePidFile();
    void proc.exited.then((exit) => {
      const stderrTail = logs
        .lines(id, w.runFirstSeq)
        .filter((l) => l.stream === 'stderr')
        .slice(-tailLines)
        .map((l) => l.text);
      note(
        id,
        `process ${proc.pid} exited (code ${exit.code ?? 'none'}, signal ${exit.signal ?? 'none'})`,
      );
      if (w.proc === proc) w.proc = null;
      writePidFile();
      dispatch(w, {
        type: 'exited',
        code: exit.code,
        signal: exit.signal,
        stderrTail,
        atMs: clock.now(),
      });
    });
  };

  const doProbe = async (w: Managed): Promise<void> => {
    const runId = w.runId;
    const result = await probe.probe(healthUrl(w.spec.host, w.spec.port), w.policy.probeTimeoutMs);
    if (w.runId !== runId || !workers.has(w.spec.id)) return;
    const atMs = clock.now();
    dispatch(
      w,
      result.ok
        ? { type: 'probeOk', atMs }
        : { type: 'probeFailed', message: result.error ?? 'unhealthy', atMs },
    );
  };

  const waitFor: WorkerSupervisor['waitFor'] = (id, until, timeoutMs) => {
    const w = get(id);
    const ok = Array.isArray(until) ? (s: WorkerStatus) => until.includes(s.state) : until;
    if (ok(w.machine.status)) return Promise.resolve(w.machine.status);
    return new Promise((resolve, reject) => {
      const off = (): void => {
        listeners.delete(onStatus);
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
        const s = workers.get(id)?.machine.status;
        reject(
          new Error(
            `worker ${id}: timed out after ${timeoutMs} ms waiting (state ${s?.state ?? 'removed'})`,
          ),
        );
      }, timeoutMs);
      listeners.add(onStatus);
    });
  };

  const start = (id: string): Promise<WorkerStatus> => {
    const w = get(id);
    const run = async (): Promise<WorkerStatus> => {
      const state = w.machine.status.state;
      if (state === 'stopped' || state === 'errored' || state === 'backoff') {
        // Fail before spawning with a clear error instead of a worker that dies on bind (C2 pre-flight).
        await ports.assertFree(w.spec.host, w.spec.port, id);
      }
      dispatch(w, { type: 'start', atMs: clock.now() });
      if (w.spawning) await w.spawning;
      return w.machine.status;
    };
    const p = run().finally(() => {
      if (w.starting === p) w.starting = null;
    });
    w.starting = p;
    return p;
  };

  const stop = async (id: string): Promise<WorkerStatus> => {
    const w = get(id);
    if (w.starting) await w.starting.catch(() => undefined);
    dispatch(w, { type: 'stopRequested', atMs: clock.now() });
    if (w.spawning) await w.spawning;
    // Bounded by the SIGKILL escalation; the margin covers a slow exit after SIGKILL.
    return waitFor(id, (s) => !RUNNING.includes(s.state), w.policy.killTimeoutMs + 10_000);
  };

  const api: WorkerSupervisor = {
    allocatePort: (id, host) => ports.allocate(host, id),

    add(spec) {
      if (workers.has(spec.id)) {
        throw new SupervisorError('CONFIG_INVALID', `a worker '${spec.id}' already exists`, {
          id: spec.id,
        });
      }
      for (const [port, holder] of Object.entries(ports.reservations())) {
        if (Number(port) === spec.port && holder !== spec.id) {
          throw new SupervisorError(
            'PORT_IN_USE',
            `port ${spec.port} is already assigned to worker ${holder}`,
            { port: spec.port, holder },
          );
        }
      }
      ports.reserve(spec.port, spec.id);
      const policy = resolveRestartPolicy({ ...opts.policy, ...opts.policyFor?.(spec) });
      const w: Managed = {
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
      };
      workers.set(spec.id, w);
      return w.machine.status;
    },

    start,

    async adopt(spec, leftover) {
      const state = checkRecordedWorker(leftover.worker);
      if (state !== 'running') {
        throw new SupervisorError(
          'WORKER_START_FAILED',
          `cannot adopt pid ${leftover.worker.pid}: ${state}`,
          { pid: leftover.worker.pid, state },
        );
      }
      api.add(spec);
      get(spec.id).adopting = leftover;
      // No port check: the adopted process is the one holding the port.
      dispatch(get(spec.id), { type: 'start', atMs: clock.now() });
      const w = get(spec.id);
      if (w.spawning) await w.spawning;
      return w.machine.status;
    },

    launchOf(spec) {
      const cmd = buildWorkerCommand(spec, opts.commandOptions);
      return { command: [cmd.command, ...cmd.args], env: cmd.env };
    },

    recordPids: () => writePidFile(),

    stop,

    async restart(id) {
      const w = get(id);
      const state = w.machine.status.state;
      if (state === 'stopped' || state === 'errored' || state === 'backoff') return start(id);
      dispatch(w, { type: 'restartRequested', atMs: clock.now() });
      await waitFor(id, (s) => s.state !== 'stopping', w.policy.killTimeoutMs + 10_000);
      if (w.spawning) await w.spawning;
      return w.machine.status;
    },

    async remove(id) {
      await stop(id);
      const w = get(id);
      for (const handle of w.timers.values()) clock.clearTimeout(handle);
      workers.delete(id);
      ports.release(id);
      logs.drop(id);
      writePidFile();
    },

    status: (id) => get(id).machine.status,
    spec: (id) => get(id).spec,
    list: () => [...workers.values()].map((w) => w.machine.status),
    waitFor,

    onDidChangeStatus(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },

    gpuHolders() {
      const holders: Record<string, GpuHolder[]> = {};
      for (const w of workers.values()) {
        for (const gpu of w.spec.gpus) {
          (holders[String(gpu)] ??= []).push({ workerId: w.spec.id, role: w.spec.role });
        }
      }
      return holders;
    },

    runningPids() {
      const pids: Record<string, number> = {};
      for (const w of workers.values()) if (w.proc) pids[w.spec.id] = w.proc.pid;
      return pids;
    },

    async dispose() {
      await Promise.all([...workers.keys()].map((id) => stop(id).catch(onUnexpectedError)));
      for (const w of workers.values()) {
        for (const handle of w.timers.values()) clock.clearTimeout(handle);
      }
      logs.flush();
      opts.pidFile?.remove();
    },
  };
  return api;
}
