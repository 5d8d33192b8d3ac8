// Supervisor with real child processes: the fake trtllm-serve found on PATH, real signals, real sockets.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogStore, type LogStore } from '../../../../electron/core/supervisor/log-store';
import { isProcessAlive, readLeftovers } from '../../../../electron/core/supervisor/pid-file';
import { createPidFile } from '../../../../electron/core/supervisor/pid-file';
import {
  createWorkerSupervisor,
  type WorkerSupervisor,
} from '../../../../electron/core/supervisor/worker-supervisor';
import type { RestartPolicy } from '../../../../shared/logic/restart-policy';
import type { WorkerSpec, WorkerStatus } from '../../../../shared/model/worker';
import { getFreePort } from '../../../helpers/free-port';
import { workerSpec } from '../../../helpers/worker-spec';

const FAKE_BIN = resolve(__dirname, '../../../fixtures/fake-trtllm-serve');
const FAST: Partial<RestartPolicy> = {
  readyTimeoutMs: 10_000,
  probeIntervalMs: 100,
  probeTimeoutMs: 1000,
  killTimeoutMs: 3000,
  backoffBaseMs: 200,
  backoffMaxMs: 400,
  maxRestarts: 2,
  minUptimeMs: 60_000,
};

let dir: string;
let logs: LogStore;
let sup: WorkerSupervisor | null;
const strays: number[] = [];
const servers: Server[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-sup-'));
  logs = createLogStore({ dir: join(dir, 'logs') });
  sup = null;
});

afterEach(async () => {
  await sup?.dispose();
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const s of servers.splice(0)) s.close();
  logs.close();
  rmSync(dir, { recursive: true, force: true });
});

function make(policy: Partial<RestartPolicy> = {}, withPidFile = false): WorkerSupervisor {
  sup = createWorkerSupervisor({
    logStore: logs,
    policy: { ...FAST, ...policy },
    pidFile: withPidFile ? createPidFile(join(dir, 'console.pid.json')) : null,
    commandOptions: {
      // The fake binary is found on the child's PATH, as the real one would be.
      baseEnv: { ...process.env, PATH: `${FAKE_BIN}:${process.env.PATH ?? ''}` },
      nodeBinary: process.execPath,
      cliScript: join(FAKE_BIN, 'trtllm-serve'),
    },
  });
  return sup;
}

async function spec(
  over: Partial<WorkerSpec> = {},
  env: Record<string, string> = {},
): Promise<WorkerSpec> {
  return workerSpec({
    port: await getFreePort(),
    model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
    optionsFile: join(dir, 'ctx0.yaml'),
    extraEnv: { FAKE_TRTLLM_RECORD: join(dir, 'record.json'), ...env },
    ...over,
  });
}

const waitUntil = async (check: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('worker supervisor with real processes', () => {
  it('starts the fake trtllm-serve from PATH with the exact argv and env, reports progress, becomes ready on /health', async () => {
    const s = make();
    const seen: WorkerStatus[] = [];
    s.onDidChangeStatus((st) => seen.push(st));
    const sp = await spec(
      {
        gpus: [2, 3],
        tpSize: 2,
        registration: { kind: 'disagg_cluster', clusterUri: 'http://localhost:18000' },
      },
      { FAKE_TRTLLM_READY_DELAY_MS: '400', UCX_TLS: '^ib' },
    );
    s.add(sp);
    const started = await s.start('ctx0');
    expect(started.state).toBe('starting');
    expect(started.pid).toBeGreaterThan(0);
    const ready = await s.waitFor('ctx0', ['ready'], 15_000);
    expect(ready.readyAtMs).toBeGreaterThanOrEqual(ready.startedAtMs ?? Infinity);

    const record = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as {
      argv: string[];
      env: Record<string, string>;
      pid: number;
    };
    expect(record.pid).toBe(started.pid);
    expect(record.argv).toEqual([
      'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
      '--host',
      '127.0.0.1',
      '--port',
      String(sp.port),
      '--backend',
      'pytorch',
      '--tp_size',
      '2',
      '--pp_size',
      '1',
      '--extra_llm_api_options',
      join(dir, 'ctx0.yaml'),
      '--server_role',
      'CONTEXT',
      '--disagg_cluster_uri',
      'http://localhost:18000',
    ]);
    expect(record.env.CUDA_VISIBLE_DEVICES).toBe('2,3');
    expect(record.env.UCX_TLS).toBe('^ib');
    expect(record.env.HOME).toBe(process.env.HOME);

    const progress = seen
      .filter((st) => st.state === 'starting' && st.progress !== null)
      .map((st) => st.progress?.fraction);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress).toContain(1);
    expect(s.status('ctx0').progress).toBeNull();
    expect(logs.search('ctx0', { text: 'Uvicorn running' })).toHaveLength(1);

    const stopped = await s.stop('ctx0');
    expect(stopped.state).toBe('stopped');
    expect(stopped.lastExit).toMatchObject({ code: 0, reason: 'stopped by the console' });
    expect(isProcessAlive(record.pid)).toBe(false);
  });

  it('runs engine "simulated" through node with the same flags', async () => {
    const s = make();
    s.add(await spec({ engine: 'simulated' }));
    await s.start('ctx0');
    await s.waitFor('ctx0', ['ready'], 15_000);
    const record = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as { argv: string[] };
    expect(record.argv.slice(0, 4)).toEqual([
      'sim-worker',
      'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
      '--host',
      '127.0.0.1',
    ]);
  });

  it('health never answers: ready timeout, SIGTERM, then errored with the reason kept', async () => {
    const s = make({ readyTimeoutMs: 700, maxRestarts: 0 });
    s.add(await spec({}, { FAKE_TRTLLM_NEVER_READY: '1' }));
    await s.start('ctx0');
    const st = await s.waitFor('ctx0', ['errored'], 15_000);
    expect(st.lastExit?.reason).toMatch(/ready timeout: \/health did not answer 200 within 700 ms/);
    // Exit 0 from its SIGTERM handler, or killed by SIGTERM if it had not installed one yet (slow box).
    expect(st.lastExit?.code === 0 || st.lastExit?.signal === 'SIGTERM').toBe(true);
    expect(st.pid).toBeNull();
  });

  it('health never answers with restarts allowed: goes to backoff', async () => {
    const s = make({ readyTimeoutMs: 500, maxRestarts: 3, backoffBaseMs: 5000 });
    s.add(await spec({}, { FAKE_TRTLLM_NEVER_READY: '1' }));
    await s.start('ctx0');
    const st = await s.waitFor('ctx0', ['backoff'], 15_000);
    expect(st.nextRestartAtMs).not.toBeNull();
    expect(st.lastExit?.reason).toMatch(/ready timeout/);
  });

  it('crash: restarted with exponential backoff, crash reason kept, gives up after maxRestarts', async () => {
    const s = make({ maxRestarts: 2, backoffBaseMs: 200 });
    const statuses: WorkerStatus[] = [];
    s.onDidChangeStatus((st) => statuses.push(st));
    s.add(
      await spec(
        {},
        {
          FAKE_TRTLLM_CRASH_AFTER_MS: '150',
          FAKE_TRTLLM_EXIT_CODE: '3',
          FAKE_TRTLLM_READY_DELAY_MS: '2000',
        },
      ),
    );
    await s.start('ctx0');
    const st = await s.waitFor('ctx0', ['errored'], 20_000);
    expect(st.restarts).toBe(2);
    expect(st.lastExit?.code).toBe(3);
    expect(st.lastExit?.signal).toBeNull();
    // stdout and stderr share the log file (so output outlives the console): the run's last output lines.
    expect(st.lastExit?.stderrTail.slice(-2)).toEqual([
      'Traceback (most recent call last):',
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
    ]);
    expect(st.lastExit?.stderrTail.some((l) => l.startsWith('[disagg-console]'))).toBe(false);
    const backoffs = statuses.filter((x) => x.state === 'backoff');
    expect(backoffs.map((b) => (b.nextRestartAtMs ?? 0) - (b.lastExit?.atMs ?? 0))).toEqual([
      200, 400,
    ]);
    expect(st.message).toContain('3 crashes');
  });

  it('stop: SIGTERM, then SIGKILL after killTimeoutMs for a process that ignores SIGTERM', async () => {
    const s = make({ killTimeoutMs: 600 });
    s.add(await spec({}, { FAKE_TRTLLM_IGNORE_SIGTERM: '1' }));
    const { pid } = await s.start('ctx0');
    await s.waitFor('ctx0', ['ready'], 15_000);
    const t0 = Date.now();
    const st = await s.stop('ctx0');
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(st.state).toBe('stopped');
    expect(st.lastExit?.signal).toBe('SIGKILL');
    expect(st.lastExit?.reason).toBe('stopped by the console (SIGKILL after 600 ms)');
    expect(logs.search('ctx0', { text: 'ignoring SIGTERM' }).length).toBeGreaterThanOrEqual(1);
    expect(isProcessAlive(pid ?? -1)).toBe(false);
  });

  it('stop kills the whole process tree, including a grandchild that ignores SIGTERM', async () => {
    const s = make({ killTimeoutMs: 3000 });
    const childPidFile = join(dir, 'child.pid');
    s.add(await spec({}, { FAKE_TRTLLM_CHILD_PID_FILE: childPidFile }));
    await s.start('ctx0');
    await s.waitFor('ctx0', ['ready'], 15_000);
    const grandchild = Number(readFileSync(childPidFile, 'utf8'));
    strays.push(grandchild);
    expect(isProcessAlive(grandchild)).toBe(true);
    await s.stop('ctx0');
    await waitUntil(() => !isProcessAlive(grandchild), 5000);
  });

  it('detects a port conflict before starting, with PORT_IN_USE and no process spawned', async () => {
    const s = make();
    const server = createServer();
    servers.push(server);
    const port = await new Promise<number>((res) =>
      server.listen(0, '127.0.0.1', () => res((server.address() as { port: number }).port)),
    );
    s.add(await spec({ port }));
    await expect(s.start('ctx0')).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      message: expect.stringContaining(String(port)) as string,
    });
    expect(s.status('ctx0').state).toBe('stopped');
    expect(existsSync(join(dir, 'record.json'))).toBe(false);
  });

  it('refuses a second worker on a port another worker holds', async () => {
    const s = make();
    const sp = await spec();
    s.add(sp);
    expect(() => s.add({ ...sp, id: 'gen0' })).toThrow(
      expect.objectContaining({ code: 'PORT_IN_USE' }) as Error,
    );
  });

  it('a binary that does not exist: errored with a clear message, no restart loop', async () => {
    const s = make();
    s.add(await spec({ binaryPath: join(dir, 'no-such-trtllm-serve') }));
    const st = await s.start('ctx0');
    expect(st.state).toBe('errored');
    expect(st.message).toMatch(/not found/);
  });

  it('writes a pid file while workers run and removes it on dispose, which stops every worker', async () => {
    const s = make({}, true);
    s.add(await spec());
    s.add(
      await spec({ id: 'gen0', role: 'generation' }, { FAKE_TRTLLM_RECORD: join(dir, 'gen.json') }),
    );
    await Promise.all([s.start('ctx0'), s.start('gen0')]);
    const left = readLeftovers(join(dir, 'console.pid.json'));
    expect(left?.consoleAlive).toBe(false);
    expect(left?.workers.map((w) => [w.worker.id, w.state]).sort()).toEqual([
      ['ctx0', 'running'],
      ['gen0', 'running'],
    ]);
    const pids = Object.values(s.runningPids());
    expect(pids).toHaveLength(2);
    await s.dispose();
    sup = null;
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(join(dir, 'console.pid.json'))).toBe(false);
  });
});
