// `disagg-console serve --demo` as a real process: prints the console URL with its token and the proxy URL on
// their own lines, requires the token (401 without), serves a page that says how to build the UI when it is not
// built, answers a completion through the proxy, and on SIGTERM exits 0 leaving no child behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { isProcessAlive } from '../../../../electron/core/supervisor/pid-file';
import type { WorkerView } from '../../../../shared/model/worker-view';
import { CLI, complete, randomFirstWorkerPort } from './backend-kit';

let child: ChildProcess | undefined;
let dataDir = '';
const strays: number[] = [];

afterEach(() => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
  }
  child = undefined;
  for (const pid of strays.splice(0)) if (isProcessAlive(pid)) process.kill(-pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function startServe(extra: string[]): {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
} {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--proxy-port',
      '0',
      '--first-worker-port',
      String(randomFirstWorkerPort()),
      '--data-dir',
      dataDir,
      ...extra,
    ],
    {
      env: { ...process.env, DISAGG_SIM_ZERO_DELAY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exited };
}

async function workersOf(out: string): Promise<WorkerView[]> {
  const [, base, token] = /^Console: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]+)$/m.exec(
    out,
  ) as RegExpExecArray;
  const res = await fetch(`${base}/api/workers:list`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { value: WorkerView[] }).value;
}

function waitForLines(proc: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; output:\n${out}`)),
      timeoutMs,
    );
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}

describe('disagg-console serve', () => {
  it('prints both URLs, requires the token, runs the demo, and leaves no child after SIGTERM', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-serve-'));
    child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--demo',
        '--port',
        '0',
        '--proxy-port',
        '0',
        '--first-worker-port',
        String(randomFirstWorkerPort()),
        '--data-dir',
        dataDir,
        '--static',
        join(dataDir, 'no-such-build'),
      ],
      {
        env: { ...process.env, DISAGG_SIM_ZERO_DELAY: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child?.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const out = await waitForLines(child, /^Proxy: .+$/m, 30_000);
    const consoleUrl = /^Console: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]+)$/m.exec(
      out,
    );
    const proxyUrl = /^Proxy: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
    expect(consoleUrl).not.toBeNull();
    expect(proxyUrl).toBeDefined();
    const [, base, token] = consoleUrl as RegExpExecArray;

    expect((await fetch(`${base}/api/workers:list`, { method: 'POST' })).status).toBe(401);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain('npm run build:renderer');

    const list = async (): Promise<WorkerView[]> => {
      const res = await fetch(`${base}/api/workers:list`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { value: WorkerView[] }).value;
    };
    await expect
      .poll(async () => (await list()).map((w) => `${w.id}:${w.status.state}`).sort(), {
        timeout: 20_000,
        interval: 100,
      })
      .toEqual(['ctx0:ready', 'gen0:ready']);
    const pids = (await list()).map((w) => w.status.pid as number);
    expect((await complete(proxyUrl as string)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
  }, 60_000);

  it('after a crash, the next start stops the workers left behind (--stop-leftovers) and runs the last topology again', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-serve-'));
    const first = startServe(['--demo']);
    child = first.proc;
    const out1 = await waitForLines(first.proc, /^Proxy: .+$/m, 30_000);
    await expect
      .poll(async () => (await workersOf(out1)).filter((w) => w.status.state === 'ready').length, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(2);
    const leftPids = (await workersOf(out1)).map((w) => w.status.pid as number);
    strays.push(...leftPids);
    first.proc.kill('SIGKILL');
    await first.exited;
    for (const pid of leftPids) expect(isProcessAlive(pid)).toBe(true);

    const second = startServe(['--stop-leftovers']);
    child = second.proc;
    const out2 = await waitForLines(second.proc, /^Proxy: .+$/m, 40_000);
    for (const pid of leftPids) expect(isProcessAlive(pid)).toBe(false);
    await expect
      .poll(async () => (await workersOf(out2)).map((w) => `${w.id}:${w.status.state}`).sort(), {
        timeout: 20_000,
        interval: 100,
      })
      .toEqual(['ctx0:ready', 'gen0:ready']);
    const pids = (await workersOf(out2)).map((w) => w.status.pid as number);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
  }, 90_000);
});
