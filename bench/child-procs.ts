// Child processes of the benchmarks: start one and wait until its output matches a pattern (the port it
// listens on, usually), and stop one by its pid. Layer: bench.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Children started here and not yet exited: stopped by pid if the benchmark itself ends abruptly. */
const liveChildren = new Set<ChildProcess>();
let isExitHookInstalled = false;

/**
 * A benchmark stops its children in a `finally`, but a signal (Ctrl-C, `timeout`), a closed stdout
 * (`| head`) or an uncaught error ends it without running that: its workers and proxies would live on.
 * On any exit, SIGTERM by pid whatever is still running; the signals are turned into such an exit.
 */
function installExitHook(): void {
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGTERM');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
  }
}

/** Registers `child` to be stopped by pid should this process end before it does. */
export function stopAtExit(child: ChildProcess): ChildProcess {
  installExitHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

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
  stopAtExit(child);
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

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in seconds, from /proc/PID/stat (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}
