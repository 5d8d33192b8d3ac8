// bench/child-procs.ts: a benchmark that ends abruptly (a signal, a closed stdout) still stops the
// children it started, by pid. The benchmark is a real process here, its child a real `node`.
import { spawn } from 'node:child_process';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { isProcessAlive as isAlive } from '../../helpers/process-alive';

const ROOT = path.resolve(__dirname, '../../..');

/** A stand-in benchmark: starts one child through startUntil, prints its pid, then waits forever. */
const BENCH = `
import { startUntil } from './bench/child-procs.ts';
const { child, started } = startUntil(
  'sleeper',
  [process.execPath, ['-e', "console.log('ready'); setInterval(() => {}, 1000)"]],
  /ready/,
  { cwd: process.cwd() },
);
await started;
console.log('CHILD ' + child.pid);
setInterval(() => {}, 1000);
`;

/** Resolves once `pid` is gone; rejects after `limitMs` (a bound, not a measurement). */
async function gone(pid: number, limitMs: number): Promise<void> {
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited > limitMs) throw new Error(`pid ${pid} still running after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the stand-in and resolves with it and its child's pid once the child runs. */
async function startBench(): Promise<{ bench: ReturnType<typeof spawn>; childPid: number }> {
  const bench = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', BENCH], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const childPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    bench.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /CHILD (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    bench.once('exit', (code) => reject(new Error(`bench exited (${String(code)}): ${out}`)));
  });
  return { bench, childPid };
}

describe('children of a benchmark that ends abruptly', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s the benchmark exits and its child is stopped',
    async (signal) => {
      const { bench, childPid } = await startBench();
      try {
        expect(isAlive(childPid)).toBe(true);
        const exited = new Promise<number | null>((r) => bench.once('exit', (code) => r(code)));
        bench.kill(signal);
        expect(await exited).toBe(signal === 'SIGTERM' ? 143 : 130);
        await gone(childPid, 20_000);
        expect(isAlive(childPid)).toBe(false);
      } finally {
        // A failing run must not leave its processes behind either.
        if (isAlive(childPid)) process.kill(childPid, 'SIGKILL');
        if (bench.exitCode === null && bench.signalCode === null) bench.kill('SIGKILL');
      }
    },
    60_000,
  );
});
