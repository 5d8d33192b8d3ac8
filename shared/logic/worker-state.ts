// The worker lifecycle as a pure reducer: (machine, event, policy) -> (machine, effects). The supervisor in
// electron/core/supervisor only runs the effects it asks for. Layer: shared (pure).
// States and events: docs/style-guide.md §5; "ready" means GET /health answered 200 (protocol 7.4).
import type { WorkerExit, WorkerProgress, WorkerStatus } from '../model/worker';
import type { RestartPolicy } from './restart-policy';
import { nextRestartDelayMs, shouldRestart } from './restart-policy';

export type WorkerTimer = 'readyTimeout' | 'probe' | 'restart' | 'kill';

export type WorkerEvent =
  | { type: 'start'; atMs: number }
  | { type: 'spawned'; pid: number; atMs: number }
  | { type: 'spawnFailed'; message: string; atMs: number }
  | { type: 'probeOk'; atMs: number }
  | { type: 'probeFailed'; message: string; atMs: number }
  | {
      type: 'exited';
      code: number | null;
      signal: string | null;
      stderrTail: string[];
      atMs: number;
    }
  | { type: 'stopRequested'; atMs: number }
  | { type: 'restartRequested'; atMs: number }
  | { type: 'timerFired'; timer: WorkerTimer; atMs: number }
  | { type: 'progress'; progress: WorkerProgress };

export type WorkerEffect =
  | { type: 'spawn' }
  | { type: 'probe' }
  | { type: 'kill'; signal: 'SIGTERM' | 'SIGKILL' }
  | { type: 'startTimer'; timer: WorkerTimer; delayMs: number }
  | { type: 'cancelTimer'; timer: WorkerTimer };

/** What happens when the process exits while 'stopping'. */
export type AfterExit = 'stop' | 'restart' | 'crash';

export interface WorkerMachine {
  status: WorkerStatus;
  /** Consecutive crashes; reset by a run that stayed ready for minUptimeMs or by a manual start. */
  crashCount: number;
  /** Consecutive failed probes while ready/degraded. */
  probeFailures: number;
  afterExit: AfterExit;
  /** Why the console is stopping the process (kept as lastExit.reason). */
  stopReason: string | null;
}

export interface WorkerTransition {
  machine: WorkerMachine;
  effects: WorkerEffect[];
}

/** The status of a worker that has never run: stopped, no process, no history. */
export function stoppedStatus(id: string): WorkerStatus {
  return {
    id,
    state: 'stopped',
    pid: null,
    restarts: 0,
    lastExit: null,
    startedAtMs: null,
    readyAtMs: null,
    progress: null,
    nextRestartAtMs: null,
    message: null,
  };
}

export function initialWorkerMachine(id: string): WorkerMachine {
  return {
    status: stoppedStatus(id),
    crashCount: 0,
    probeFailures: 0,
    afterExit: 'stop',
    stopReason: null,
  };
}

const RUN_TIMERS: WorkerTimer[] = ['readyTimeout', 'probe'];
const cancel = (...timers: WorkerTimer[]): WorkerEffect[] =>
  timers.map((timer) => ({ type: 'cancelTimer', timer }));

function beginSpawn(m: WorkerMachine, overrides: Partial<WorkerStatus> = {}): WorkerTransition {
  return {
    machine: {
      ...m,
      probeFailures: 0,
      afterExit: 'stop',
      stopReason: null,
      status: {
        ...m.status,
        state: 'starting',
        pid: null,
        startedAtMs: null,
        readyAtMs: null,
        progress: null,
        nextRestartAtMs: null,
        message: null,
        ...overrides,
      },
    },
    effects: [{ type: 'spawn' }],
  };
}

function beginStop(
  m: WorkerMachine,
  afterExit: AfterExit,
  reason: string,
  policy: RestartPolicy,
): WorkerTransition {
  return {
    machine: {
      ...m,
      afterExit,
      stopReason: reason,
      status: { ...m.status, state: 'stopping', message: reason },
    },
    effects: [
      ...cancel(...RUN_TIMERS),
      { type: 'kill', signal: 'SIGTERM' },
      { type: 'startTimer', timer: 'kill', delayMs: policy.killTimeoutMs },
    ],
  };
}

/** Crash handling: back off and restart, or give up after maxRestarts crashes in a row. */
function afterCrash(m: WorkerMachine, exit: WorkerExit, policy: RestartPolicy): WorkerTransition {
  const { readyAtMs } = m.status;
  const wasStable = readyAtMs != null && exit.atMs - readyAtMs >= policy.minUptimeMs;
  const crashCount = (wasStable ? 0 : m.crashCount) + 1;
  const base = { ...m.status, pid: null, lastExit: exit, progress: null, readyAtMs: null };
  const effects = cancel('kill', ...RUN_TIMERS);
  if (!shouldRestart(crashCount, policy)) {
    const message = `gave up after ${crashCount} crash${crashCount === 1 ? '' : 'es'} in a row (maxRestarts ${policy.maxRestarts})`;
    return {
      machine: {
        ...m,
        crashCount,
        status: { ...base, state: 'errored', nextRestartAtMs: null, message },
      },
      effects,
    };
  }
  const delayMs = nextRestartDelayMs(crashCount, policy);
  return {
    machine: {
      ...m,
      crashCount,
      status: {
        ...base,
        state: 'backoff',
        nextRestartAtMs: exit.atMs + delayMs,
        message: `restarting in ${delayMs} ms`,
      },
    },
    effects: [...effects, { type: 'startTimer', timer: 'restart', delayMs }],
  };
}

function exitOf(
  event: Extract<WorkerEvent, { type: 'exited' }>,
  reason: string | null,
): WorkerExit {
  return {
    code: event.code,
    signal: event.signal,
    stderrTail: event.stderrTail,
    atMs: event.atMs,
    reason,
  };
}

const same = (m: WorkerMachine): WorkerTransition => ({ machine: m, effects: [] });

function onSpawnFailed(
  m: WorkerMachine,
  event: Extract<WorkerEvent, { type: 'spawnFailed' }>,
): WorkerTransition {
  const state = m.status.state;
  if (state !== 'starting') return same(m);
  // A binary that cannot be executed will not start on a retry: no backoff loop.
  const lastExit: WorkerExit = {
    code: null,
    signal: null,
    stderrTail: [],
    atMs: event.atMs,
    reason: event.message,
  };
  return {
    machine: {
      ...m,
      status: { ...m.status, state: 'errored', pid: null, lastExit, message: event.message },
    },
    effects: cancel(...RUN_TIMERS),
  };
}

function onProbeOk(
  m: WorkerMachine,
  event: Extract<WorkerEvent, { type: 'probeOk' }>,
  policy: RestartPolicy,
): WorkerTransition {
  const state = m.status.state;
  if (state === 'starting') {
    return {
      machine: {
        ...m,
        probeFailures: 0,
        status: {
          ...m.status,
          state: 'ready',
          readyAtMs: event.atMs,
          progress: null,
          message: null,
        },
      },
      effects: [
        ...cancel('readyTimeout'),
        { type: 'startTimer', timer: 'probe', delayMs: policy.probeIntervalMs },
      ],
    };
  }
  if (state === 'ready' || state === 'degraded') {
    return {
      machine: {
        ...m,
        probeFailures: 0,
        status: { ...m.status, state: 'ready', message: null },
      },
      effects: [{ type: 'startTimer', timer: 'probe', delayMs: policy.probeIntervalMs }],
    };
  }
  return same(m);
}

function onStopRequested(m: WorkerMachine, policy: RestartPolicy): WorkerTransition {
  const state = m.status.state;
  if (state === 'starting' || state === 'ready' || state === 'degraded') {
    return beginStop(m, 'stop', 'stopped by the console', policy);
  }
  if (state === 'stopping') {
    return same({ ...m, afterExit: 'stop', stopReason: 'stopped by the console' });
  }
  if (state === 'backoff') {
    return {
      machine: {
        ...m,
        status: { ...m.status, state: 'stopped', nextRestartAtMs: null, message: null },
      },
      effects: cancel('restart'),
    };
  }
  return same(m);
}

function onExited(
  m: WorkerMachine,
  event: Extract<WorkerEvent, { type: 'exited' }>,
  policy: RestartPolicy,
): WorkerTransition {
  const state = m.status.state;
  if (state === 'stopping') {
    const exit = exitOf(event, m.stopReason);
    if (m.afterExit === 'crash') return afterCrash(m, exit, policy);
    const stopped: WorkerMachine = {
      ...m,
      status: {
        ...m.status,
        state: 'stopped',
        pid: null,
        lastExit: exit,
        readyAtMs: null,
        progress: null,
        message: null,
      },
    };
    if (m.afterExit === 'restart') {
      return withEffects(beginSpawn(stopped), cancel('kill'), true);
    }
    return { machine: stopped, effects: cancel('kill', ...RUN_TIMERS) };
  }
  if (state === 'starting' || state === 'ready' || state === 'degraded') {
    const reason = state === 'starting' ? 'exited while starting' : 'exited unexpectedly';
    return afterCrash(m, exitOf(event, reason), policy);
  }
  return same(m);
}

/** The one transition function of the worker lifecycle. Events that do not apply leave the machine as is. */
export function reduceWorker(
  m: WorkerMachine,
  event: WorkerEvent,
  policy: RestartPolicy,
): WorkerTransition {
  const state = m.status.state;
  switch (event.type) {
    case 'start':
      if (state === 'stopped' || state === 'errored') return beginSpawn({ ...m, crashCount: 0 });
      if (state === 'backoff') return withEffects(beginSpawn(m), cancel('restart'));
      if (state === 'stopping' && m.afterExit === 'stop') {
        return same({ ...m, afterExit: 'restart' });
      }
      return same(m);

    case 'restartRequested':
      if (state === 'starting' || state === 'ready' || state === 'degraded') {
        return beginStop({ ...m, crashCount: 0 }, 'restart', 'restart requested', policy);
      }
      return reduceWorker(m, { type: 'start', atMs: event.atMs }, policy);

    case 'spawned':
      if (state !== 'starting') return same(m);
      return {
        machine: {
          ...m,
          status: { ...m.status, pid: event.pid, startedAtMs: event.atMs, message: null },
        },
        effects: [
          { type: 'startTimer', timer: 'readyTimeout', delayMs: policy.readyTimeoutMs },
          { type: 'probe' },
        ],
      };

    case 'spawnFailed':
      return onSpawnFailed(m, event);

    case 'probeOk':
      return onProbeOk(m, event, policy);

    case 'probeFailed': {
      const next: WorkerEffect = {
        type: 'startTimer',
        timer: 'probe',
        delayMs: policy.probeIntervalMs,
      };
      if (state === 'starting') return { machine: m, effects: [next] };
      if (state === 'ready' || state === 'degraded') {
        const probeFailures = m.probeFailures + 1;
        const degraded = probeFailures >= policy.degradedAfterFailures;
        const status: WorkerStatus = degraded
          ? { ...m.status, state: 'degraded', message: `health check failing: ${event.message}` }
          : m.status;
        return { machine: { ...m, probeFailures, status }, effects: [next] };
      }
      return same(m);
    }

    case 'timerFired':
      return onTimer(m, event.timer, policy);

    case 'stopRequested':
      return onStopRequested(m, policy);

    case 'exited':
      return onExited(m, event, policy);

    case 'progress':
      if (state !== 'starting') return same(m);
      return same({ ...m, status: { ...m.status, progress: event.progress } });
  }
}

function onTimer(m: WorkerMachine, timer: WorkerTimer, policy: RestartPolicy): WorkerTransition {
  const state = m.status.state;
  switch (timer) {
    case 'probe':
      return state === 'starting' || state === 'ready' || state === 'degraded'
        ? { machine: m, effects: [{ type: 'probe' }] }
        : same(m);
    case 'readyTimeout':
      if (state !== 'starting') return same(m);
      return beginStop(
        m,
        'crash',
        `ready timeout: /health did not answer 200 within ${policy.readyTimeoutMs} ms`,
        policy,
      );
    case 'restart':
      if (state !== 'backoff') return same(m);
      return beginSpawn(m, { restarts: m.status.restarts + 1 });
    case 'kill':
      if (state !== 'stopping') return same(m);
      return {
        machine: {
          ...m,
          stopReason: `${m.stopReason ?? 'stopped'} (SIGKILL after ${policy.killTimeoutMs} ms)`,
        },
        effects: [{ type: 'kill', signal: 'SIGKILL' }],
      };
  }
}

function withEffects(
  t: WorkerTransition,
  extra: WorkerEffect[],
  prepend = false,
): WorkerTransition {
  return {
    machine: t.machine,
    effects: prepend ? [...extra, ...t.effects] : [...t.effects, ...extra],
  };
}

// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC; nvidia-smi and tqdm print them.
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
// "[11/24/2026-21:55:43] [TRT-LLM] [I] " and similar prefixes carry no progress information.
const LOG_PREFIX = /^(\[[^\]]*\]\s*)+/;
const TQDM = /^(.*?):?\s*(\d{1,3}(?:\.\d+)?)%\s*\|/;
// "Loading weights: 50%" with no bar (the simulated worker, some TRT-LLM stages).
const PERCENT_AT_END = /^(.*?):\s*(\d{1,3}(?:\.\d+)?)%$/;
const STAGES = [
  /loading (?:weights|model|checkpoint|engine|safetensors)/i,
  /warm(?:ing)?[ -]?up/i,
  /cuda graph/i,
  /kv cache/i,
  /uvicorn running on/i,
  /application startup complete/i,
  /started server process/i,
];

/**
 * Loading progress from one log line of a starting worker: tqdm bars ("Loading weights:  50%|##  | 2/4")
 * and "Loading weights: 50%" give a fraction, known stages give a message. Other lines give null.
 */
export function parseProgressLine(line: string, atMs: number): WorkerProgress | null {
  const text = line.replace(ANSI, '').replace(LOG_PREFIX, '').trim();
  if (text === '') return null;
  const bar = TQDM.exec(text) ?? PERCENT_AT_END.exec(text);
  if (bar) {
    const pct = Number(bar[2]);
    const label = (bar[1] ?? '').trim() || 'Loading';
    const count = /\|\s*(\d+)\/(\d+)/.exec(text);
    const suffix = count ? ` ${count[1]}/${count[2]}` : '';
    return {
      message: `${label}${suffix}`.slice(0, 160),
      fraction: Math.min(1, Math.max(0, pct / 100)),
      atMs,
    };
  }
  if (STAGES.some((re) => re.test(text))) {
    return { message: text.slice(0, 160), fraction: null, atMs };
  }
  return null;
}
