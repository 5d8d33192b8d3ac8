// The console API handlers, one per channel of shared/api/contract.ts, over the backend's services: each
// handler is a one-line delegation; the cluster-changing channels all go through the command executor
// (state/cluster-controller.ts). Layer: core.

import type { ApiHandlers } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import type { WorkerView } from '../../shared/model/worker-view';
import type { BenchService } from './bench-service';
import type { GpuInventory } from './gpu/gpu-inventory';
import type { ConsoleLogger } from './logging/console-logger';
import type { ClusterMembership } from './membership';
import type { MetricsService } from './metrics/metrics-service';
import type { RequestLog } from './metrics/request-log';
import { proxyCostReport } from './proxy-cost-report';
import type { ProxyHost } from './proxy-host';
import type { RegistryService } from './registry-service';
import type { SettingsService } from './settings-service';
import type { ClusterController } from './state/cluster-controller';
import type { LogStore } from './supervisor/log-store';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';
import type { TopologyService } from './topology/topology-service';

/** The services the handlers delegate to. */
export interface ApiServices {
  supervisor: WorkerSupervisor;
  logStore: LogStore;
  /** The console's own log (console:logs). */
  consoleLog: ConsoleLogger;
  gpus: GpuInventory;
  topology: TopologyService;
  controller: ClusterController;
  registry: RegistryService;
  membership: ClusterMembership;
  metrics: MetricsService;
  requestLog: RequestLog;
  proxy: ProxyHost;
  /** The console's data folder (the saved proxy benchmark for proxy:cost). */
  dataDir: string;
  settings: SettingsService;
  bench: BenchService;
  /** Every worker, local and remote. */
  views: () => WorkerView[];
}

/** Every channel's handler. */
export function createApiHandlers(s: ApiServices): ApiHandlers {
  const localOrThrow = (id: string): void => {
    if (!s.supervisor.list().some((w) => w.id === id)) {
      throw new AppError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
    }
  };
  return {
    'gpus:list': () =>
      Promise.resolve({ ...s.gpus.snapshot(), holders: s.supervisor.gpuHolders() }),
    'workers:list': () => Promise.resolve(s.views()),
    'workers:logs': (id, query) => {
      localOrThrow(id);
      return Promise.resolve(s.logStore.query(id, query));
    },
    'console:logs': (query) => Promise.resolve(s.consoleLog.query(query)),
    ...s.topology.handlers(),
    ...s.controller.handlers(),
    'cluster:status': () =>
      Promise.resolve(s.registry.status(s.membership.applied(), s.settings.get().clusterMode)),
    'metrics:snapshot': (query) => Promise.resolve(s.metrics.snapshot(query)),
    'metrics:csv': (query) => Promise.resolve(s.metrics.csv(query)),
    ...s.requestLog.handlers(),
    'proxy:info': () => Promise.resolve(s.proxy.info()),
    'proxy:cost': () => proxyCostReport(s.proxy, s.dataDir),
    'settings:get': () => Promise.resolve(s.settings.get()),
    'settings:set': (patch) => s.settings.set(patch),
    ...s.bench.handlers,
  };
}
