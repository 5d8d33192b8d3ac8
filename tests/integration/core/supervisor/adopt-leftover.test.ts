// A console that crashed left a worker running; the next console finds it in the pid file and adopts it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogStore, type LogStore } from '../../../../electron/core/supervisor/log-store';
import {
  createPidFile,
  isProcessAlive,
  readLeftovers,
} from '../../../../electron/core/supervisor/pid-file';
import {
  createWorkerSupervisor,
  type WorkerSupervisor,
} from '../../../../electron/core/supervisor/worker-supervisor';
import type { WorkerSpec } from '../../../../shared/model/worker';
import { getFreePort } from '../../../helpers/free-port';
import { workerSpec } from '../../../helpers/worker-spec';

const FAKE = resolve(__dirname, '../../../fixtures/fake-trtllm-serve/trtllm-serve');
let dir: string;
let logs: LogStore;
let sup: WorkerSupervisor;
let leftover: ChildProcess | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-adopt-'));
  logs = createLogStore({ dir: null });
  sup = createWorkerSupervisor({
    logStore: logs,
    policy: { probeIntervalMs: 100, killTimeoutMs: 3000, maxRestarts: 0 },
    commandOptions: {
      baseEnv: process.env,
      nodeBinary: process.execPath,
      cliScript: FAKE,
      trtllmServeBinary: FAKE,
    },
  });
});

afterEach(async () => {
  await sup.dispose();
  if (leftover?.pid !== undefined && isProcessAlive(leftover.pid)) {
    process.kill(leftover.pid, 'SIGKILL');
  }
  logs.close();
  rmSync(dir, { recursive: true, force: true });
});

const LEFTOVER_ARGS = (port: number): string[] => [
  'm',
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
];

async function leaveWorkerBehind(port: number): Promise<number> {
  // What the crashed console had started: a worker in its own process group.
  leftover = spawn(FAKE, LEFTOVER_ARGS(port), { detached: true, stdio: 'ignore' });
  await new Promise((r) => leftover?.once('spawn', r));
  const pid = leftover.pid ?? -1;
  createPidFile(join(dir, 'console.pid.json')).update([
    { id: 'ctx0', pid, host: '127.0.0.1', port, command: [FAKE, ...LEFTOVER_ARGS(port)] },
  ]);
  return pid;
}

const specFor = (port: number): WorkerSpec => workerSpec({ port });

describe('adopting a leftover worker', () => {
  it('supervises the running process (ready on /health) and stops it', async () => {
    const port = await getFreePort();
    const pid = await leaveWorkerBehind(port);
    const left = readLeftovers(join(dir, 'console.pid.json'));
    const entry = left?.workers[0];
    expect(entry?.state).toBe('running');
    if (!entry) throw new Error('no leftover');
    const st = await sup.adopt(specFor(port), entry);
    expect(st.pid).toBe(pid);
    await sup.waitFor('ctx0', ['ready'], 10_000);
    expect(logs.search('ctx0', { text: 'adopted running process' })).toHaveLength(1);
    const stopped = await sup.stop('ctx0');
    expect(stopped.state).toBe('stopped');
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('notices when the adopted process dies', async () => {
    const port = await getFreePort();
    const pid = await leaveWorkerBehind(port);
    const entry = readLeftovers(join(dir, 'console.pid.json'))?.workers[0];
    if (!entry) throw new Error('no leftover');
    await sup.adopt(specFor(port), entry);
    process.kill(pid, 'SIGKILL');
    const st = await sup.waitFor('ctx0', ['errored'], 10_000);
    expect(st.lastExit?.reason).toBe('exited while starting');
  });

  it('refuses a pid that is no longer the recorded process', async () => {
    const port = await getFreePort();
    const pid = await leaveWorkerBehind(port);
    const entry = readLeftovers(join(dir, 'console.pid.json'))?.workers[0];
    if (!entry?.worker.identity) throw new Error('no leftover');
    const reused = {
      ...entry,
      worker: { ...entry.worker, identity: { ...entry.worker.identity, startTime: '1' } },
    };
    await expect(sup.adopt(specFor(port), reused)).rejects.toMatchObject({
      code: 'WORKER_START_FAILED',
    });
    expect(isProcessAlive(pid)).toBe(true);
  });
});
