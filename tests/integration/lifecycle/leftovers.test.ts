// Leftovers of a console that died, settled by the next one (real worker processes, fake trtllm-serve): the
// one that is exactly a worker of the topology is adopted, the others (other port, other GPUs, not in the
// topology) are stopped by pid, a pid that is alive but no longer the recorded process (other start time or
// command line) is never signalled, and the pid record is rewritten only with what was decided.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { settleLeftovers } from '../../../electron/core/lifecycle/leftovers';
import { createLogStore, type LogStore } from '../../../electron/core/supervisor/log-store';
import {
  createPidFile,
  isProcessAlive,
  type PidFile,
  type PidFileRecord,
  readProcessIdentity,
} from '../../../electron/core/supervisor/pid-file';
import {
  createWorkerSupervisor,
  type WorkerSupervisor,
} from '../../../electron/core/supervisor/worker-supervisor';
import type { WorkerSpec } from '../../../shared/model/worker';
import { getFreePort } from '../../helpers/free-port';
import { workerSpec } from '../../helpers/worker-spec';
import { startSleeper } from './serve-kit';

const FAKE = resolve(import.meta.dirname, '../../fixtures/fake-trtllm-serve/trtllm-serve');
let dir = '';
let logs: LogStore;
const supervisors: WorkerSupervisor[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-leftovers-'));
  logs = createLogStore({ dir: null });
});
afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.dispose();
  for (const c of cleanups.splice(0)) await c();
  logs.close();
  rmSync(dir, { recursive: true, force: true });
});

const pidPath = (): string => join(dir, 'console.pid');

function supervisor(pidFile: PidFile = createPidFile(pidPath())): WorkerSupervisor {
  const sup = createWorkerSupervisor({
    ownerTag: dir,
    logStore: logs,
    policy: { probeIntervalMs: 100, killTimeoutMs: 3000, maxRestarts: 0 },
    commandOptions: {
      baseEnv: process.env,
      nodeBinary: process.execPath,
      cliScript: FAKE,
      trtllmServeBinary: FAKE,
    },
    pidFile,
  });
  supervisors.push(sup);
  return sup;
}

/** What a console that is then killed leaves: its workers running, its pid record on disk. */
async function leaveRunning(specs: WorkerSpec[]): Promise<Record<string, number>> {
  // The "crashed" console: never disposed, and silent once it has "died" (its supervisor object lives on in
  // this test process and would otherwise rewrite the record when its children exit).
  const real = createPidFile(pidPath());
  let isDead = false;
  const dead = supervisor({
    path: real.path,
    update: (w) => !isDead && real.update(w),
    remove: () => undefined,
  });
  supervisors.pop();
  for (const spec of specs) {
    dead.add(spec);
    await dead.start(spec.id);
    await dead.waitFor(spec.id, ['ready'], 15_000);
  }
  const pids = dead.runningPids();
  isDead = true;
  cleanups.push(async () => {
    for (const pid of Object.values(pids)) if (isProcessAlive(pid)) process.kill(-pid, 'SIGKILL');
    await Promise.resolve();
  });
  return pids;
}

const recordedIds = (): string[] =>
  (JSON.parse(readFileSync(pidPath(), 'utf8')) as PidFileRecord).workers.map((w) => w.id).sort();

describe('settling the leftovers of a crashed console', () => {
  it('adopts the exact match and stops the rest by pid; the record then lists only the adopted', async () => {
    const [a, b, c, d] = await Promise.all([
      getFreePort(),
      getFreePort(),
      getFreePort(),
      getFreePort(),
    ]);
    const ctx0 = workerSpec({ id: 'ctx0', port: a, gpus: [0] });
    const ctx1 = workerSpec({ id: 'ctx1', port: b, gpus: [1] });
    const gen0 = workerSpec({ id: 'gen0', role: 'generation', port: c, gpus: [2] });
    const gone = workerSpec({ id: 'old', port: d, gpus: [3] });
    const left = await leaveRunning([ctx0, ctx1, gen0, gone]);
    expect(recordedIds()).toEqual(['ctx0', 'ctx1', 'gen0', 'old']);

    const sup = supervisor();
    const said: string[] = [];
    // The topology being started: ctx0 as it runs, ctx1 on another port, gen0 on another GPU, no 'old'.
    const specs = [ctx0, { ...ctx1, port: d + 1 }, { ...gen0, gpus: [3] }];
    const decision = await settleLeftovers({
      pidPath: pidPath(),
      specs,
      supervisor: sup,
      mode: 'adopt',
      log: (_l, m) => said.push(m),
    });

    expect(decision.adopted).toEqual(['ctx0']);
    expect(decision.stopped.map((s) => s.id).sort()).toEqual(['ctx1', 'gen0', 'old']);
    for (const id of ['ctx1', 'gen0', 'old']) {
      expect(isProcessAlive(left[id] as number), id).toBe(false);
    }
    expect(said.join('\n')).toMatch(/stopping ctx1 .*runs on 127\.0\.0\.1:\d+/);
    expect(said.join('\n')).toMatch(/stopping gen0 .*GPUs '2', the topology wants '3'/);
    expect(said.join('\n')).toMatch(/stopping old .*no worker of that name/);
    expect(said.join('\n')).toMatch(/adopted ctx0 .*matches the topology/);

    const adopted = await sup.waitFor('ctx0', ['ready'], 15_000);
    expect(adopted.pid).toBe(left.ctx0);
    expect(logs.search('ctx0', { text: 'adopted running process' })).toHaveLength(1);
    expect(recordedIds()).toEqual(['ctx0']);

    // The adopted worker is stopped like any other: by its pid, and the record follows.
    expect((await sup.stop('ctx0')).state).toBe('stopped');
    expect(isProcessAlive(left.ctx0 as number)).toBe(false);
  });

  it('--stop-leftovers stops even the ones that match', async () => {
    const spec = workerSpec({ id: 'ctx0', port: await getFreePort() });
    const left = await leaveRunning([spec]);
    const sup = supervisor();
    const decision = await settleLeftovers({
      pidPath: pidPath(),
      specs: [spec],
      supervisor: sup,
      mode: 'stop',
      log: () => undefined,
    });
    expect(decision).toMatchObject({ adopted: [], stopped: [{ id: 'ctx0', result: 'stopped' }] });
    expect(isProcessAlive(left.ctx0 as number)).toBe(false);
    expect(sup.list()).toEqual([]);
    expect(recordedIds()).toEqual([]);
  });

  it('stops a worker of this data dir that the dead console started but never recorded (found by its owner mark)', async () => {
    const spec = workerSpec({ id: 'ctx0', port: await getFreePort() });
    const left = await leaveRunning([spec]);
    // The console died between the spawn and the record: the record on disk does not name the worker.
    writeFileSync(
      pidPath(),
      JSON.stringify({
        consolePid: 999_999_999,
        consoleIdentity: null,
        writtenAtMs: 1,
        workers: [],
      } satisfies PidFileRecord),
    );
    const said: string[] = [];
    const decision = await settleLeftovers({
      pidPath: pidPath(),
      ownerTag: dir,
      specs: [spec],
      supervisor: supervisor(),
      mode: 'adopt',
      log: (_l, m) => said.push(m),
    });
    expect(decision.stopped).toEqual([{ id: '(unrecorded)', pid: left.ctx0, result: 'stopped' }]);
    expect(isProcessAlive(left.ctx0 as number)).toBe(false);
    expect(said.join('\n')).toContain('had not recorded');
  });

  it('never signals a recorded pid that is alive but another process (start time or command line differ)', async () => {
    const reused = await startSleeper();
    const renamed = await startSleeper();
    cleanups.push(reused.stop, renamed.stop);
    const identity = (pid: number) => readProcessIdentity(pid);
    const record: PidFileRecord = {
      consolePid: 999_999_999,
      consoleIdentity: null,
      writtenAtMs: 1,
      workers: [
        {
          id: 'ctx0',
          pid: reused.pid,
          host: '127.0.0.1',
          port: 1,
          command: reused.command,
          identity: { cmdline: reused.command, startTime: '1' },
        },
        {
          id: 'gen0',
          pid: renamed.pid,
          host: '127.0.0.1',
          port: 2,
          command: [process.execPath, 'worker.js', '--port', '2'],
          identity: identity(renamed.pid),
        },
      ],
    };
    writeFileSync(pidPath(), JSON.stringify(record));
    const sup = supervisor();
    const specs = [
      workerSpec({ id: 'ctx0', port: 1 }),
      workerSpec({ id: 'gen0', role: 'generation', port: 2 }),
    ];
    const decision = await settleLeftovers({
      pidPath: pidPath(),
      specs,
      supervisor: sup,
      mode: 'stop',
      log: () => undefined,
    });
    expect(decision.untouched.map((u) => u.id).sort()).toEqual(['ctx0', 'gen0']);
    expect(decision.stopped).toEqual([]);
    expect(isProcessAlive(reused.pid)).toBe(true);
    expect(isProcessAlive(renamed.pid)).toBe(true);
    expect(recordedIds()).toEqual([]);
  });
});
