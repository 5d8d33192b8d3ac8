// createBackend(deps): the console's composition root, shared by the Electron main process and the headless
// `disagg-console serve` (style-guide §4). It reads as a wiring diagram: each service is its own module with
// an explicit interface and no closure state shared with the others; the startup sequence is
// backend-start.ts, the contract (deps, Backend) backend-deps.ts. dispose() stops every process it started.
// Layer: core (plain Node, never `electron`).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { ClusterChangedEvent } from '../../shared/model/cluster-state';
import { createApiHandlers } from './api-handlers';
import { type Backend, type BackendDeps, consoleLogDir, workerLogDir } from './backend-deps';
import { connectFeeds } from './backend-events';
import {
  createBenchPart,
  createGpuPart,
  createMetricsPart,
  createSupervisorPart,
  createTopologyPart,
} from './backend-parts';
import { startServices } from './backend-start';
import { createEventHub } from './event-hub';
import { type ConsoleLogger, createConsoleLogger } from './logging/console-logger';
import { createMembership } from './membership';
import { createProxyHost } from './proxy-host';
import { createRegistryService } from './registry-service';
import { createSettingsService } from './settings-service';
import { createClusterController } from './state/cluster-controller';
import { createLogStore } from './supervisor/log-store';
import { createWorkerCommands } from './worker-commands';
import { createWorkerRemoval } from './worker-removal';
import { createWorkerViews } from './worker-views';
import { syncWorkerVersions } from './workers/version-sync';
import { createWorkerVersions } from './workers/worker-versions';

export type { Backend, BackendDeps, BackendPlatform } from './backend-deps';
export { consoleLogDir, defaultDataDir, workerLogDir } from './backend-deps';
export type { BackendLog } from './event-hub';

/** The console's log when the embedder gave none; `deps.log` (tests, the CLI) also sees every record. */
function openConsoleLogger(deps: BackendDeps): ConsoleLogger {
  const echo = deps.log;
  return createConsoleLogger({
    dir: consoleLogDir(deps.dataDir),
    level: deps.logLevel,
    echo: echo === undefined ? undefined : (r) => echo(r.level, r.msg, r.fields),
  });
}

/** Creates the backend and starts it: proxy, GPU inventory, metrics; the demo or the last applied topology. */
export async function createBackend(deps: BackendDeps): Promise<Backend> {
  const { dataDir } = deps;
  mkdirSync(dataDir, { recursive: true });
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? openConsoleLogger(deps);
  const log = logger.forComponent('backend');
  const hub = createEventHub(logger.forComponent('events'));
  const settings = createSettingsService(dataDir, logger.forComponent('settings'));
  // Workers a crashed console left: settled (adopted or stopped) at start, see lifecycle/leftovers.ts.
  const pidPath = join(dataDir, 'console.pid');

  // Workers and the proxy in front of them.
  const logStore = createLogStore({ dir: workerLogDir(dataDir) });
  const supervisor = createSupervisorPart(
    deps,
    settings,
    logStore,
    pidPath,
    logger.forComponent('supervisor'),
  );
  const proxy = createProxyHost({
    port: deps.proxyPort ?? settings.get().proxyPort,
    env,
    log: logger.forComponent('proxy-host'),
  });
  const proxyPort = (): number => proxy.port;
  const registry = createRegistryService({
    dataDir,
    env,
    log: logger.forComponent('registry'),
    etcdBinary: deps.etcdBinary,
    etcdEndpointSetting: () => settings.get().etcdEndpoint,
    proxyPort,
  });
  const membership = createMembership({ supervisor, proxy, remote: () => registry.remote() });
  const removal = createWorkerRemoval({ supervisor, membership, proxy, registry, log });
  // Each worker's TensorRT-LLM release: shown in its row, and the proxy speaks the oldest one's dialect.
  const versions = createWorkerVersions({
    setting: () => settings.get().trtllmVersion ?? 'auto',
  });
  const { views, view } = createWorkerViews(supervisor, registry, removal, (url) =>
    versions.of(url),
  );
  // Each factory below declares (and takes from this set) only the services it uses.
  const core = {
    dataDir,
    hub,
    log,
    consoleLog: logger,
    settings,
    logStore,
    supervisor,
    proxy,
    registry,
    membership,
    removal,
    views,
    view,
  };

  // Measurements.
  const { metrics, requestLog } = createMetricsPart({
    ...core,
    pollIntervalMs: deps.pollIntervalMs,
  });
  const gpus = createGpuPart(deps, settings, supervisor, metrics, log);

  // The topology, the worker commands, and the cluster document with its command API.
  const { store, runner, topology } = createTopologyPart(core);
  const workers = createWorkerCommands({
    ...core,
    topology,
    firstWorkerPort: deps.firstWorkerPort ?? 8001,
  });
  const controller = await createClusterController({
    ...core,
    topology,
    workers,
    proxyPort,
    publish: (event: ClusterChangedEvent) => hub.emit('cluster:changed', event),
  });

  // The console API and its live feeds.
  const bench = createBenchPart(dataDir, hub, proxy, settings, views, controller);
  const services = { ...core, gpus, metrics, requestLog, topology, controller, bench };
  const api = createApiHandlers(services);
  const disconnect = connectFeeds({
    ...services,
    versions,
    syncVersions: () => syncWorkerVersions({ versions, membership, supervisor, proxy, settings }),
    registryPollMs: deps.pollIntervalMs ?? 3000,
  });

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
    if (deps.logger === undefined) logger.close();
  };
  try {
    await startServices({
      ...services,
      log: logger.forComponent('lifecycle'),
      store,
      runner,
      workers,
      leftovers: { pidPath, ownerTag: dataDir, supervisor, mode: deps.leftovers ?? 'adopt' },
      isDemo: deps.isDemo === true,
      isDemoOnFirstStartWithoutGpus: deps.isDemoOnFirstStartWithoutGpus === true,
    });
  } catch (err) {
    await disposeParts();
    throw err;
  }
  let disposing: Promise<void> | null = null;
  return {
    api,
    onEvent: hub.onEvent,
    get proxyUrl() {
      return proxy.url;
    },
    dataDir,
    dispose: () => (disposing ??= disposeParts()),
  };
}
