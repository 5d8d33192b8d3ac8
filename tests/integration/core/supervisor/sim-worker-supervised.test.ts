// The supervisor running the built-in simulated worker (`node bin/disagg-console.mjs sim-worker ...`), the
// same way the console runs it on a machine without GPUs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogStore, type LogStore } from '../../../../electron/core/supervisor/log-store';
import { isProcessAlive } from '../../../../electron/core/supervisor/pid-file';
import {
  createWorkerSupervisor,
  type WorkerSupervisor,
} from '../../../../electron/core/supervisor/worker-supervisor';
import type { WorkerSpec, WorkerStatus } from '../../../../shared/model/worker';
import { getFreePort } from '../../../helpers/free-port';
import { workerSpec } from '../../../helpers/worker-spec';

const CLI = resolve(__dirname, '../../../../bin/disagg-console.mjs');

let dir: string;
let logs: LogStore;
let sup: WorkerSupervisor;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-simsup-'));
  logs = createLogStore({ dir: join(dir, 'logs') });
  sup = createWorkerSupervisor({
    logStore: logs,
    policy: { readyTimeoutMs: 20_000, probeIntervalMs: 100, killTimeoutMs: 5000 },
    commandOptions: { baseEnv: process.env, nodeBinary: process.execPath, cliScript: CLI },
  });
});

afterEach(async () => {
  await sup.dispose();
  logs.close();
  rmSync(dir, { recursive: true, force: true });
});

const spec = async (over: Partial<WorkerSpec>): Promise<WorkerSpec> =>
  workerSpec({
    id: 'gen0',
    role: 'generation',
    port: await getFreePort(),
    model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
    engine: 'simulated',
    ...over,
  });

describe('supervised simulated worker', () => {
  it('starts pinned to its GPUs, shows loading progress, serves, and stops on SIGTERM', async () => {
    const seen: WorkerStatus[] = [];
    sup.onDidChangeStatus((s) => seen.push(s));
    const sp = await spec({ gpus: [1, 2], tpSize: 2 });
    sup.add(sp);
    const { pid } = await sup.start('gen0');
    await sup.waitFor('gen0', ['ready'], 20_000);
    expect(
      logs.search('gen0', { text: '(CUDA_VISIBLE_DEVICES=1,2)' }).length,
    ).toBeGreaterThanOrEqual(1);
    expect(seen.some((s) => s.state === 'starting' && s.progress?.fraction === 1)).toBe(true);
    const models = (await (await fetch(`http://127.0.0.1:${sp.port}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data[0]?.id).toBe('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
    const st = await sup.stop('gen0');
    expect(st.state).toBe('stopped');
    expect(st.lastExit?.signal ?? 'none').not.toBe('SIGKILL');
    expect(isProcessAlive(pid ?? -1)).toBe(false);
  });

  it('restarts a simulated worker killed from outside, with the crash kept', async () => {
    sup.add(await spec({}));
    const { pid } = await sup.start('gen0');
    await sup.waitFor('gen0', ['ready'], 20_000);
    process.kill(pid ?? -1, 'SIGKILL');
    const back = await sup.waitFor('gen0', (s) => s.state === 'ready' && s.restarts === 1, 20_000);
    expect(back.lastExit).toMatchObject({ signal: 'SIGKILL', reason: 'exited unexpectedly' });
    expect(back.pid).not.toBe(pid);
  });
});
