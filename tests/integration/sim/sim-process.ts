// Spawns `node bin/disagg-console.mjs sim-worker ...` as a real child process for the integration tests, waits
// for its "Uvicorn running on" line, and stops it by pid. Layer: tests (node).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { type CliRun, runCliToExit } from '../../helpers/run-cli';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin', 'disagg-console.mjs');
const READY_TIMEOUT_MS = 20_000;

export interface SimProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code / signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after graceMs. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** Writes a temp file (options YAML etc.) and returns its path. */
export function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sim-test-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs the command to its end (for startup failures); SIGTERM once stderr shows sigtermOnOutput when given, SIGKILL after timeoutMs. */
export function runToExit(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 20_000,
  sigtermOnOutput: string | null = null,
): Promise<CliRun> {
  return runCliToExit('sim-worker', args, {
    env: { DISAGG_SIM_LOAD_MS: '0', CUDA_VISIBLE_DEVICES: '0', ...env },
    timeoutMs,
    sigtermOnOutput,
  });
}

/** Starts a sim worker on 127.0.0.1 (port 0 unless given) and waits until it serves. */
export async function startSimWorker(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<SimProcess> {
  const hasPort = args.includes('--port');
  const fullArgs = [...args, '--host', '127.0.0.1', ...(hasPort ? [] : ['--port', '0'])];
  const child = spawn(process.execPath, [BIN, 'sim-worker', ...fullArgs], {
    cwd: ROOT,
    env: {
      ...process.env,
      DISAGG_SIM_LOAD_MS: '0',
      CUDA_VISIBLE_DEVICES: '0',
      DISAGG_SIM_METRICS_WAIT_MS: '300',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal }));
  });
  const port = await new Promise<number>((res, rej) => {
    // A sim that never gets ready is killed here: the caller gets no handle to stop it with.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`sim worker not ready within ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /Uvicorn running on http:\/\/[^:]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`sim worker exited early (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  let isStopped = false;
  const pid = child.pid ?? -1;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    child,
    output: () => output,
    exited,
    // The grace is a bound for a hung worker, not a speed check. A graceful stop may itself take up to
    // 8 s by design (3 s to drain, 5 s to deregister: electron/sim/sim-worker.ts); the old 5 s grace
    // SIGKILLed one under a CI run with two CPU burners, failing a test that asserts a clean exit.
    stop: async (graceMs = 20_000) => {
      if (isStopped) return;
      isStopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** POSTs JSON and returns status + parsed body (text when not JSON). */
export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    // Not JSON (SSE or empty): keep the text.
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Splits an SSE body into its `data:` payloads (raw strings, [DONE] included). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((block) => block.trimEnd())
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}
