// createBackend(deps): the console's composition root, shared by the Electron main process and the headless
// `disagg-console serve` (style-guide §4). It reads as a wiring diagram: each service is its own module with
// an explicit interface and no closure state shared with the others; the startup sequence is
// backend-start.ts, the contract (deps, Backend) backend-deps.ts. dispose() stops every process it started.
// Layer: core (plain Node, never `electron`).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { ClusterChangedEvent } from '../../shared/model/cluster-state';
import { createApiHandlers } from './api-handlers';
import type { Backend, BackendDeps } from './backend-deps';
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
import { createConsoleLogger } from './logging/console-logger';
import { createMembership } from './membership';
import { createProxyHost } from './proxy-host';
import { createRegistryService } from './registry-service';
import { createSettingsService } from './settings-service';
import { createClusterController } from './state/cluster-controller';
import { createLogStore } from './supervisor/log-store';
import { createWorkerCommands } from './worker-commands';
import { createWorkerRemoval } from './worker-removal';
import { createWorkerViews } from './worker-views';

export type { Backend, BackendDeps, BackendPlatform } from './backend-deps';
export { defaultDataDir } from './backend-deps';
export type { BackendLog } from './event-hub';

/** Creates the backend and starts it: proxy, GPU inventory, metrics; the demo or the last applied topology. */
export async function createBackend(deps: BackendDeps): Promise<Backend> {
  const { dataDir } = deps;
  mkdirSync(dataDir, { recursive: true });
  const env = deps.env ?? process.env;
  const echo = deps.log;
  const logger =
    deps.logger ??
    createConsoleLogger({
      dir: join(dataDir, 'logs'),
      level: deps.logLevel,
      echo: echo === undefined ? undefined : (r) => echo(r.level, r.msg, r.fields),
    });
  const log = logger.forComponent('backend');
  const hub = createEventHub(logger.forComponent('events'));
  const settings = createSettingsService(dataDir, logger.forComponent('settings'));
  // Workers a crashed console left: settled (adopted or stopped) at start, see lifecycle/leftovers.ts.
  const pidPath = join(dataDir, 'console.pid');

  // Workers and the proxy in front of them.
  const logStore = createLogStore({ dir: join(dataDir, 'logs') });
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
  const etcdEndpointSetting = (): string | null => settings.get().etcdEndpoint;
  const proxyPort = (): number => proxy.port;
  const registry = createRegistryService({
    dataDir,
    env,
    log: logger.forComponent('registry'),
    etcdBinary: deps.etcdBinary,
    etcdEndpointSetting,
    proxyPort,
  });
  const membership = createMembership({ supervisor, proxy, remote: () => registry.remote() });
  const removal = createWorkerRemoval({ supervisor, membership, proxy, registry, log });
  const { views, view } = createWorkerViews(supervisor, registry, removal);
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
  const publish = (event: ClusterChangedEvent): void => hub.emit('cluster:changed', event);
  const controller = await createClusterController({
    ...core,
    topology,
    workers,
    proxyPort,
    publish,
  });

  // The console API and its live feeds.
  const bench = createBenchPart(dataDir, hub, proxy, settings, views, controller);
  const services = { ...core, gpus, metrics, requestLog, topology, controller, bench };
  const api = createApiHandlers(services);
  const disconnect = connectFeeds({ ...services, registryPollMs: deps.pollIntervalMs ?? 3000 });

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
    const isDemoOnFirstStartWithoutGpus = deps.isDemoOnFirstStartWithoutGpus === true;
    await startServices({
      ...services,
      log: logger.forComponent('lifecycle'),
      store,
      runner,
      workers,
      leftovers: { pidPath, ownerTag: dataDir, supervisor, mode: deps.leftovers ?? 'adopt' },
      isDemo: deps.isDemo === true,
      isDemoOnFirstStartWithoutGpus,
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
