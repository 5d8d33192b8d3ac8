// createBackend(deps): the console's composition root, shared by the Electron main process and the headless
// `disagg-console serve` (style-guide §4). It reads as a wiring diagram: each service is its own module with
// an explicit interface (settings, supervisor, proxy host, registry, membership, metrics, GPUs, topology,
// worker commands, the cluster document and its commands, bench, API handlers); nothing is shared through
// closure state here. The startup sequence is backend-start.ts. dispose() stops every process it started.
// Layer: core (plain Node, never `electron`).

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ApiHandlers, OnApiEvent } from '../../shared/api/contract';
import type { RestartPolicy } from '../../shared/logic/restart-policy';
import { normalizeUrl } from '../../shared/logic/worker-url';
import { createApiHandlers } from './api-handlers';
import { connectFeeds } from './backend-events';
import { handleLeftovers, startServices } from './backend-start';
import { createBenchService, gpuProfileForName } from './bench-service';
import { type BackendLog, createEventHub, errText } from './event-hub';
import { createGpuInventory } from './gpu/gpu-inventory';
import type { CommandRunner } from './gpu/nvidia-smi-runner';
import { createMembership } from './membership';
import { createMetricsService } from './metrics/metrics-service';
import { RequestLog } from './metrics/request-log';
import { createProxyHost } from './proxy-host';
import { appliedOf, createRegistryService } from './registry-service';
import { createSettingsService } from './settings-service';
import { createClusterController } from './state/cluster-controller';
import { createFetchHealthProbe } from './supervisor/health-probe';
import { createLogStore } from './supervisor/log-store';
import { createPidFile } from './supervisor/pid-file';
import { createPortAllocator } from './supervisor/port-allocator';
import type { ProcessLauncher } from './supervisor/process-launcher';
import { createWorkerSupervisor, type SupervisorClock } from './supervisor/worker-supervisor';
import { createTopologyRunner } from './topology-runner';
import { TopologyService } from './topology/topology-service';
import { TopologyStore } from './topology/topology-store';
import { createWorkerCommands } from './worker-commands';
import { createWorkerRemoval } from './worker-removal';
import { localView, remoteView, topologyLabelOf } from './worker-views';

export type { BackendLog } from './event-hub';

/** Platform adapters (Electron passes its own; headless ones report what is not supported). */
export interface BackendPlatform {
  /** 'electron' or 'headless', shown in logs. */
  name: string;
}

/** What createBackend needs. Everything but dataDir has a real default. */
export interface BackendDeps {
  dataDir: string;
  platform?: BackendPlatform;
  launcher?: ProcessLauncher;
  clock?: SupervisorClock;
  log?: BackendLog;
  /** The environment workers inherit (default process.env). */
  env?: Record<string, string | undefined>;
  /** bin/disagg-console.mjs, which runs `sim-worker` for simulated workers. */
  cliScript?: string;
  /** Node for simulated workers (default process.execPath). */
  nodeBinary?: string;
  /** The proxy port; wins over the setting (0 = a free port). */
  proxyPort?: number;
  /** Start the demo topology (1 context + 1 generation simulated worker) when none is applied yet. */
  isDemo?: boolean;
  /** Also start the demo on a first start without NVIDIA GPUs (what `serve` does). */
  isDemoOnFirstStartWithoutGpus?: boolean;
  isGpuSimulationForced?: boolean;
  gpuRunner?: CommandRunner;
  nvidiaSmiPath?: string;
  gpuPollIntervalMs?: number;
  /** Restart policy overrides for every worker (tests: short timeouts). */
  policy?: Partial<RestartPolicy>;
  /** The etcd binary for the embedded etcd (default `etcd` on PATH, then /usr/bin/etcd). */
  etcdBinary?: string;
  /** First port tried for a new worker (default 8001, as upstream's examples). */
  firstWorkerPort?: number;
  /** Workers a crashed console left running (from its pid file): 'report' them (default) or 'stop' them. */
  leftovers?: 'report' | 'stop';
  /** Poll period of the workers' /metrics and the registry. */
  pollIntervalMs?: number;
}

/** The backend: the API handlers, events, and shutdown. */
export interface Backend {
  api: ApiHandlers;
  onEvent: OnApiEvent;
  /** Where the LLM proxy listens (`http://127.0.0.1:<port>`). */
  readonly proxyUrl: string;
  readonly dataDir: string;
  /** Stops every worker this console started, the proxy, etcd and the timers. */
  dispose(): Promise<void>;
}

/** ~/.local/share/disagg-console, or $XDG_DATA_HOME/disagg-console. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env, home: string = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(home, '.local', 'share'), 'disagg-console');
}

const SIM_READY_TIMEOUT_MS = 60_000;

/** Creates the backend and starts it: proxy, GPU inventory, metrics; the demo or the last applied topology. */
export async function createBackend(deps: BackendDeps): Promise<Backend> {
  const { dataDir } = deps;
  mkdirSync(dataDir, { recursive: true });
  const env = deps.env ?? process.env;
  const log: BackendLog = deps.log ?? ((level, message) => process.stderr.write(`[console] ${level} ${message}\n`));
  const hub = createEventHub(log);
  const settings = createSettingsService(dataDir, log);
  const pidPath = join(dataDir, 'console.pid');
  await handleLeftovers(pidPath, deps.leftovers ?? 'report', log);

  const logStore = createLogStore({ dir: join(dataDir, 'logs') });
  const readyTimeoutMs = (isSim: boolean): number => (isSim ? Math.min(settings.get().readyTimeoutMs, deps.policy?.readyTimeoutMs ?? SIM_READY_TIMEOUT_MS) : (deps.policy?.readyTimeoutMs ?? settings.get().readyTimeoutMs));
  const supervisor = createWorkerSupervisor({
    logStore,
    commandOptions: { baseEnv: env, nodeBinary: deps.nodeBinary ?? process.execPath, cliScript: deps.cliScript ?? fileURLToPath(new URL('../../bin/disagg-console.mjs', import.meta.url)), trtllmServeBinary: settings.get().trtllmServePath ?? undefined },
    launcher: deps.launcher,
    clock: deps.clock,
    ports: createPortAllocator(),
    probe: createFetchHealthProbe(),
    policy: deps.policy,
    policyFor: (spec) => ({ readyTimeoutMs: readyTimeoutMs(spec.engine === 'simulated') }),
    pidFile: createPidFile(pidPath),
    onUnexpectedError: (err) => log('error', `supervisor: ${errText(err)}`),
  });
  const isLocal = (id: string): boolean => supervisor.list().some((s) => s.id === id);

  const proxy = createProxyHost({ port: deps.proxyPort ?? settings.get().proxyPort, env, log });
  const registry = createRegistryService({ dataDir, env, log, etcdEndpointSetting: () => settings.get().etcdEndpoint, proxyPort: () => proxy.port, etcdBinary: deps.etcdBinary });
  const membership = createMembership({ supervisor, proxy, remote: () => registry.remote() });
  const removal = createWorkerRemoval({ supervisor, membership, proxy, registry, log });
  const view = (id: string) => (isLocal(id) ? localView(supervisor, supervisor.status(id), removal.isDrained(id)) : remoteView(registry.remote().find((r) => r.id === id) ?? { id, role: 'generation', url: '', model: null, isHealthy: false, lastSeenMs: 0 }));
  const views = () => [...supervisor.list().map((s) => localView(supervisor, s, removal.isDrained(s.id))), ...registry.remote().map(remoteView)];

  const workerIdOf = (url: string): string | null => membership.localUrls().get(normalizeUrl(url)) ?? registry.remote().find((r) => r.url === normalizeUrl(url))?.id ?? null;
  const metrics = createMetricsService({ historyDir: join(dataDir, 'metrics'), workerIdOf, pollWorkers: () => views().filter((v) => v.status.state === 'ready' || v.status.state === 'degraded').map((v) => ({ id: v.id, url: v.url })), pollIntervalMs: deps.pollIntervalMs, onTick: (tick) => hub.emit('metrics:tick', tick), onError: (err) => log('warn', `metrics: ${errText(err)}`) });
  const requestLog = new RequestLog({ workerIdOf, onRecorded: (event) => hub.emit('requests:recorded', event) });
  proxy.onRecords((records) => {
    metrics.addRecords(records);
    requestLog.add(records);
  });
  const s0 = settings.get();
  // A simulated GPU is as busy as the workers on it: their requests in flight from /metrics.
  const gpuLoad = (gpuIndex: number): number => Math.max(0, ...(supervisor.gpuHolders()[String(gpuIndex)] ?? []).map((h) => { const it = metrics.latestIteration()[h.workerId]; return it ? Math.min(1, ((it.activeRequests ?? 0) + (it.queuedRequests ?? 0)) / 8) : 0; }));
  const gpus = createGpuInventory({ nvidiaSmiPath: deps.nvidiaSmiPath, run: deps.gpuRunner, pollIntervalMs: deps.gpuPollIntervalMs, isSimulationForced: deps.isGpuSimulationForced, simulatedCount: s0.simulatedGpuCount, simulatedModel: s0.simulatedGpuModel, holders: () => supervisor.gpuHolders(), loadOf: gpuLoad, onError: (err) => log('debug', `nvidia-smi: ${errText(err)}`) });

  const store = new TopologyStore({ dataDir });
  const runner = createTopologyRunner({
    supervisor,
    removeWorker: async (id) => void (isLocal(id) ? await removal.remove(id) : undefined),
    prepare: (request) => registry.ensureEtcd(appliedOf(request.next)),
    onApplied: async ({ next }) => {
      membership.setApplied(appliedOf(next));
      await proxy.reloadIfChanged(next.disagg);
      await registry.refresh(membership.applied(), new Set(membership.localUrls().keys()), membership.drained()).catch((err: unknown) => log('warn', `registry: ${errText(err)}`));
      membership.sync();
    },
    log: (m) => log('info', m),
  });
  const topology = new TopologyService({ store, applier: runner, extraOwnedPorts: () => [proxy.port], emit: (event) => hub.emit('topology:applied', event), binaryPath: () => settings.get().trtllmServePath });
  const workers = createWorkerCommands({ supervisor, topology, membership, registry, removal, proxy, settings, view, firstWorkerPort: deps.firstWorkerPort ?? 8001 });
  const controller = await createClusterController({ dataDir, topology, workers, views, proxyPort: () => proxy.port, publish: (event) => hub.emit('cluster:changed', event), log: (m) => log('warn', m) });

  const bench = createBenchService({
    dataDir,
    emit: hub.emit,
    proxyUrl: () => proxy.url,
    currentModel: () => supervisor.list().map((s) => supervisor.spec(s.id).model)[0] ?? null,
    topologyLabel: () => topologyLabelOf(views()),
    calibrationTarget: () => { const ready = views().filter((v) => v.origin === 'local' && v.status.state === 'ready'); const v = ready.find((x) => x.role === 'generation') ?? ready[0]; return v?.spec ? { url: v.url, model: v.spec.model } : null; },
    defaultGpu: () => gpuProfileForName(settings.get().simulatedGpuModel),
    applyLayout: (layout) => controller.applyLayout(layout),
  });
  const api = createApiHandlers({ supervisor, logStore, gpus, topology, controller, registry, membership, metrics, requestLog, proxy, settings, bench, views });
  const disconnect = connectFeeds({ hub, supervisor, logStore, gpus, metrics, membership, registry, controller, view, log, registryPollMs: deps.pollIntervalMs ?? 3000 });

  const disposeParts = async (): Promise<void> => {
    await bench.dispose();
    disconnect();
    gpus.stop();
    await supervisor.dispose();
    metrics.dispose();
    requestLog.dispose();
    await proxy.stop();
    await registry.stop();
    logStore.close();
  };
  try {
    await startServices({ store, runner, proxy, gpus, workers, controller, settings, log, isDemo: deps.isDemo === true, isDemoOnFirstStartWithoutGpus: deps.isDemoOnFirstStartWithoutGpus === true });
  } catch (err) {
    await disposeParts();
    throw err;
  }
  let disposing: Promise<void> | null = null;
  return { api, onEvent: hub.onEvent, get proxyUrl() { return proxy.url; }, dataDir, dispose: () => (disposing ??= disposeParts()) };
}
