// The backend's startup sequence, in one place (crash-safety hooks in here): what a crashed console left
// running, then the proxy, the GPU inventory, the topology applied last time started again (or, on a really
// first start, the demo), and the cluster document read in. Layer: core.

import { loadTopology } from '../../shared/logic/load-topology';
import { type BackendLog, errText } from './event-hub';
import type { GpuInventory } from './gpu/gpu-inventory';
import {
  type LeftoverDecision,
  settleLeftovers,
  type SettleLeftoversOptions,
} from './lifecycle/leftovers';
import { recoverCurrentTopology } from './lifecycle/topology-recovery';
import type { ProxyHost } from './proxy-host';
import type { SettingsService } from './settings-service';
import type { ClusterController } from './state/cluster-controller';
import type { TopologyApplier } from './topology/topology-service';
import type { TopologyStore } from './topology/topology-store';
import { toWorkerSpecs } from './topology/worker-specs';
import type { WorkerCommands } from './worker-commands';

/** What the startup sequence starts. */
export interface StartupParts {
  store: TopologyStore;
  runner: TopologyApplier;
  proxy: ProxyHost;
  gpus: GpuInventory;
  workers: WorkerCommands;
  controller: ClusterController;
  settings: SettingsService;
  log: BackendLog;
  /** What the previous run left running: settled before anything starts (lifecycle/leftovers.ts). */
  leftovers: Omit<SettleLeftoversOptions, 'specs' | 'log'>;
  /** Start the demo topology when none was ever applied. */
  isDemo: boolean;
  /** Also start the demo on a first start without NVIDIA GPUs. */
  isDemoOnFirstStartWithoutGpus: boolean;
}

type Loaded = NonNullable<ReturnType<typeof loadTopology>['topology']>;

/** The launch specs of the topology applied last time, from its version folder. */
function specsOf(
  p: StartupParts,
  current: Loaded,
  version: number,
): ReturnType<typeof toWorkerSpecs> {
  const dir = p.store.versionDir(version);
  return toWorkerSpecs(current, { dir, binaryPath: p.settings.get().trtllmServePath });
}

/**
 * Runs the topology applied last time again, from its version folder: nothing of it runs yet but what was
 * just adopted, so every other worker starts (the service's plan would compare it with itself).
 */
async function restartLastTopology(
  p: StartupParts,
  current: Loaded,
  version: number,
  adopted: LeftoverDecision['adopted'],
): Promise<void> {
  const dir = p.store.versionDir(version);
  const specs = specsOf(p, current, version);
  const names = current.console.workers.map((w) => w.name).filter((n) => !adopted.includes(n));
  try {
    await p.runner.apply({
      plan: { start: names, restart: [], stop: [], unchanged: [], proxyChanged: true },
      next: current,
      specs,
      previous: null,
      dir,
      version,
    });
    const adoptedNote = adopted.length > 0 ? `; adopted ${adopted.join(', ')}` : '';
    p.log(
      'info',
      `topology version ${version} started again: ${names.join(', ') || 'nothing to start'}${adoptedNote}`,
    );
  } catch (err) {
    p.log('error', `the last applied topology did not start: ${errText(err)}`);
  }
}

/** Starts the proxy, the GPUs, and the last topology or the demo; then reads the cluster document. */
export async function startServices(p: StartupParts): Promise<void> {
  // A crash during an apply can leave the current files behind the last version, or half-copied.
  await recoverCurrentTopology(p.store, (m) => p.log('warn', m));
  const files = await p.store.readCurrent();
  const hasFiles = Object.keys(files).length > 0;
  const current = hasFiles ? loadTopology(files).topology : null;
  await p.proxy.start(current?.disagg ?? null);
  const inventory = await p.gpus.start();
  const lastVersion = await p.store.latestVersion();
  const last = current && lastVersion !== null ? { current, version: lastVersion } : null;
  const specs = last ? specsOf(p, last.current, last.version) : [];
  // Before anything spawns: adopt what runs and matches, stop the rest (lifecycle/leftovers.ts).
  const { adopted } = await settleLeftovers({ ...p.leftovers, specs, log: p.log });
  if (last) await restartLastTopology(p, last.current, last.version, adopted);
  if (!current && hasFiles) {
    p.log(
      'warn',
      'the current topology does not parse; nothing was started (fix it in the topology editor)',
    );
  }
  // Only on a really first start: a topology whose files no longer parse is left for the user to fix.
  const isDemoWanted = p.isDemo || (p.isDemoOnFirstStartWithoutGpus && inventory.simulated);
  if (isDemoWanted && !hasFiles) {
    const demo = await p.workers.demoFiles();
    await p.controller.executor.runCurrent((s) => ({
      kind: 'applyConfig',
      files: demo,
      baseTopologyVersion: s.topology.appliedVersion,
      note: 'demo',
    }));
    p.log('info', 'demo topology started: ctx0 + gen0 (simulated) behind the proxy');
  }
  await p.controller.refresh();
}
