// Helpers for the lifecycle tests: `disagg-console serve` as a real child process on a temp data dir, its API
// called with the token it prints, and a /proc scan for every process that belongs to a data dir (each worker's
// command line names its options file inside the data dir). Layer: tests (node, Linux /proc).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { isProcessAlive } from '../../../electron/core/supervisor/pid-file';
import type { WorkerView } from '../../../shared/model/worker-view';

export const CLI = resolve(import.meta.dirname, '../../../bin/disagg-console.mjs');

export interface Serve {
  proc: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stdout(): string;
  stderr(): string;
}

/** Starts `serve` on dataDir with zero-delay simulated workers; extra flags are appended. */
export function startServe(dataDir: string, extra: readonly string[] = []): Serve {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--proxy-port',
      '0',
      '--data-dir',
      dataDir,
      '--static',
      join(dataDir, 'no-such-build'),
      ...extra,
    ],
    {
      env: { ...process.env, DISAGG_SIM_ZERO_DELAY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  return { proc, pid: proc.pid ?? -1, exited, stdout: () => out, stderr: () => err };
}

/** Resolves once pred(stdout) holds; rejects after timeoutMs or when the process exits first. */
export async function waitForOutput(
  s: Serve,
  pred: (out: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let isExited = false;
  void s.exited.then(() => (isExited = true));
  while (!pred(s.stdout())) {
    if (isExited) {
      throw new Error(
        `serve exited before the expected output; stdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `no expected output within ${timeoutMs} ms; stdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return s.stdout();
}

/** Waits for the three URL lines and returns the console's base URL and token. */
export async function consoleOf(
  s: Serve,
  timeoutMs = 60_000,
): Promise<{ base: string; token: string; consoleUrl: string }> {
  const out = await waitForOutput(s, (o) => /^Proxy: .+$/m.test(o), timeoutMs);
  const m = /^Console: ((http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]+))$/m.exec(out);
  if (!m) throw new Error(`no Console line in:\n${out}`);
  return { consoleUrl: m[1] as string, base: m[2] as string, token: m[3] as string };
}

/** Calls one API channel; throws with the error envelope when it fails. */
export async function call<T>(
  c: { base: string; token: string },
  channel: string,
  args: unknown[] = [],
  timeoutMs = 30_000,
): Promise<T> {
  const res = await fetch(`${c.base}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const env = (await res.json()) as {
    ok: boolean;
    value?: T;
    error?: { code: string; message: string };
  };
  if (!env.ok) throw new Error(`${channel}: ${env.error?.code} ${env.error?.message}`);
  return env.value as T;
}

export const listWorkers = (c: { base: string; token: string }): Promise<WorkerView[]> =>
  call<WorkerView[]>(c, 'workers:list');

/** Live processes (not zombies) whose command line mentions dataDir, but not `serve` consoles themselves. */
export function workerProcessesOf(dataDir: string): { pid: number; cmdline: string[] }[] {
  const found: { pid: number; cmdline: string[] }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let cmdline: string[];
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== '');
    } catch {
      continue;
    }
    if (!cmdline.some((a) => a.startsWith(dataDir)) || cmdline.includes('serve')) continue;
    if (isProcessAlive(pid)) found.push({ pid, cmdline });
  }
  return found;
}

/** The `--port` argument of a worker command line. */
export function portArgOf(cmdline: readonly string[]): number | null {
  const i = cmdline.indexOf('--port');
  return i >= 0 && cmdline[i + 1] !== undefined ? Number(cmdline[i + 1]) : null;
}

/** SIGKILLs every process group of dataDir's workers (test clean-up after a failure). */
export function killWorkersOf(dataDir: string): void {
  for (const { pid } of workerProcessesOf(dataDir)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Test clean-up: SIGKILLs the console if it still runs, then every worker of dataDir; removes the dir. */
export async function discardServe(s: Serve | null, dataDir: string): Promise<void> {
  if (s && s.proc.exitCode === null && s.proc.signalCode === null) {
    s.proc.kill('SIGKILL');
    await s.exited;
  }
  killWorkersOf(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
}

/** Polls until check() returns without throwing; rethrows its last error after timeoutMs. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** A detached idle node process (a stand-in for a worker or a console) and its launch command. */
export async function startSleeper(): Promise<{
  pid: number;
  command: string[];
  stop: () => Promise<void>;
}> {
  const command = [
    process.execPath,
    '-e',
    "setInterval(() => {}, 1000); process.stdout.write('up');",
  ];
  const child = spawn(command[0] as string, command.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((r) => child.stdout.once('data', r));
  child.stdout.destroy();
  const exited = new Promise((r) => child.once('exit', r));
  return {
    pid: child.pid ?? -1,
    command,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
