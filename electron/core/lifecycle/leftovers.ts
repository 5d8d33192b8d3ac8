// Workers a crashed console left running (issue #15 item 2): on start, before anything spawns, the pid file of
// the previous run says which workers it had; each one still alive as the same process (start time and command
// line checked, so a reused pid is never touched) is adopted when it is exactly a worker of the topology being
// started (same name, host, port, command line and GPUs), and stopped by pid otherwise. The pid file is
// rewritten only after that decision, so a start that fails half-way still leaves the record to act on.
// Layer: core.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

import type { WorkerSpec } from '../../../shared/model/worker';
import {
  findOwnedProcesses,
  type Leftover,
  readLeftovers,
  stopLeftover,
  type StopLeftoverResult,
} from '../supervisor/pid-file';
import type { WorkerSupervisor } from '../supervisor/worker-supervisor';
import { semanticText } from '../topology/apply-plan';

/** 'adopt' (default): adopt the matching ones, stop the rest. 'stop' (`--stop-leftovers`): stop them all. */
export type LeftoverMode = 'adopt' | 'stop';

export interface SettleLeftoversOptions {
  /** The previous run's pid file (the one this console's supervisor writes). */
  pidPath: string;
  /** The supervisor's ownerTag: workers launched with it that the pid file missed are stopped too. */
  ownerTag?: string;
  /** The workers of the topology about to be started. */
  specs: readonly WorkerSpec[];
  supervisor: Pick<WorkerSupervisor, 'adopt' | 'launchOf' | 'recordPids'>;
  mode: LeftoverMode;
  killTimeoutMs?: number;
  log: (level: 'info' | 'warn', message: string) => void;
}

/** What was done with each leftover (names, for the start sequence and the log). */
export interface LeftoverDecision {
  adopted: string[];
  stopped: { id: string; pid: number; result: StopLeftoverResult }[];
  /** Alive under a recorded pid but not provably the recorded process: left alone. */
  untouched: { id: string; pid: number; why: string }[];
}

/**
 * Two launch arguments are the same: equal, or two option files (of different version folders) that an apply
 * plan would call unchanged (same YAML content; comments and layout aside), so the running worker is current.
 */
function sameArgument(a: string, b: string): boolean {
  if (a === b) return true;
  if (!isAbsolute(a) || !isAbsolute(b)) return false;
  try {
    if (!statSync(a).isFile() || !statSync(b).isFile()) return false;
    return semanticText(readFileSync(a, 'utf8')) === semanticText(readFileSync(b, 'utf8'));
  } catch {
    return false;
  }
}

/** The GPUs a live process was started with, from /proc/<pid>/environ; undefined when unreadable. */
function cudaDevicesOf(pid: number): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.startsWith('CUDA_VISIBLE_DEVICES='));
    return entry === undefined ? '' : entry.slice('CUDA_VISIBLE_DEVICES='.length);
  } catch {
    return undefined;
  }
}

/** Why a running leftover is not the topology's worker of that name, null when it is exactly that worker. */
export function mismatchOf(
  left: Leftover,
  spec: WorkerSpec | undefined,
  launch: { command: string[]; env: Record<string, string> } | null,
): string | null {
  const w = left.worker;
  if (spec === undefined || launch === null) return 'the topology has no worker of that name';
  if (spec.host !== w.host || spec.port !== w.port) {
    return `the topology has it on ${spec.host}:${spec.port}, it runs on ${w.host}:${w.port}`;
  }
  if (
    launch.command.length !== w.command.length ||
    !launch.command.every((a, i) => sameArgument(a, w.command[i] as string))
  ) {
    return 'its command line differs from the topology';
  }
  const gpus = cudaDevicesOf(w.pid);
  const wanted = launch.env.CUDA_VISIBLE_DEVICES ?? '';
  if (gpus !== undefined && gpus !== wanted) {
    return `it runs on GPUs '${gpus}', the topology wants '${wanted}'`;
  }
  return null;
}

function describe(left: Leftover): string {
  return `${left.worker.id} (pid ${left.worker.pid}, port ${left.worker.port})`;
}

/**
 * Adopts or stops what the previous console left running, then rewrites the pid file. Call it once at start,
 * after the data dir lock is held and before any worker is spawned.
 */
export async function settleLeftovers(opts: SettleLeftoversOptions): Promise<LeftoverDecision> {
  const decision: LeftoverDecision = { adopted: [], stopped: [], untouched: [] };
  let left: ReturnType<typeof readLeftovers> = null;
  try {
    left = readLeftovers(opts.pidPath);
  } catch (err) {
    // Still settle what the owner mark finds; the unreadable record is replaced below.
    opts.log('warn', err instanceof Error ? err.message : String(err));
  }
  if (left?.consoleAlive === true) {
    // Only possible without the data dir lock (two consoles side by side): its workers are not ours to touch.
    opts.log(
      'warn',
      `the console that wrote ${opts.pidPath} (pid ${left.record.consolePid}) still runs; its workers are left alone`,
    );
    return decision;
  }
  const toStop = left === null ? [] : await adoptMatching(left.workers, opts, decision);
  toStop.push(...unrecordedWorkers(opts, left?.workers ?? []));
  await stopAll(toStop, opts, decision);
  // Only now: a start that failed before this point leaves the previous record to act on.
  opts.supervisor.recordPids();
  return decision;
}

/** Adopts the recorded leftovers that match; returns those to stop. */
async function adoptMatching(
  recorded: Leftover[],
  opts: SettleLeftoversOptions,
  decision: LeftoverDecision,
): Promise<Leftover[]> {
  const toStop: Leftover[] = [];
  for (const entry of recorded) {
    if (entry.state === 'gone') continue;
    if (entry.state !== 'running') {
      const why =
        entry.state === 'reused'
          ? 'its pid now belongs to another process'
          : 'its identity cannot be checked here (no /proc)';
      decision.untouched.push({ id: entry.worker.id, pid: entry.worker.pid, why });
      opts.log('warn', `leftover ${describe(entry)} left alone: ${why}`);
      continue;
    }
    const spec = opts.specs.find((s) => s.id === entry.worker.id);
    const mismatch =
      opts.mode === 'stop'
        ? '--stop-leftovers was given'
        : mismatchOf(entry, spec, spec ? opts.supervisor.launchOf(spec) : null);
    if (mismatch !== null || spec === undefined) {
      opts.log(
        'info',
        `stopping ${describe(entry)} left running by the previous console: ${mismatch ?? 'no spec'}`,
      );
      toStop.push(entry);
      continue;
    }
    try {
      await opts.supervisor.adopt(spec, entry);
      decision.adopted.push(spec.id);
      opts.log(
        'info',
        `adopted ${describe(entry)} left running by the previous console: it matches the topology`,
      );
    } catch (err) {
      opts.log(
        'warn',
        `could not adopt ${describe(entry)} (${err instanceof Error ? err.message : String(err)}); stopping it`,
      );
      toStop.push(entry);
    }
  }
  return toStop;
}

/**
 * Workers launched for this data dir that the pid file does not name: the previous console died between
 * spawning one and recording it. Identified now (live, group leader, marked with the data dir), so no pid
 * reuse is possible; the lock guarantees no live console owns them.
 */
function unrecordedWorkers(opts: SettleLeftoversOptions, recorded: Leftover[]): Leftover[] {
  if (opts.ownerTag === undefined) return [];
  const known = new Set(recorded.map((l) => l.worker.pid));
  return findOwnedProcesses(opts.ownerTag)
    .filter((p) => !known.has(p.pid) && p.pid !== process.pid)
    .map((p) => {
      const worker = {
        id: '(unrecorded)',
        pid: p.pid,
        host: '',
        port: 0,
        command: [],
        identity: p.identity,
      };
      opts.log(
        'info',
        `stopping pid ${p.pid} (${p.identity.cmdline.join(' ').slice(0, 200)}): a worker of this data dir that the previous console started but had not recorded`,
      );
      return { worker, state: 'running' as const };
    });
}

async function stopAll(
  toStop: Leftover[],
  opts: SettleLeftoversOptions,
  decision: LeftoverDecision,
): Promise<void> {
  const results = await Promise.all(
    toStop.map(async (entry) => ({
      entry,
      result: await stopLeftover(entry.worker, opts.killTimeoutMs ?? 10_000),
    })),
  );
  for (const { entry, result } of results) {
    decision.stopped.push({ id: entry.worker.id, pid: entry.worker.pid, result });
    opts.log('info', `leftover ${describe(entry)}: ${result}`);
  }
}
