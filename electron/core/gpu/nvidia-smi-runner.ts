// Runs `nvidia-smi` with an argument array and a time limit (execFile, never a shell). Layer: core.
import { execFile } from 'node:child_process';

/** Runs a command and resolves with its stdout; rejects with the error (code 'ENOENT' when it is missing). */
export type CommandRunner = (file: string, args: string[], timeoutMs: number) => Promise<string>;

export class CommandFailedError extends Error {
  constructor(
    message: string,
    /** 'ENOENT' when the binary does not exist, 'ETIMEDOUT' on time-out, else the exit code as text. */
    readonly code: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandFailedError';
  }
}

export const execFileRunner: CommandRunner = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        const code =
          e.code === 'ENOENT' ? 'ENOENT' : e.killed ? 'ETIMEDOUT' : String(e.code ?? 'ERROR');
        // nvidia-smi prints its failures ("couldn't communicate with the NVIDIA driver") on stdout.
        const detail = (stderr || stdout || e.message).trim().split('\n')[0] ?? e.message;
        reject(
          new CommandFailedError(
            `${file} ${args.join(' ')}: ${code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : detail}`,
            code,
            stderr,
          ),
        );
      },
    );
  });
