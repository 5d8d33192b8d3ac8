// Child processes of the benchmarks: start one and wait until its output matches a pattern (the port it
// listens on, usually), and stop one by its pid. Layer: bench.
import { type ChildProcess, spawn } from 'node:child_process';

/** How much of a starting child's output is kept for its ready match and error message. */
const OUTPUT_KEPT_CHARS = 100_000;

/** Starts `cmd args` in `cwd` and resolves with the first match of `ready` in its output (rejects after `timeoutMs` or on exit). */
export function startUntil(
  name: string,
  [cmd, args]: [string, string[]],
  ready: RegExp,
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): { child: ChildProcess; started: Promise<RegExpExecArray> } {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Once started (or failed), the output is still read, so a chatty child never blocks on a full pipe,
  // but no longer kept or searched.
  let isSettled = false;
  const started = new Promise<RegExpExecArray>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      isSettled = true;
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      if (isSettled) return;
      out = (out + d.toString()).slice(-OUTPUT_KEPT_CHARS);
      const m = ready.exec(out);
      if (m) {
        isSettled = true;
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${String(code)}):\n${out}`));
    });
  });
  return { child, started };
}

/** SIGTERM by pid, then waits for the exit (SIGKILL after `graceMs`). */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}
