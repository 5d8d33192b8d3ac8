// Runs `node bin/disagg-console.mjs <subcommand> ...` to its end as a real child process and collects its
// output, for the integration tests of the CLI subcommands. Layer: tests (node).
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'disagg-console.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  /** SIGKILL after this long (default 30 s), so a hung command fails its test instead of hanging it. */
  timeoutMs?: number;
  /** SIGTERM once stderr shows this text (a signal sent during start-up). */
  sigtermOnOutput?: string | null;
}

/** Runs the subcommand; resolves once it has exited and its output pipes are closed. */
export function runCliToExit(
  subcommand: string,
  args: readonly string[],
  opts: CliRunOptions = {},
): Promise<CliRun> {
  const { env = {}, timeoutMs = 30_000, sigtermOnOutput = null } = opts;
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, subcommand, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let isSignalled = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (
        sigtermOnOutput !== null &&
        !isSignalled &&
        stderr.includes(sigtermOnOutput) &&
        child.pid !== undefined
      ) {
        isSignalled = true;
        process.kill(child.pid, 'SIGTERM');
      }
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
