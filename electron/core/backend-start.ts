// The backend's startup sequence, in one place (crash-safety hooks in here): what a crashed console left
// running, then the proxy, the GPU inventory, the topology applied last time started again (or, on a really
// first start, the demo), and the cluster document read in. Layer: core.

import { loadTopology } from '../../shared/logic/load-topology';
import { type BackendLog, errText } from './event-hub';
import type { GpuInventory } from './gpu/gpu-inventory';
import type { ProxyHost } from './proxy-host';
import type { SettingsService } from './settings-service';
import type { ClusterController } from './state/cluster-controller';
import { readLeftovers, stopLeftover } from './supervisor/pid-file';
import type { TopologyApplier } from './topology/topology-service';
import type { TopologyStore } from './topology/topology-store';
import { toWorkerSpecs } from './topology/worker-specs';
import type { WorkerCommands } from './worker-commands';

/** Reports (or, with 'stop', stops) the workers a crashed console left running, from its pid file. */
export async function handleLeftovers(
  pidPath: string,
  mode: 'report' | 'stop',
  log: BackendLog,
): Promise<void> {
  try {
    const left = readLeftovers(pidPath);
    if (!left || left.consoleAlive) return;
    const running = left.workers.filter((w) => w.state === 'running');
    if (running.length === 0) return;
    if (mode === 'stop') {
      // Only processes whose pid and start time still match the pid file are signalled (pid-file.ts).
      for (const w of running)
        {log(
          'info',
          `stopping ${w.worker.id} left by a previous console: ${await stopLeftover(w.worker, 10_000)}`,
        );}
      return;
    }
    const names = running
      .map((w) => `${w.worker.id} (pid ${w.worker.pid}, port ${w.worker.port})`)
      .join(', ');
    log(
      'warn',
      `a previous console left ${running.length} worker(s) running: ${names}; start with --stop-leftovers to stop them`,
    );
  } catch (err) {
    log('warn', errText(err));
  }
}

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
  /** Start the demo topology when none was ever applied. */
  isDemo: boolean;
  /** Also start the demo on a first start without NVIDIA GPUs. */
  isDemoOnFirstStartWithoutGpus: boolean;
}

/** Runs the topology applied last time again, from its version folder: nothing runs yet, so every worker starts. */
async function restartLastTopology(
  p: StartupParts,
  current: NonNullable<ReturnType<typeof loadTopology>['topology']>,
  version: number,
): Promise<void> {
  const dir = p.store.versionDir(version);
  const specs = toWorkerSpecs(current, { dir, binaryPath: p.settings.get().trtllmServePath });
  const names = current.console.workers.map((w) => w.name);
  try {
    await p.runner.apply({
      plan: { start: names, restart: [], stop: [], unchanged: [], proxyChanged: true },
      next: current,
      specs,
      previous: null,
      dir,
      version,
    });
    p.log('info', `topology version ${version} started again: ${names.join(', ')}`);
  } catch (err) {
    p.log('error', `the last applied topology did not start: ${errText(err)}`);
  }
}

/** Starts the proxy, the GPUs, and the last topology or the demo; then reads the cluster document. */
export async function startServices(p: StartupParts): Promise<void> {
  const files = await p.store.readCurrent();
  const hasFiles = Object.keys(files).length > 0;
  const current = hasFiles ? loadTopology(files).topology : null;
  await p.proxy.start(current?.disagg ?? null);
  const inventory = await p.gpus.start();
  const lastVersion = await p.store.latestVersion();
  if (current && lastVersion !== null) await restartLastTopology(p, current, lastVersion);
  if (!current && hasFiles)
    {p.log(
      'warn',
      'the current topology does not parse; nothing was started (fix it in the topology editor)',
    );}
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
