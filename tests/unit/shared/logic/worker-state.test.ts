import { describe, expect, it } from 'vitest';

import { resolveRestartPolicy } from '../../../../shared/logic/restart-policy';
import type {
  WorkerEffect,
  WorkerEvent,
  WorkerMachine,
} from '../../../../shared/logic/worker-state';
import {
  initialWorkerMachine,
  parseProgressLine,
  reduceWorker,
} from '../../../../shared/logic/worker-state';
import type { WorkerState } from '../../../../shared/model/worker';

const policy = resolveRestartPolicy({
  readyTimeoutMs: 1000,
  minUptimeMs: 500,
  maxRestarts: 2,
  backoffBaseMs: 100,
  backoffMaxMs: 300,
  killTimeoutMs: 50,
  probeIntervalMs: 10,
  degradedAfterFailures: 2,
});

function inState(state: WorkerState, over: Partial<WorkerMachine> = {}): WorkerMachine {
  const m = initialWorkerMachine('w1');
  const running =
    state === 'starting' || state === 'ready' || state === 'degraded' || state === 'stopping';
  return {
    ...m,
    ...over,
    status: {
      ...m.status,
      state,
      pid: running ? 4242 : null,
      startedAtMs: running ? 0 : null,
      readyAtMs: state === 'ready' || state === 'degraded' ? 100 : null,
    },
  };
}

const exited = (atMs = 200): WorkerEvent => ({
  type: 'exited',
  code: 1,
  signal: null,
  stderrTail: ['boom'],
  atMs,
});
const T = 1000;
type Row = [WorkerState, WorkerEvent, WorkerState, WorkerEffect[]];

const SPAWN: WorkerEffect = { type: 'spawn' };
const TERM: WorkerEffect[] = [
  { type: 'cancelTimer', timer: 'readyTimeout' },
  { type: 'cancelTimer', timer: 'probe' },
  { type: 'kill', signal: 'SIGTERM' },
  { type: 'startTimer', timer: 'kill', delayMs: 50 },
];
const EXIT_CANCELS: WorkerEffect[] = [
  { type: 'cancelTimer', timer: 'kill' },
  { type: 'cancelTimer', timer: 'readyTimeout' },
  { type: 'cancelTimer', timer: 'probe' },
];
const nextProbe: WorkerEffect = { type: 'startTimer', timer: 'probe', delayMs: 10 };

describe('reduceWorker: state x event', () => {
  it.each<Row>([
    ['stopped', { type: 'start', atMs: T }, 'starting', [SPAWN]],
    ['errored', { type: 'start', atMs: T }, 'starting', [SPAWN]],
    [
      'backoff',
      { type: 'start', atMs: T },
      'starting',
      [SPAWN, { type: 'cancelTimer', timer: 'restart' }],
    ],
    ['starting', { type: 'start', atMs: T }, 'starting', []],
    ['ready', { type: 'start', atMs: T }, 'ready', []],
    [
      'starting',
      { type: 'spawned', pid: 7, atMs: T },
      'starting',
      [{ type: 'startTimer', timer: 'readyTimeout', delayMs: 1000 }, { type: 'probe' }],
    ],
    ['stopped', { type: 'spawned', pid: 7, atMs: T }, 'stopped', []],
    [
      'starting',
      { type: 'spawnFailed', message: 'spawn trtllm-serve ENOENT', atMs: T },
      'errored',
      [
        { type: 'cancelTimer', timer: 'readyTimeout' },
        { type: 'cancelTimer', timer: 'probe' },
      ],
    ],
    [
      'starting',
      { type: 'probeOk', atMs: T },
      'ready',
      [{ type: 'cancelTimer', timer: 'readyTimeout' }, nextProbe],
    ],
    [
      'starting',
      { type: 'probeFailed', message: 'ECONNREFUSED', atMs: T },
      'starting',
      [nextProbe],
    ],
    ['ready', { type: 'probeOk', atMs: T }, 'ready', [nextProbe]],
    ['ready', { type: 'probeFailed', message: 'HTTP 500', atMs: T }, 'ready', [nextProbe]],
    ['degraded', { type: 'probeOk', atMs: T }, 'ready', [nextProbe]],
    ['degraded', { type: 'probeFailed', message: 'HTTP 500', atMs: T }, 'degraded', [nextProbe]],
    ['stopping', { type: 'probeOk', atMs: T }, 'stopping', []],
    ['backoff', { type: 'probeFailed', message: 'x', atMs: T }, 'backoff', []],
    ['starting', { type: 'timerFired', timer: 'probe', atMs: T }, 'starting', [{ type: 'probe' }]],
    ['ready', { type: 'timerFired', timer: 'probe', atMs: T }, 'ready', [{ type: 'probe' }]],
    ['stopped', { type: 'timerFired', timer: 'probe', atMs: T }, 'stopped', []],
    ['starting', { type: 'timerFired', timer: 'readyTimeout', atMs: T }, 'stopping', TERM],
    ['ready', { type: 'timerFired', timer: 'readyTimeout', atMs: T }, 'ready', []],
    ['backoff', { type: 'timerFired', timer: 'restart', atMs: T }, 'starting', [SPAWN]],
    ['stopped', { type: 'timerFired', timer: 'restart', atMs: T }, 'stopped', []],
    [
      'stopping',
      { type: 'timerFired', timer: 'kill', atMs: T },
      'stopping',
      [{ type: 'kill', signal: 'SIGKILL' }],
    ],
    ['ready', { type: 'timerFired', timer: 'kill', atMs: T }, 'ready', []],
    ['starting', { type: 'stopRequested', atMs: T }, 'stopping', TERM],
    ['ready', { type: 'stopRequested', atMs: T }, 'stopping', TERM],
    ['degraded', { type: 'stopRequested', atMs: T }, 'stopping', TERM],
    [
      'backoff',
      { type: 'stopRequested', atMs: T },
      'stopped',
      [{ type: 'cancelTimer', timer: 'restart' }],
    ],
    ['stopped', { type: 'stopRequested', atMs: T }, 'stopped', []],
    ['errored', { type: 'stopRequested', atMs: T }, 'errored', []],
    ['stopping', exited(), 'stopped', EXIT_CANCELS],
    [
      'starting',
      exited(),
      'backoff',
      [...EXIT_CANCELS, { type: 'startTimer', timer: 'restart', delayMs: 100 }],
    ],
    [
      'ready',
      exited(),
      'backoff',
      [...EXIT_CANCELS, { type: 'startTimer', timer: 'restart', delayMs: 100 }],
    ],
    [
      'degraded',
      exited(),
      'backoff',
      [...EXIT_CANCELS, { type: 'startTimer', timer: 'restart', delayMs: 100 }],
    ],
    ['stopped', exited(), 'stopped', []],
    ['backoff', exited(), 'backoff', []],
    ['ready', { type: 'restartRequested', atMs: T }, 'stopping', TERM],
    ['stopped', { type: 'restartRequested', atMs: T }, 'starting', [SPAWN]],
  ])('%s + %o -> %s', (from, event, to, effects) => {
    const { machine, effects: got } = reduceWorker(inState(from), event, policy);
    expect(machine.status.state).toBe(to);
    expect(got).toEqual(effects);
  });
});

describe('reduceWorker: details', () => {
  it('records pid and start time on spawn and the ready time on the first good probe', () => {
    let m = reduceWorker(initialWorkerMachine('w'), { type: 'start', atMs: 1 }, policy).machine;
    m = reduceWorker(m, { type: 'spawned', pid: 99, atMs: 5 }, policy).machine;
    expect(m.status).toMatchObject({ state: 'starting', pid: 99, startedAtMs: 5, readyAtMs: null });
    m = reduceWorker(m, { type: 'probeOk', atMs: 50 }, policy).machine;
    expect(m.status).toMatchObject({ state: 'ready', readyAtMs: 50 });
  });

  it('turns ready into degraded only after degradedAfterFailures failed probes in a row', () => {
    let m = inState('ready');
    m = reduceWorker(m, { type: 'probeFailed', message: 'HTTP 503', atMs: 1 }, policy).machine;
    expect(m.status.state).toBe('ready');
    m = reduceWorker(m, { type: 'probeFailed', message: 'HTTP 503', atMs: 2 }, policy).machine;
    expect(m.status.state).toBe('degraded');
    expect(m.status.message).toContain('HTTP 503');
  });

  it('keeps the crash reason and schedules the restart with exponential backoff up to the cap', () => {
    let m = inState('ready');
    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = reduceWorker(
        m,
        { type: 'exited', code: 134, signal: null, stderrTail: ['CUDA error'], atMs: 150 },
        policy,
      );
      m = t.machine;
      expect(m.status.state).toBe('backoff');
      expect(m.status.lastExit).toEqual({
        code: 134,
        signal: null,
        stderrTail: ['CUDA error'],
        atMs: 150,
        reason: i === 0 ? 'exited unexpectedly' : 'exited while starting',
      });
      const timer = t.effects.find((e) => e.type === 'startTimer');
      delays.push(timer && timer.type === 'startTimer' ? timer.delayMs : -1);
      expect(m.status.nextRestartAtMs).toBe(150 + (delays[i] ?? 0));
      m = reduceWorker(m, { type: 'timerFired', timer: 'restart', atMs: 400 }, policy).machine;
      expect(m.status).toMatchObject({ state: 'starting', restarts: i + 1 });
    }
    expect(delays).toEqual([100, 200]);
    const last = reduceWorker(m, exited(500), policy).machine;
    expect(last.status.state).toBe('errored');
    expect(last.status.message).toContain('3 crashes');
    expect(last.status.lastExit?.stderrTail).toEqual(['boom']);
  });

  it('resets the crash count after a run that stayed ready for minUptimeMs', () => {
    const m = inState('ready', { crashCount: 2 });
    const t = reduceWorker(m, exited(100 + 600), policy);
    expect(t.machine.status.state).toBe('backoff');
    expect(t.machine.crashCount).toBe(1);
  });

  it('a manual start after errored clears the crash count', () => {
    const m = reduceWorker(
      inState('errored', { crashCount: 3 }),
      { type: 'start', atMs: 1 },
      policy,
    ).machine;
    expect(m.crashCount).toBe(0);
  });

  it('ready timeout: SIGTERM, then the exit counts as a crash with the timeout as the reason', () => {
    let m = reduceWorker(
      inState('starting'),
      { type: 'timerFired', timer: 'readyTimeout', atMs: 1000 },
      policy,
    ).machine;
    m = reduceWorker(
      m,
      { type: 'exited', code: null, signal: 'SIGTERM', stderrTail: [], atMs: 1010 },
      policy,
    ).machine;
    expect(m.status.state).toBe('backoff');
    expect(m.status.lastExit?.reason).toMatch(/ready timeout/);
    expect(m.status.lastExit?.signal).toBe('SIGTERM');
  });

  it('stop escalates to SIGKILL and says so in the exit reason', () => {
    let m = reduceWorker(inState('ready'), { type: 'stopRequested', atMs: 1 }, policy).machine;
    m = reduceWorker(m, { type: 'timerFired', timer: 'kill', atMs: 60 }, policy).machine;
    m = reduceWorker(
      m,
      { type: 'exited', code: null, signal: 'SIGKILL', stderrTail: [], atMs: 61 },
      policy,
    ).machine;
    expect(m.status).toMatchObject({ state: 'stopped', pid: null });
    expect(m.status.lastExit?.reason).toBe('stopped by the console (SIGKILL after 50 ms)');
  });

  it('a stop during a ready-timeout stop turns the pending crash into a plain stop', () => {
    let m = reduceWorker(
      inState('starting'),
      { type: 'timerFired', timer: 'readyTimeout', atMs: 1 },
      policy,
    ).machine;
    m = reduceWorker(m, { type: 'stopRequested', atMs: 2 }, policy).machine;
    m = reduceWorker(m, exited(3), policy).machine;
    expect(m.status.state).toBe('stopped');
  });

  it('restart of a running worker: stop, then spawn on exit', () => {
    let m = reduceWorker(inState('ready'), { type: 'restartRequested', atMs: 1 }, policy).machine;
    const t = reduceWorker(
      m,
      { type: 'exited', code: 0, signal: null, stderrTail: [], atMs: 2 },
      policy,
    );
    m = t.machine;
    expect(m.status.state).toBe('starting');
    expect(t.effects).toContainEqual({ type: 'spawn' });
  });

  it('start while stopping restarts once the process is gone', () => {
    let m = reduceWorker(inState('ready'), { type: 'stopRequested', atMs: 1 }, policy).machine;
    m = reduceWorker(m, { type: 'start', atMs: 2 }, policy).machine;
    expect(reduceWorker(m, exited(3), policy).machine.status.state).toBe('starting');
  });

  it('keeps progress only while starting', () => {
    const progress = { message: 'Loading weights 2/4', fraction: 0.5, atMs: 3 };
    expect(
      reduceWorker(inState('starting'), { type: 'progress', progress }, policy).machine.status
        .progress,
    ).toEqual(progress);
    expect(
      reduceWorker(inState('ready'), { type: 'progress', progress }, policy).machine.status
        .progress,
    ).toBeNull();
  });
});

describe('parseProgressLine', () => {
  it.each<[string, string | null, number | null]>([
    [
      'Loading safetensors weights in parallel:  50%|█████     | 2/4 [00:03<00:03,  1.5s/it]',
      'Loading safetensors weights in parallel 2/4',
      0.5,
    ],
    [
      '\u001b[32m[11/24/2026-21:55:43] [TRT-LLM] [I] Loading weights: 100%|##########| 4/4',
      'Loading weights 4/4',
      1,
    ],
    ['[TensorRT-LLM][INFO] Loading weights: 75%', 'Loading weights', 0.75],
    ['  7%|▋         | 1/14 [00:00<00:01]', 'Loading 1/14', 0.07],
    [
      '[TRT-LLM] [I] Loading model weights from /models/llama',
      'Loading model weights from /models/llama',
      null,
    ],
    [
      'INFO:     Uvicorn running on http://localhost:8001 (Press CTRL+C to quit)',
      'INFO:     Uvicorn running on http://localhost:8001 (Press CTRL+C to quit)',
      null,
    ],
    ['some unrelated line', null, null],
    ['', null, null],
  ])('%j', (line, message, fraction) => {
    const p = parseProgressLine(line, 7);
    if (message === null) {
      expect(p).toBeNull();
    } else {
      expect(p).toEqual({ message, fraction, atMs: 7 });
    }
  });
});
