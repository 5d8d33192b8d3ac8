// Factories for the backend's larger services, each built from explicit inputs (no shared closure state):
// the worker supervisor with its policies, the metrics with the request log fed by the proxy's records, the
// GPU inventory with its simulated load, the topology store, runner and service, and the bench service.
// createBackend (backend.ts) wires their results together. Layer: core.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { normalizeUrl } from '../../shared/logic/worker-url';
import type { WorkerView } from '../../shared/model/worker-view';
import type { BackendDeps } from './backend-deps';
import { type BenchService, createBenchService, gpuProfileForName } from './bench-service';
import { type BackendLog, errText, type EventHub } from './event-hub';
import { createGpuInventory, type GpuInventory } from './gpu/gpu-inventory';
import type { ClusterMembership } from './membership';
import { createMetricsService, type MetricsService } from './metrics/metrics-service';
import { RequestLog } from './metrics/request-log';
import type { ProxyHost } from './proxy-host';
import { appliedOf, type RegistryService } from './registry-service';
import type { SettingsService } from './settings-service';
import type { ClusterController } from './state/cluster-controller';
import { createFetchHealthProbe } from './supervisor/health-probe';
import type { LogStore } from './supervisor/log-store';
import { createPidFile } from './supervisor/pid-file';
import { createPortAllocator } from './supervisor/port-allocator';
import { createWorkerSupervisor, type WorkerSupervisor } from './supervisor/worker-supervisor';
import type { TopologyApplier } from './topology/topology-service';
import { TopologyService } from './topology/topology-service';
import { TopologyStore } from './topology/topology-store';
import { createTopologyRunner } from './topology-runner';
import type { WorkerRemoval } from './worker-removal';
import { topologyLabelOf } from './worker-views';

const SIM_READY_TIMEOUT_MS = 60_000;

/** The supervisor: simulated workers get a short ready bound of their own, real ones the setting. */
export function createSupervisorPart(
  deps: BackendDeps,
  settings: SettingsService,
  logStore: LogStore,
  pidPath: string,
  log: BackendLog,
): WorkerSupervisor {
  const readyTimeoutMs = (isSim: boolean): number =>
    isSim
      ? Math.min(settings.get().readyTimeoutMs, deps.policy?.readyTimeoutMs ?? SIM_READY_TIMEOUT_MS)
      : (deps.policy?.readyTimeoutMs ?? settings.get().readyTimeoutMs);
  const cliScript =
    deps.cliScript ?? fileURLToPath(new URL('../../bin/disagg-console.mjs', import.meta.url));
  return createWorkerSupervisor({
    logStore,
    commandOptions: {
      baseEnv: deps.env ?? process.env,
      nodeBinary: deps.nodeBinary ?? process.execPath,
      cliScript,
      trtllmServeBinary: settings.get().trtllmServePath ?? undefined,
    },
    launcher: deps.launcher,
    clock: deps.clock,
    ports: createPortAllocator(),
    probe: createFetchHealthProbe(),
    policy: deps.policy,
    policyFor: (spec) => ({ readyTimeoutMs: readyTimeoutMs(spec.engine === 'simulated') }),
    pidFile: createPidFile(pidPath),
    ownerTag: deps.dataDir,
    onUnexpectedError: (err) => log('error', `unexpected error: ${errText(err)}`, { err }),
  });
}

/** What the metrics part needs to name workers and find the ones to poll. */
export interface MetricsPartInputs {
  dataDir: string;
  hub: EventHub;
  proxy: ProxyHost;
  membership: ClusterMembership;
  registry: RegistryService;
  views: () => WorkerView[];
  pollIntervalMs?: number;
  log: BackendLog;
}

/** Metrics and the recent-request log, both fed by the proxy's records. */
export function createMetricsPart(p: MetricsPartInputs): {
  metrics: MetricsService;
  requestLog: RequestLog;
} {
  const workerIdOf = (url: string): string | null => {
    const u = normalizeUrl(url);
    return (
      p.membership.localUrls().get(u) ?? p.registry.remote().find((r) => r.url === u)?.id ?? null
    );
  };
  const isServing = (v: WorkerView): boolean =>
    v.status.state === 'ready' || v.status.state === 'degraded';
  const metrics = createMetricsService({
    historyDir: join(p.dataDir, 'metrics'),
    workerIdOf,
    pollWorkers: () =>
      p
        .views()
        .filter(isServing)
        .map((v) => ({ id: v.id, url: v.url })),
    pollIntervalMs: p.pollIntervalMs,
    onTick: (tick) => p.hub.emit('metrics:tick', tick),
    onError: (err) => p.log('warn', `metrics: ${errText(err)}`),
  });
  // Recent requests for the timelines (O4, G2); worker ids are resolved when a record arrives.
  const requestLog = new RequestLog({
    workerIdOf,
    onRecorded: (event) => p.hub.emit('requests:recorded', event),
  });
  p.proxy.onRecords((records) => {
    metrics.addRecords(records);
    requestLog.add(records);
  });
  return { metrics, requestLog };
}

/** The GPU inventory; a simulated GPU is as busy as the workers on it (their requests in flight, from /metrics). */
export function createGpuPart(
  deps: BackendDeps,
  settings: SettingsService,
  supervisor: WorkerSupervisor,
  metrics: MetricsService,
  log: BackendLog,
): GpuInventory {
  const loadOf = (gpuIndex: number): number => {
    const latest = metrics.latestIteration();
    const loads = (supervisor.gpuHolders()[String(gpuIndex)] ?? []).map((h) => {
      const it = latest[h.workerId];
      return it ? Math.min(1, ((it.activeRequests ?? 0) + (it.queuedRequests ?? 0)) / 8) : 0;
    });
    return Math.max(0, ...loads);
  };
  const { simulatedGpuCount, simulatedGpuModel } = settings.get();
  return createGpuInventory({
    nvidiaSmiPath: deps.nvidiaSmiPath,
    run: deps.gpuRunner,
    pollIntervalMs: deps.gpuPollIntervalMs,
    isSimulationForced: deps.isGpuSimulationForced,
    simulatedCount: simulatedGpuCount,
    simulatedModel: simulatedGpuModel,
    holders: () => supervisor.gpuHolders(),
    loadOf,
    onError: (err) => log('debug', `nvidia-smi: ${errText(err)}`),
  });
}

/** What the topology part changes when an apply runs. */
export interface TopologyPartInputs {
  dataDir: string;
  hub: EventHub;
  supervisor: WorkerSupervisor;
  removal: WorkerRemoval;
  registry: RegistryService;
  membership: ClusterMembership;
  proxy: ProxyHost;
  settings: SettingsService;
  log: BackendLog;
}

/** The topology store, the runner that applies plans to the supervisor, and the topology service over both. */
export function createTopologyPart(p: TopologyPartInputs): {
  store: TopologyStore;
  runner: TopologyApplier;
  topology: TopologyService;
} {
  const store = new TopologyStore({ dataDir: p.dataDir });
  const isLocal = (id: string): boolean => p.supervisor.list().some((s) => s.id === id);
  const runner = createTopologyRunner({
    supervisor: p.supervisor,
    removeWorker: async (id) => void (isLocal(id) ? await p.removal.remove(id) : undefined),
    // Workers register at startup: the etcd the new topology names must answer first.
    prepare: (request) => p.registry.ensureEtcd(appliedOf(request.next)),
    onApplied: async ({ next }) => {
      p.membership.setApplied(appliedOf(next));
      await p.proxy.reloadIfChanged(next.disagg);
      const local = new Set(p.membership.localUrls().keys());
      await p.registry
        .refresh(p.membership.applied(), local, p.membership.drained())
        .catch((err: unknown) => p.log('warn', `registry: ${errText(err)}`));
      p.membership.sync();
    },
    log: (m) => p.log('info', m),
  });
  const topology = new TopologyService({
    store,
    applier: runner,
    extraOwnedPorts: () => [p.proxy.port],
    emit: (event) => p.hub.emit('topology:applied', event),
    binaryPath: () => p.settings.get().trtllmServePath,
  });
  return { store, runner, topology };
}

/** The load-test and planner service; the planner's apply is a cluster command. */
export function createBenchPart(
  dataDir: string,
  hub: EventHub,
  proxy: ProxyHost,
  settings: SettingsService,
  views: () => WorkerView[],
  controller: ClusterController,
): BenchService {
  const local = (): WorkerView[] => views().filter((v) => v.origin === 'local');
  return createBenchService({
    dataDir,
    emit: hub.emit,
    proxyUrl: () => proxy.url,
    currentModel: () => local()[0]?.spec?.model ?? null,
    topologyLabel: () => topologyLabelOf(local()),
    calibrationTarget: () => {
      const ready = local().filter((v) => v.status.state === 'ready');
      // Calibration measures prefills up to 2,048 tokens: a context worker's template allows 8,192 tokens
      // per batch, a generation worker's only 512 (upstream's gen examples), which refuses such a prefill.
      const v = ready.find((x) => x.role === 'context') ?? ready[0];
      return v?.spec ? { url: v.url, model: v.spec.model } : null;
    },
    defaultGpu: () => gpuProfileForName(settings.get().simulatedGpuModel),
    applyLayout: (layout) => controller.applyLayout(layout),
  });
}
