// The console's pid file: which worker processes this console started, so a console that crashed can offer
// to stop or adopt what it left running. A pid is only acted on when /proc shows the same process (same
// command line and start time), never merely "a process with that pid". Layer: core (Linux /proc; elsewhere
// identity cannot be checked and leftovers are reported as unverifiable).
import { existsSync, readFileSync, rmSync } from 'node:fs';

import { writeFileAtomicSync } from '../fs/atomic-write';
import { type LaunchedProcess, type ProcessExit, signalProcessTree } from './process-launcher';

export interface ProcessIdentity {
  cmdline: string[];
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): differs when a pid is reused. */
  startTime: string;
}

export interface PidFileWorker {
  id: string;
  pid: number;
  host: string;
  port: number;
  identity: ProcessIdentity | null;
}

export interface PidFileRecord {
  consolePid: number;
  consoleIdentity: ProcessIdentity | null;
  writtenAtMs: number;
  workers: PidFileWorker[];
}

export type LeftoverState = 'running' | 'gone' | 'reused' | 'unverifiable';

export interface Leftover {
  worker: PidFileWorker;
  state: LeftoverState;
}

export interface Leftovers {
  /** The console that wrote the file still runs: its workers are not leftovers. */
  consoleAlive: boolean;
  record: PidFileRecord;
  workers: Leftover[];
}

/** The identity of a live process from /proc, null when it is gone or /proc is unavailable. */
export function readProcessIdentity(pid: number): ProcessIdentity | null {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces and ')'; fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[19];
    if (startTime === undefined) return null;
    return { cmdline, startTime };
  } catch {
    return null;
  }
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0) until its parent reaps it). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Whether pid is still the process recorded in the pid file. */
export function checkProcess(pid: number, recorded: ProcessIdentity | null): LeftoverState {
  if (!isProcessAlive(pid)) return 'gone';
  const now = readProcessIdentity(pid);
  if (recorded === null || now === null) return 'unverifiable';
  // pid + start time identify a process for the life of the boot. The command line is kept for display only:
  // it changes on exec (`#!/usr/bin/env node` scripts, mpirun) and processes may rewrite it (setproctitle).
  return now.startTime === recorded.startTime ? 'running' : 'reused';
}

export interface PidFile {
  readonly path: string;
  /** Rewrites the file with the current workers (atomically: fs/atomic-write.ts). */
  update(workers: { id: string; pid: number; host: string; port: number }[]): void;
  /** Removes the file: a clean shutdown leaves nothing behind. */
  remove(): void;
}

export function createPidFile(path: string, now: () => number = Date.now): PidFile {
  const consoleIdentity = readProcessIdentity(process.pid);
  return {
    path,
    update(workers) {
      const record: PidFileRecord = {
        consolePid: process.pid,
        consoleIdentity,
        writtenAtMs: now(),
        workers: workers.map((w) => ({ ...w, identity: readProcessIdentity(w.pid) })),
      };
      writeFileAtomicSync(path, JSON.stringify(record, null, 2) + '\n');
    },
    remove() {
      rmSync(path, { force: true });
    },
  };
}

/** What a previous console left behind, or null when there is no pid file. */
export function readLeftovers(path: string): Leftovers | null {
  if (!existsSync(path)) return null;
  let record: PidFileRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as PidFileRecord;
  } catch (err) {
    throw new Error(`unreadable pid file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const consoleAlive = record.consolePid !== process.pid && checkProcess(record.consolePid, record.consoleIdentity) === 'running';
  return {
    consoleAlive,
    record,
    workers: (record.workers ?? []).map((worker) => ({ worker, state: checkProcess(worker.pid, worker.identity) })),
  };
}

export type StopLeftoverResult = 'stopped' | 'killed' | 'gone' | 'not-ours';

/** Stops one leftover worker tree: SIGTERM, SIGKILL after killTimeoutMs. Refuses a pid that was reused. */
export async function stopLeftover(worker: PidFileWorker, killTimeoutMs: number): Promise<StopLeftoverResult> {
  const state = checkProcess(worker.pid, worker.identity);
  if (state === 'gone') return 'gone';
  if (state !== 'running') return 'not-ours';
  signalProcessTree(worker.pid, 'SIGTERM');
  const deadline = Date.now() + killTimeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(worker.pid)) return 'stopped';
    await new Promise((r) => setTimeout(r, 50));
  }
  signalProcessTree(worker.pid, 'SIGKILL');
  return 'killed';
}

/**
 * Wraps a leftover worker this console did not spawn, so the supervisor can adopt it: no output (its pipes
 * went with the crashed console), exit noticed by polling, signals sent to its process group.
 */
export function adoptProcess(pid: number, pollMs = 500): LaunchedProcess {
  const exited = new Promise<ProcessExit>((resolve) => {
    const timer = setInterval(() => {
      if (isProcessAlive(pid)) return;
      clearInterval(timer);
      // The exit status of a process that is not our child cannot be read.
      resolve({ code: null, signal: null });
    }, pollMs);
    timer.unref();
  });
  return {
    pid,
    exited,
    onLine: () => undefined,
    kill: (signal) => signalProcessTree(pid, signal),
  };
}
