// The backend's live feeds, wired once: a worker status change updates the proxy membership and the cluster
// document and emits workers:statusChanged (only when something shown changed); log lines are batched per
// worker (tqdm bars print many a second); GPU samples go to the metrics and to gpus:sampled; the registry
// is polled. Returns one disposer for all of it. Layer: core.

import type { LogLine } from '../../shared/model/logs';
import type { WorkerView } from '../../shared/model/worker-view';
import { type BackendLog, errText, type EventHub } from './event-hub';
import type { GpuInventory } from './gpu/gpu-inventory';
import type { ClusterMembership } from './membership';
import type { MetricsService } from './metrics/metrics-service';
import type { RegistryService } from './registry-service';
import type { ClusterController } from './state/cluster-controller';
import type { LogStore } from './supervisor/log-store';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';
import type { WorkerVersions } from './workers/worker-versions';

/** What the feeds connect. */
export interface BackendFeeds {
  hub: EventHub;
  supervisor: WorkerSupervisor;
  logStore: LogStore;
  gpus: GpuInventory;
  metrics: MetricsService;
  membership: ClusterMembership;
  registry: RegistryService;
  controller: ClusterController;
  /** The view of a local worker. */
  view: (id: string) => WorkerView;
  /** Every worker's view. */
  views: () => WorkerView[];
  versions: WorkerVersions;
  /** Detects the releases of new members and gives the proxy their common dialect. */
  syncVersions: () => void;
  log: BackendLog;
  registryPollMs: number;
}

function batchLogLines(hub: EventHub, logStore: LogStore): () => void {
  const pending = new Map<string, LogLine[]>();
  let timer: NodeJS.Timeout | null = null;
  const off = logStore.onLine((workerId, line) => {
    let list = pending.get(workerId);
    if (!list) pending.set(workerId, (list = []));
    list.push(line);
    timer ??= setTimeout(() => {
      timer = null;
      for (const [id, lines] of pending) hub.emit('logs:appended', { workerId: id, lines });
      pending.clear();
    }, 100);
  });
  return () => {
    off();
    if (timer) clearTimeout(timer);
  };
}

/** Connects the feeds; the returned function disconnects them. */
export function connectFeeds(f: BackendFeeds): () => void {
  // The supervisor reports every reducer step (each passing health probe included); the UI gets an event
  // only when something it shows changed.
  const lastEmitted = new Map<string, string>();
  const offStatus = f.supervisor.onDidChangeStatus((status) => {
    f.membership.sync();
    f.syncVersions();
    f.controller.refreshWorkers();
    const key = JSON.stringify(status);
    if (lastEmitted.get(status.id) === key) return;
    lastEmitted.set(status.id, key);
    if (f.supervisor.list().some((s) => s.id === status.id)) {
      f.hub.emit('workers:statusChanged', f.view(status.id));
    }
  });
  // A release detected after the worker became ready: its row shows it, the proxy may change dialect.
  const offVersions = f.versions.onDidChange((url) => {
    f.syncVersions();
    f.controller.refreshWorkers();
    const local = f.views().find((v) => v.url === url && v.origin === 'local');
    if (local) f.hub.emit('workers:statusChanged', local);
  });
  const offLines = batchLogLines(f.hub, f.logStore);
  const offGpus = f.gpus.onDidSample((snap) => {
    f.metrics.addGpuSamples(snap.samples);
    f.hub.emit('gpus:sampled', { atMs: snap.sampledAtMs ?? Date.now(), samples: snap.samples });
  });
  const registryTimer = setInterval(() => {
    f.registry
      .refresh(
        f.membership.applied(),
        new Set(f.membership.localUrls().keys()),
        f.membership.drained(),
      )
      .then(() => {
        f.membership.sync();
        f.syncVersions();
        f.controller.refreshWorkers();
      })
      .catch((err: unknown) => f.log('debug', `registry: ${errText(err)}`));
  }, f.registryPollMs);
  registryTimer.unref();
  return () => {
    clearInterval(registryTimer);
    offStatus();
    offVersions();
    offLines();
    offGpus();
  };
}
