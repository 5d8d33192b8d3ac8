// Helpers for the cluster-state tests against the REAL backend (simulated workers, real processes): a
// backend that can be restarted on its data dir, a mirror fed only by `cluster:changed` events (re-synced on
// a gap or a new epoch, as the renderer does), commands with the version the caller saw, and the invariants
// every step must keep.
import { isDeepStrictEqual } from 'node:util';

import { expect } from 'vitest';

import type { BackendDeps } from '../../../electron/core/backend';
import { TopologyStore } from '../../../electron/core/topology/topology-store';
import { stepMirror } from '../../../shared/logic/cluster-mirror';
import { parseConsoleFile } from '../../../shared/logic/console-file';
import { doubleBookedGpus } from '../../../shared/logic/worker-allocation';
import type {
  ClusterCommand,
  ClusterCommandResult,
  ClusterState,
} from '../../../shared/model/cluster-state';
import {
  type BackendHarness,
  randomFirstWorkerPort,
  startTestBackend,
} from '../core/backend/backend-kit';

/** A backend, its mirror, and what it takes to restart it on the same data dir. */
export class StateHarness {
  mirror: ClusterState | null = null;
  resyncs = 0;
  private h: BackendHarness | null = null;
  private off: (() => void) | null = null;

  private constructor(private readonly deps: Partial<BackendDeps>) {}

  /** Starts a backend (its own temp data dir unless deps names one). */
  static async start(deps: Partial<BackendDeps> = {}): Promise<StateHarness> {
    const s = new StateHarness({ firstWorkerPort: randomFirstWorkerPort(), ...deps });
    await s.connect();
    return s;
  }

  get harness(): BackendHarness {
    if (!this.h) throw new Error('the backend is not running');
    return this.h;
  }

  private async connect(): Promise<void> {
    this.h = await startTestBackend(this.deps);
    const client = this.h.client;
    this.off = client.on('cluster:changed', (event) => {
      if (!this.mirror) return;
      const step = stepMirror(this.mirror, event);
      if (step.kind === 'applied') this.mirror = step.state;
      else if (step.kind === 'resync') void this.resync();
    });
    await this.resync();
  }

  /** Takes a fresh snapshot into the mirror (what a mirror does on a gap or a new epoch). */
  async resync(): Promise<void> {
    this.resyncs++;
    this.mirror = await this.harness.client.invoke('cluster:snapshot');
  }

  snapshot(): Promise<ClusterState> {
    return this.harness.client.invoke('cluster:snapshot');
  }

  /** Runs a command built on `expectedVersion` (default: the mirror's version, as the UI does). */
  command(command: ClusterCommand, expectedVersion?: number): Promise<ClusterCommandResult> {
    return this.harness.client.invoke('cluster:command', {
      command,
      expectedVersion: expectedVersion ?? this.mirror?.version ?? 0,
    });
  }

  /** Stops the backend (its workers too) and starts a new one on the same data dir. */
  async restart(): Promise<void> {
    const dataDir = this.harness.dataDir;
    this.off?.();
    await this.harness.backend.dispose();
    this.deps.dataDir = dataDir;
    await this.connect();
  }

  async close(): Promise<void> {
    this.off?.();
    await this.h?.close();
    this.h = null;
  }
}

/** The workers of the topology on disk: name -> GPUs. */
export async function topologyOnDisk(dataDir: string): Promise<Record<string, number[]>> {
  const files = await new TopologyStore({ dataDir }).readCurrent();
  const text = files['console.yaml'];
  if (text === undefined) return {};
  const parsed = parseConsoleFile(text);
  if (!parsed.ok) throw new Error('console.yaml on disk does not parse');
  return Object.fromEntries(parsed.value.workers.map((w) => [w.name, w.gpus]));
}

/** What a model of the cluster expects: the workers (name -> GPUs) and the names removed and not added again. */
export interface ExpectedCluster {
  workers: Record<string, number[]>;
  removed: ReadonlySet<string>;
}

/** The invariants after a step; resolves with how many were checked. */
export async function checkInvariants(s: StateHarness, expected: ExpectedCluster): Promise<number> {
  // The mirror catches up with the backend through events alone (status changes may still arrive).
  await expect
    .poll(
      async () => {
        const snap = await s.snapshot();
        return s.mirror?.version === snap.version && isDeepStrictEqual(s.mirror, snap);
      },
      { timeout: 10_000, interval: 50 },
    )
    .toBe(true);
  const snap = await s.snapshot();
  expect(doubleBookedGpus(snap.gpuAssignments), 'no GPU double-booked').toEqual([]);
  const disk = await topologyOnDisk(s.harness.dataDir);
  const inState = Object.fromEntries(
    (snap.topology.console?.workers ?? []).map((w) => [w.name, w.gpus]),
  );
  expect(disk, 'topology on disk equals the state').toEqual(inState);
  expect(inState, 'the state has the workers the model expects').toEqual(expected.workers);
  expect(snap.workers.map((w) => w.id).sort(), 'a live worker per topology worker').toEqual(
    Object.keys(expected.workers).sort(),
  );
  for (const w of snap.workers) {
    const isLive =
      w.status.pid !== null &&
      ['starting', 'ready', 'degraded', 'stopping'].includes(w.status.state);
    const hasReason = w.status.lastExit !== null || w.status.message !== null;
    expect(
      isLive || hasReason,
      `${w.id} has a live process or a failure reason (${w.status.state})`,
    ).toBe(true);
  }
  const back = snap.workers.filter((w) => expected.removed.has(w.id)).map((w) => w.id);
  expect(back, 'no removed worker reappears').toEqual([]);
  return 7;
}
