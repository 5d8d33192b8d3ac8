// `disagg-console proxy --workers N`: N proxy processes behind one listening port (node:cluster; on
// Linux the primary accepts and hands connections round-robin to the processes, since Node 20 has no
// SO_REUSEPORT option). Admission limits stay global by splitting them: process i of N gets
// `shareOf(limit, N, i)` slots and queue places, so the shares add up to the flag's value and no process
// ever admits more than its share (a primary granting slots over IPC would pool them better, at one IPC
// round trip per request; README.md says what else is per process). The primary restarts a process that
// dies after it started serving, and stops every process by pid on SIGTERM. The primary also relays the
// KV events that process 0 polls to the other processes (fleet-kv-feed.ts). Layer: core (no electron).
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';

import { FleetKvRelay } from './fleet-kv-feed';
import type { ProxyRunSettings } from './proxy-runtime';
import type { LogLevel } from './types';

/** The environment variable that tells a fleet process its index (0..N-1) and the fleet size. */
export const FLEET_INDEX_ENV = 'DISAGG_PROXY_FLEET_INDEX';
export const FLEET_SIZE_ENV = 'DISAGG_PROXY_FLEET_SIZE';

/** One process per two cores (the other core serves its kernel network work), at most 8. */
export function suggestedWorkerCount(cores: number = os.availableParallelism()): number {
  return Math.max(1, Math.min(Math.floor(cores / 2), 8));
}

/** Process `index`'s part of `total` split over `n` processes: the parts differ by at most one and sum to `total`. */
export function shareOf(total: number, n: number, index: number): number {
  return Math.floor(total / n) + (index < total % n ? 1 : 0);
}

/**
 * The settings one fleet process runs with: the global admission limits split (see the file comment).
 * Throws when a limit is below the fleet size, since some process would get no slot at all.
 */
export function fleetProcessSettings<S extends ProxyRunSettings>(
  settings: S,
  n: number,
  index: number,
): S {
  if (settings.maxConcurrency < n) {
    throw new Error(
      `--max-concurrency ${settings.maxConcurrency} is below --workers ${n}: each process needs at least one slot`,
    );
  }
  return {
    ...settings,
    maxConcurrency: shareOf(settings.maxConcurrency, n, index),
    maxQueue: shareOf(settings.maxQueue, n, index),
  };
}

/** This process's place in a fleet, or undefined when it is not a fleet process. */
export function fleetPlace(
  env: Record<string, string | undefined> = process.env,
): { index: number; size: number } | undefined {
  if (!cluster.isWorker) return undefined;
  const index = Number(env[FLEET_INDEX_ENV]);
  const size = Number(env[FLEET_SIZE_ENV]);
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) {
    throw new Error(
      `fleet process started without a valid ${FLEET_INDEX_ENV}/${FLEET_SIZE_ENV} (${String(env[FLEET_INDEX_ENV])}/${String(env[FLEET_SIZE_ENV])})`,
    );
  }
  return { index, size };
}

export interface FleetOptions {
  size: number;
  /** How long each process may drain on stop before the primary kills it. */
  drainTimeoutS: number;
  log: (level: LogLevel, msg: string) => void;
  /** Called once, when every process listens. */
  onListening: (port: number) => void;
  /** Called when the fleet cannot serve (a process failed before it ever listened). */
  onFailed: (exitCode: number) => void;
}

/** A process that dies this soon after its previous start is restarted after a pause, not at once. */
const QUICK_DEATH_MS = 5_000;
const RESTART_PAUSE_MS = 1_000;
/** Past the drain: how long the primary waits for exits before it kills the rest. */
const STOP_GRACE_MS = 5_000;

interface Slot {
  index: number;
  worker: Worker;
  startedAt: number;
  hasListened: boolean;
}

/** The primary's side: forks, restarts and stops the fleet. */
export class ProxyFleet {
  private readonly slots: Slot[] = [];
  private isStopping = false;
  private hasAnnounced = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Passes process 0's KV event rounds to the others and answers snapshot requests. */
  readonly kvRelay: FleetKvRelay;

  constructor(private readonly opts: FleetOptions) {
    this.kvRelay = new FleetKvRelay(
      {
        send: (index, msg) => {
          const w = this.slots[index]?.worker;
          if (w && w.isConnected()) w.send(msg);
        },
        indices: () => this.slots.map((s) => s.index),
      },
      opts.log,
    );
  }

  start(): void {
    if (!cluster.isPrimary) throw new Error('ProxyFleet.start runs in the cluster primary only');
    for (let i = 0; i < this.opts.size; i++) this.fork(i);
  }

  /** The live processes' pids, by index. */
  pids(): number[] {
    return this.slots.map((s) => s.worker.process.pid ?? 0);
  }

  /** SIGTERM to every process by pid; resolves when all exited (SIGKILL to those still there after the drain). */
  async stop(): Promise<void> {
    this.isStopping = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    const live = this.slots.filter((s) => !s.worker.isDead());
    const exits = live.map(
      (s) =>
        new Promise<void>((resolve) =>
          s.worker.isDead() ? resolve() : s.worker.once('exit', () => resolve()),
        ),
    );
    for (const s of live) signal(s.worker, 'SIGTERM');
    const killer = setTimeout(
      () => {
        for (const s of live) if (!s.worker.isDead()) signal(s.worker, 'SIGKILL');
      },
      this.opts.drainTimeoutS * 1000 + STOP_GRACE_MS,
    );
    await Promise.all(exits);
    clearTimeout(killer);
  }

  private fork(index: number): void {
    const worker = cluster.fork({
      [FLEET_INDEX_ENV]: String(index),
      [FLEET_SIZE_ENV]: String(this.opts.size),
    });
    const slot: Slot = { index, worker, startedAt: Date.now(), hasListened: false };
    this.slots[index] = slot;
    worker.on('listening', (address) => this.onListening(slot, address.port));
    worker.on('exit', (code, sig) => this.onExit(slot, code, sig));
    worker.on('message', (msg: unknown) => this.kvRelay.handle(index, msg));
  }

  private onListening(slot: Slot, port: number): void {
    slot.hasListened = true;
    if (this.hasAnnounced || !this.slots.every((s) => s.hasListened)) return;
    this.hasAnnounced = true;
    this.opts.onListening(port);
  }

  private onExit(slot: Slot, code: number | null, sig: string | null): void {
    if (this.isStopping || this.slots[slot.index] !== slot) return;
    const how = sig ? `signal ${sig}` : `code ${String(code)}`;
    if (!slot.hasListened) {
      // It never served (bad config, port taken, workers not healthy): restarting would only repeat it.
      this.opts.log(
        'error',
        `proxy process ${slot.index} (pid ${String(slot.worker.process.pid)}) exited with ${how} before it listened; stopping the fleet`,
      );
      void this.stop().then(() => this.opts.onFailed(code && code > 0 ? code : 1));
      return;
    }
    const pause = Date.now() - slot.startedAt < QUICK_DEATH_MS ? RESTART_PAUSE_MS : 0;
    this.opts.log(
      'warning',
      `proxy process ${slot.index} (pid ${String(slot.worker.process.pid)}) exited with ${how}; restarting${pause ? ` in ${pause} ms` : ''}`,
    );
    const t = setTimeout(() => {
      this.restartTimers.delete(t);
      if (!this.isStopping) this.forkReplacement(slot.index);
    }, pause);
    this.restartTimers.add(t);
  }

  /** A replacement is known to have served before: its slot counts as listening for the announcement. */
  private forkReplacement(index: number): void {
    this.fork(index);
    const slot = this.slots[index] as Slot;
    slot.hasListened = true;
    this.opts.log(
      'info',
      `proxy process ${index} restarted as pid ${String(slot.worker.process.pid)}`,
    );
  }
}

function signal(worker: Worker, sig: NodeJS.Signals): void {
  const pid = worker.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
