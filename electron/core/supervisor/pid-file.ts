// The console's pid file: which worker processes this console started, so a console that crashed can offer
// to stop or adopt what it left running. A pid is only acted on when /proc shows the same process (same
// command line and start time), never merely "a process with that pid". Layer: core (Linux /proc; elsewhere
// identity cannot be checked and leftovers are reported as unverifiable).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';

import { writeFileAtomicSync } from '../fs/atomic-write';
import { type LaunchedProcess, type ProcessExit, signalProcessTree } from './process-launcher';

export interface ProcessIdentity {
  cmdline: string[];
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): differs when a pid is reused. */
  startTime: string;
}

/** What the supervisor reports for each running worker. */
export interface RunningWorker {
  id: string;
  pid: number;
  host: string;
  port: number;
  /** The command and arguments it was launched with (argv as given to spawn). */
  command: string[];
}

export interface PidFileWorker extends RunningWorker {
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
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
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

/**
 * The environment variable that marks a worker with the data dir of the console that launched it. It finds a
 * worker the pid file missed (the console died between spawning it and writing the record).
 */
export const WORKER_OWNER_ENV = 'DISAGG_CONSOLE_DATA_DIR';

/** A live process-group leader carrying WORKER_OWNER_ENV=owner (its children carry it too, but lead no group). */
export interface OwnedProcess {
  pid: number;
  identity: ProcessIdentity;
}

/** The process groups whose leader was launched for `owner` (Linux /proc; empty elsewhere). */
export function findOwnedProcesses(owner: string): OwnedProcess[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const marker = `${WORKER_OWNER_ENV}=${owner}`;
  const found: OwnedProcess[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 5 (pgrp) follows state (field 3) and ppid (field 4) after the ')' that ends the command name.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const identity = readProcessIdentity(pid);
      if (pgrp === pid && identity !== null && isProcessAlive(pid)) found.push({ pid, identity });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
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

/**
 * Whether a live command line is the launched one: it ends with the launch arguments after the program. The
 * program itself may differ, because exec rewrites it (`#!/usr/bin/env node` scripts run as `node script ...`).
 */
export function cmdlineMatchesLaunch(
  cmdline: readonly string[],
  command: readonly string[],
): boolean {
  const args = command.slice(1);
  if (cmdline.length < args.length) return false;
  const tail = cmdline.slice(cmdline.length - args.length);
  return args.every((a, i) => a === tail[i]);
}

/**
 * Whether pid is still the process recorded in the pid file: alive, same start time (pid + start time name
 * one process for the life of the boot) and, when the launch command was recorded, the same command line.
 */
export function checkProcess(
  pid: number,
  recorded: ProcessIdentity | null,
  command?: readonly string[],
): LeftoverState {
  if (!isProcessAlive(pid)) return 'gone';
  const now = readProcessIdentity(pid);
  if (recorded === null || now === null) return 'unverifiable';
  if (now.startTime !== recorded.startTime) return 'reused';
  return command === undefined || command.length === 0 || cmdlineMatchesLaunch(now.cmdline, command)
    ? 'running'
    : 'reused';
}

/** checkProcess for a pid file entry. */
export function checkRecordedWorker(worker: PidFileWorker): LeftoverState {
  return checkProcess(worker.pid, worker.identity, worker.command);
}

export interface PidFile {
  readonly path: string;
  /** Rewrites the file with the current workers (atomically: fs/atomic-write.ts). */
  update(workers: RunningWorker[]): void;
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
  const consoleAlive =
    record.consolePid !== process.pid &&
    checkProcess(record.consolePid, record.consoleIdentity) === 'running';
  return {
    consoleAlive,
    record,
    workers: (record.workers ?? [])
      .map((w) => ({ ...w, command: Array.isArray(w.command) ? w.command : [] }))
      .map((worker) => ({ worker, state: checkRecordedWorker(worker) })),
  };
}

export type StopLeftoverResult = 'stopped' | 'killed' | 'gone' | 'not-ours';

/** Stops one leftover worker tree: SIGTERM, SIGKILL after killTimeoutMs. Refuses a pid that was reused. */
export async function stopLeftover(
  worker: PidFileWorker,
  killTimeoutMs: number,
): Promise<StopLeftoverResult> {
  const state = checkRecordedWorker(worker);
  if (state === 'gone') return 'gone';
  if (state !== 'running') return 'not-ours';
  signalProcessTree(worker.pid, 'SIGTERM');
  const deadline = Date.now() + killTimeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(worker.pid)) return 'stopped';
    await new Promise((r) => setTimeout(r, 50));
  }
  signalProcessTree(worker.pid, 'SIGKILL');
  // Wait (bounded) for the kill to land, so the port is free when this resolves.
  const killDeadline = Date.now() + 5000;
  while (isProcessAlive(worker.pid) && Date.now() < killDeadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return 'killed';
}

/**
 * Wraps a leftover worker this console did not spawn, so the supervisor can adopt it: no output (its pipes
 * went with the crashed console), exit noticed by polling pid and start time (a pid reused after the exit is
 * not mistaken for the worker), signals sent to its process group only while it is still that process.
 */
export function adoptProcess(worker: PidFileWorker, pollMs = 200): LaunchedProcess {
  const { pid } = worker;
  const isStillIt = (): boolean => checkRecordedWorker(worker) === 'running';
  const exited = new Promise<ProcessExit>((resolve) => {
    const timer = setInterval(() => {
      if (isStillIt()) return;
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
    kill: (signal) => isStillIt() && signalProcessTree(pid, signal),
  };
}
