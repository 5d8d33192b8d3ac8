// The ProcessLauncher port and its Node implementation: spawn with an argument array (never a shell), in a
// process group of its own so the whole tree (trtllm-serve's MPI ranks, the sim worker's children) can be
// signalled, and kill by pid only. Layer: core (plain Node).
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export type StdStream = 'stdout' | 'stderr';

export interface LaunchRequest {
  command: string;
  args: string[];
  /** The complete environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd?: string;
  /**
   * A descriptor (a log file opened for appending) that the child's stdout and stderr are pointed at, so its
   * output outlives the console; the lines are then read from the file and onLine reports none. Without it
   * the output comes through pipes to onLine.
   */
  outputFd?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/** A running child the console spawned. */
export interface LaunchedProcess {
  readonly pid: number;
  /** One call per line of output; '\r' (tqdm progress bars) also ends a line. */
  onLine(cb: (stream: StdStream, line: string) => void): void;
  /** Resolves once the process has exited and its output is flushed. */
  readonly exited: Promise<ProcessExit>;
  /** Signals the process group (the whole tree); false when nothing was left to signal. */
  kill(signal: NodeJS.Signals): boolean;
}

/** Starts worker processes. Tests may swap in a fake. */
export interface ProcessLauncher {
  /** Resolves once the process runs; rejects when it cannot be spawned (ENOENT, EACCES ...). */
  launch(req: LaunchRequest): Promise<LaunchedProcess>;
}

/** Sends a signal to a process group, falling back to the single pid; false when neither exists. */
export function signalProcessTree(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

function lineSplitter(emit: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  const drain = (): void => {
    const parts = buf.split(/\r\n|\n|\r/);
    buf = parts.pop() ?? '';
    for (const p of parts) emit(p);
  };
  return {
    push(chunk) {
      buf += decoder.write(chunk);
      drain();
    },
    end() {
      buf += decoder.end();
      drain();
      if (buf !== '') emit(buf);
      buf = '';
    },
  };
}

/**
 * The real launcher: node:child_process.spawn, detached into its own process group, stdin closed.
 * closeWaitMs bounds how long an exit waits for the output pipes to drain.
 */
export function createNodeProcessLauncher(closeWaitMs = 1000): ProcessLauncher {
  return {
    launch(req) {
      return new Promise<LaunchedProcess>((resolve, reject) => {
        const child = spawn(req.command, req.args, {
          env: req.env,
          cwd: req.cwd,
          // detached = setsid(): the child leads a new process group, so kill(-pid) reaches its descendants.
          detached: true,
          stdio:
            req.outputFd === undefined
              ? ['ignore', 'pipe', 'pipe']
              : ['ignore', req.outputFd, req.outputFd],
          shell: false,
        });
        const listeners: ((stream: StdStream, line: string) => void)[] = [];
        const pending: [StdStream, string][] = [];
        const emit = (stream: StdStream) => (line: string) => {
          if (listeners.length === 0) pending.push([stream, line]);
          for (const l of listeners) l(stream, line);
        };
        const out = lineSplitter(emit('stdout'));
        const err = lineSplitter(emit('stderr'));
        child.stdout?.on('data', (c: Buffer) => out.push(c));
        child.stderr?.on('data', (c: Buffer) => err.push(c));
        const closed = new Promise<void>((res) => child.once('close', () => res()));
        const exited = new Promise<ProcessExit>((res) => {
          child.once('exit', (code, signal) => {
            // The leader is gone; whatever is left of its tree (MPI ranks, helpers) would hold GPUs and keep
            // our pipes open, so it goes too. The group id cannot be reused while any member lives.
            const pid = child.pid;
            if (pid !== undefined) {
              try {
                process.kill(-pid, 'SIGKILL');
              } catch {
                // ESRCH: the group is already empty.
              }
            }
            // Wait (bounded) for the pipes to drain so the last stderr lines are in the log before the exit.
            const flushed = new Promise<void>((r) => setTimeout(r, closeWaitMs).unref());
            void Promise.race([closed, flushed]).then(() => {
              out.end();
              err.end();
              res({ code, signal });
            });
          });
        });
        // 'on', not 'once': a later 'error' with no listener would throw; after the spawn it has no effect.
        child.on('error', (e) => reject(e));
        child.once('spawn', () => {
          const pid = child.pid;
          if (pid === undefined) {
            reject(new Error(`spawn ${req.command}: no pid`));
            return;
          }
          resolve({
            pid,
            exited,
            onLine(cb) {
              listeners.push(cb);
              for (const [s, l] of pending.splice(0)) cb(s, l);
            },
            kill: (signal) => signalProcessTree(pid, signal),
          });
        });
      });
    },
  };
}
