// One run of the load generator (bench/load-gen.ts) as the benchmarks launch it: the child started with
// its LoadSpec as the one argument, its WINDOW_START / WINDOW_END lines passed to the caller (which
// samples CPU there), and its `RESULT {json}` line parsed. Shared by bench/proxy-bench.ts and
// bench/fleet-bench.ts. Layer: bench.
import { spawn } from 'node:child_process';

import { stopAtExit } from './child-procs';
import type { LoadGenResult, LoadSpec } from './load-spec';

export interface LoadRunHooks {
  /** Called when the generator opens its measured window (sample the target's CPU here). */
  onWindowStart?: () => void;
  /** Called when it closes the window. */
  onWindowEnd?: () => void;
}

/**
 * Runs `command` (the load generator, `spec` is appended as its JSON argument) in `cwd` and resolves
 * with its result; rejects with the generator's output when it printed none (it crashed, or the spec was
 * refused), its stderr's tail included. The generator's stderr goes on to ours.
 */
export function runLoadGen(
  [cmd, args]: [string, string[]],
  spec: LoadSpec,
  cwd: string,
  hooks: LoadRunHooks = {},
): Promise<LoadGenResult> {
  const child = stopAtExit(
    spawn(cmd, [...args, JSON.stringify(spec)], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  // Passed on as it comes, and its tail kept for the error when no result comes.
  let errTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    process.stderr.write(d);
    errTail = (errTail + d.toString()).slice(-2_000);
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      const text = d.toString();
      if (text.includes('WINDOW_START')) hooks.onWindowStart?.();
      if (text.includes('WINDOW_END')) hooks.onWindowEnd?.();
      out += text;
    });
    child.on('error', (err) => reject(new Error(`load generator did not start: ${err.message}`)));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      try {
        resolve(JSON.parse(line?.slice(7) ?? '') as LoadGenResult);
      } catch {
        reject(
          new Error(
            `load generator failed (exit ${String(code)}):\n${out.slice(0, 2_000)}${errTail}`,
          ),
        );
      }
    });
  });
}
