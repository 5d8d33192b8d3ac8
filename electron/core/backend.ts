// createBackend(deps): the console's composition root, shared by the Electron main process and the headless
// `disagg-console serve` (style-guide §4): supervisor, GPU inventory, topology store and its applier, the
// proxy in a worker thread, cluster membership (static urls, etcd metadata mode, disagg_cluster) with remote
// workers, the embedded etcd, metrics, settings, and the console API handlers and events. No module-level
// state: everything lives in the object it returns, and dispose() stops every process it started.
// Layer: core (plain Node, never `electron`).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ApiEventMap, ApiEventName, ApiHandlers, OnApiEvent } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import { parseDisaggConfig } from '../../shared/logic/config-parse';
import { documentToText, setConfigValue } from '../../shared/logic/config-write';
import { decodeWorkerInfo, roleNameOf, workersPrefix } from '../../shared/logic/disagg-cluster-keys';
import type { RestartPolicy } from '../../shared/logic/restart-policy';
import { parseYaml } from '../../shared/logic/yaml-locate';
import type { PlannerLayout } from '../../shared/model/bench';
import type { ClusterStatus, EtcdState, RemoteWorker } from '../../shared/model/cluster';
import type { DisaggClusterConfig, DisaggConfig, MetadataConfig } from '../../shared/model/config';
import type { GpuInventorySnapshot } from '../../shared/model/gpu';
import type { LogLine } from '../../shared/model/logs';
import type { ConsoleSettings, ConsoleSettingsPatch } from '../../shared/model/settings';
import type { ApplyResult, ClusterMode, ConsoleTopology, TopologyFiles, TopologyWorker } from '../../shared/model/topology';
import type { WorkerRole, WorkerSpec, WorkerStatus } from '../../shared/model/worker';
import type { ProxyInfo, WorkerAddRequest, WorkerRemoveOptions, WorkerView } from '../../shared/model/worker-view';
import { createBenchService, gpuProfileForName } from './bench-service';
import type { ClusterStorage } from './cluster/cluster-storage';
import { createClusterStorage } from './cluster/cluster-uri';
import { MetadataClient } from './cluster/metadata-client';
import { type EmbeddedEtcd, ETCD_MISSING_MESSAGE, EtcdStartError, startEmbeddedEtcd } from './etcd/embedded-etcd';
import { confirmedListFromDisk, settingsAfterPatch } from './executable-allowlist';
import { createGpuInventory, type GpuInventory } from './gpu/gpu-inventory';
import type { CommandRunner } from './gpu/nvidia-smi-runner';
import { createMetricsService, type MetricsService } from './metrics/metrics-service';
import { RequestLog } from './metrics/request-log';
import { type ProxyThreadHandle, type ProxyThreadStatus, startProxyInWorkerThread } from './proxy/proxy-thread';
import type { LogLevel, ProxyRequestRecord } from './proxy/types';
import { writeJsonAtomic } from './settings-file';
import { createFetchHealthProbe } from './supervisor/health-probe';
import { createLogStore, type LogStore } from './supervisor/log-store';
import { createPidFile, readLeftovers, stopLeftover } from './supervisor/pid-file';
import { createPortAllocator, probePort } from './supervisor/port-allocator';
import type { ProcessLauncher } from './supervisor/process-launcher';
import { createWorkerSupervisor, type SupervisorClock, type WorkerSupervisor } from './supervisor/worker-supervisor';
import { CONSOLE_FILE, parseConsoleFile, serializeConsoleFile } from './topology/console-file';
import { DISAGG_CONFIG_FILE, type LoadedTopology, loadTopology } from './topology/load-topology';
import { TopologyService } from './topology/topology-service';
import { TopologyStore } from './topology/topology-store';
import { toWorkerSpecs } from './topology/worker-specs';
import { createTopologyRunner } from './topology-runner';

/** Where the backend logs (one line each). */
export type BackendLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

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

/** The settings a fresh console starts with. */
export const DEFAULT_SETTINGS: ConsoleSettings = {
  trtllmServePath: null,
  defaultEngine: 'simulated',
  simulatedGpuCount: 4,
  simulatedGpuModel: 'NVIDIA H100 80GB HBM3',
  // Real models take minutes to load (C2); simulated workers get a short bound of their own.
  readyTimeoutMs: 30 * 60_000,
  clusterMode: 'static',
  etcdEndpoint: null,
  proxyPort: 8000,
  confirmedExecutables: [],
};

const SIM_READY_TIMEOUT_MS = 60_000;
const DEFAULT_MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

/**
 * The `--extra_llm_api_options` a worker gets by default: the KV transfer backend both roles must share, the
 * overlap scheduler off on context workers, iteration stats on so `/metrics` feeds the dashboard
 * (trtllm-protocol.md 2.1, 2.2, 2.4, 4.5).
 */
export function optionsTemplate(role: WorkerRole): string {
  const lines = [
    `# ${role} worker options (--extra_llm_api_options)`,
    ...(role === 'context' ? ['disable_overlap_scheduler: true'] : []),
    'cache_transceiver_config:',
    '  backend: UCX',
    '  max_tokens_in_buffer: 8192',
    'enable_iter_perf_stats: true',
  ];
  return lines.join('\n') + '\n';
}

/** The disagg_config.yaml of a console topology: the proxy on loopback and the workers' urls. */
export function disaggConfigText(port: number, ctxUrls: string[], genUrls: string[]): string {
  const list = (urls: string[]): string => `[${urls.map((u) => JSON.stringify(u)).join(', ')}]`;
  return [
    'hostname: 127.0.0.1',
    `port: ${port}`,
    'backend: pytorch',
    'context_servers:',
    `  num_instances: ${ctxUrls.length}`,
    `  urls: ${list(ctxUrls)}`,
    'generation_servers:',
    `  num_instances: ${genUrls.length}`,
    `  urls: ${list(genUrls)}`,
    '',
  ].join('\n');
}

/** Loopback names folded to 127.0.0.1 so `localhost:8001` and `127.0.0.1:8001` are one worker. */
export function normalizeUrl(url: string): string {
  const m = /^(?:https?:\/\/)?\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(url.trim());
  if (!m) return url;
  const host = (m[1] ?? '').toLowerCase();
  const local = host === 'localhost' || host === '0.0.0.0' || host === '::1' || host === '::' || host === '127.0.0.1';
  return `http://${local ? '127.0.0.1' : host}:${m[2]}`;
}

function workerUrlOf(spec: Pick<WorkerSpec, 'host' | 'port'>): string {
  return normalizeUrl(`http://${spec.host}:${spec.port}`);
}

function hostPortOf(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readSettings(path: string, log: BackendLog): ConsoleSettings {
  if (!existsSync(path)) return { ...DEFAULT_SETTINGS };
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConsoleSettings>;
    return { ...DEFAULT_SETTINGS, ...raw, confirmedExecutables: confirmedListFromDisk(raw, Date.now()) };
  } catch (err) {
    log('warn', `settings file ${path} is unreadable, using defaults: ${errText(err)}`);
    return { ...DEFAULT_SETTINGS };
  }
}

/** A proxy config without static urls: the backend owns membership in static and metadata modes. */
function proxyConfigOf(cfg: DisaggConfig | null, port: number): DisaggConfig {
  const base = cfg ?? (parseDisaggConfig(disaggConfigText(port, ['127.0.0.1:1'], ['127.0.0.1:2']), DISAGG_CONFIG_FILE) as { ok: true; value: DisaggConfig }).value;
  return {
    ...base,
    hostname: '127.0.0.1',
    port,
    context_servers: { ...base.context_servers, urls: [], num_instances: 0 },
    generation_servers: { ...base.generation_servers, urls: [], num_instances: 0 },
  };
}

/** What a proxy restart depends on: the config without urls (adding a worker must not restart it). */
function proxyKeyOf(cfg: DisaggConfig): string {
  return JSON.stringify(proxyConfigOf(cfg, 0));
}

/** Creates the backend and starts it: proxy, GPU inventory, metrics; the demo or the last applied topology. */
export async function createBackend(deps: BackendDeps): Promise<Backend> {
  const dataDir = deps.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const env = deps.env ?? process.env;
  const log: BackendLog = deps.log ?? ((level, message) => process.stderr.write(`[console] ${level} ${message}\n`));
  const settingsPath = join(dataDir, 'settings.json');
  let settings = readSettings(settingsPath, log);
  const listeners = new Map<ApiEventName, Set<(payload: unknown) => void>>();
  const emit = <E extends ApiEventName>(name: E, payload: ApiEventMap[E]): void => {
    for (const l of [...(listeners.get(name) ?? [])]) {
      try {
        l(payload);
      } catch (err) {
        log('error', `listener of ${name} failed: ${errText(err)}`);
      }
    }
  };
  const onEvent: OnApiEvent = (name, listener) => {
    let set = listeners.get(name);
    if (!set) {
      set = new Set();
      listeners.set(name, set);
    }
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => {
      set.delete(l);
    };
  };

  // ------------------------------------------------------------------ leftovers of a crashed console
  const pidPath = join(dataDir, 'console.pid');
  try {
    const left = readLeftovers(pidPath);
    if (left && !left.consoleAlive) {
      const running = left.workers.filter((w) => w.state === 'running');
      const names = running.map((w) => `${w.worker.id} (pid ${w.worker.pid}, port ${w.worker.port})`).join(', ');
      if (running.length > 0 && deps.leftovers === 'stop') {
        // Only processes whose pid and start time still match the pid file are signalled (pid-file.ts).
        for (const w of running) log('info', `stopping ${w.worker.id} left by a previous console: ${await stopLeftover(w.worker, 10_000)}`);
      } else if (running.length > 0) {
        log('warn', `a previous console left ${running.length} worker(s) running: ${names}; start with --stop-leftovers to stop them`);
      }
    }
  } catch (err) {
    log('warn', errText(err));
  }

  // ------------------------------------------------------------------ supervisor and logs
  const logStore: LogStore = createLogStore({ dir: join(dataDir, 'logs') });
  const ports = createPortAllocator();
  const cliScript = deps.cliScript ?? fileURLToPath(new URL('../../bin/disagg-console.mjs', import.meta.url));
  const supervisor: WorkerSupervisor = createWorkerSupervisor({
    logStore,
    commandOptions: { baseEnv: env, nodeBinary: deps.nodeBinary ?? process.execPath, cliScript, trtllmServeBinary: settings.trtllmServePath ?? undefined },
    launcher: deps.launcher,
    clock: deps.clock,
    ports,
    probe: createFetchHealthProbe(),
    policy: deps.policy,
    policyFor: (spec) => (spec.engine === 'simulated' ? { readyTimeoutMs: Math.min(settings.readyTimeoutMs, deps.policy?.readyTimeoutMs ?? SIM_READY_TIMEOUT_MS) } : { readyTimeoutMs: deps.policy?.readyTimeoutMs ?? settings.readyTimeoutMs }),
    pidFile: createPidFile(pidPath),
    onUnexpectedError: (err) => log('error', `supervisor: ${errText(err)}`),
  });

  // ------------------------------------------------------------------ GPUs
  const gpus: GpuInventory = createGpuInventory({
    nvidiaSmiPath: deps.nvidiaSmiPath,
    run: deps.gpuRunner,
    pollIntervalMs: deps.gpuPollIntervalMs,
    isSimulationForced: deps.isGpuSimulationForced,
    simulatedCount: settings.simulatedGpuCount,
    simulatedModel: settings.simulatedGpuModel,
    holders: () => supervisor.gpuHolders(),
    // A simulated GPU is as busy as the workers on it: their requests in flight from /metrics.
    loadOf: (gpuIndex) => {
      const latest = metrics.latestIteration();
      let load = 0;
      for (const h of supervisor.gpuHolders()[String(gpuIndex)] ?? []) {
        const it = latest[h.workerId];
        if (it) load = Math.max(load, Math.min(1, ((it.activeRequests ?? 0) + (it.queuedRequests ?? 0)) / 8));
      }
      return load;
    },
    onError: (err) => log('debug', `nvidia-smi: ${errText(err)}`),
  });

  // ------------------------------------------------------------------ topology
  const store = new TopologyStore({ dataDir });
  /** What the console keeps of the applied topology (parsed once, when it is applied). */
  type AppliedTopology = { disagg: DisaggConfig; metadata: MetadataConfig | null; mode: ClusterMode };
  const appliedOf = (t: LoadedTopology): AppliedTopology => ({ disagg: t.disagg, metadata: t.metadata, mode: t.console.clusterMode });
  let applied: AppliedTopology | null = null;
  /** Workers being removed: not routed to, not listed as remote. */
  const draining = new Set<string>();

  // ------------------------------------------------------------------ proxy
  let proxy: ProxyThreadHandle | null = null;
  let proxyKey = '';
  let proxyPort = deps.proxyPort ?? settings.proxyPort;
  const recordWaiters = new Set<(records: ProxyRequestRecord[]) => void>();
  let lastMembership = '';
  /** The running proxy thread's state (restarted after a crash, see proxy-thread.ts); shown by proxy:info. */
  let proxyStatus: ProxyThreadStatus | null = null;
  const proxyLog = (level: LogLevel, message: string): void => {
    if (level === 'error' || level === 'warning') log(level === 'warning' ? 'warn' : 'error', `proxy: ${message}`);
  };

  /** Drains and ends the proxy thread; bounded, since a thread that already died never answers. */
  const stopProxy = async (p: ProxyThreadHandle, drainMs: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log('warn', 'the proxy thread did not stop in time');
        resolve();
      }, drainMs + 5000);
    });
    await Promise.race([p.stop(drainMs), bound]);
    clearTimeout(timer);
  };

  const startProxy = async (cfg: DisaggConfig | null): Promise<void> => {
    const config = proxyConfigOf(cfg, proxyPort);
    const start = (port: number): Promise<ProxyThreadHandle> =>
      startProxyInWorkerThread({
        config,
        env: { TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: env.TRTLLM_DISAGG_BENCHMARK_GEN_ONLY },
        overrides: { host: '127.0.0.1', port },
        onLog: proxyLog,
        onStatus: (st) => {
          proxyStatus = st;
        },
      });
    try {
      proxy = await start(proxyPort);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' && !/in use/.test(errText(err))) throw err;
      log('warn', `proxy port ${proxyPort} is in use; the proxy takes a free port instead`);
      proxy = await start(0);
    }
    proxyPort = proxy.port;
    proxyStatus = proxy.status();
    proxyKey = proxyKeyOf(config);
    lastMembership = '';
    proxy.onRecords((records) => {
      metrics.addRecords(records);
      requestLog.add(records);
      for (const w of [...recordWaiters]) w(records);
    });
  };

  // ------------------------------------------------------------------ cluster: etcd and remote workers
  let etcd: EmbeddedEtcd | null = null;
  let etcdStatus: { state: EtcdState; endpoint: string | null; message: string | null } = { state: 'off', endpoint: null, message: null };
  let remote: RemoteWorker[] = [];
  let clusterReady: boolean | null = null;

  /** The etcd endpoint a topology names (metadata_config.yaml, or an etcd:// cluster_uri), null when it needs none. */
  const namedEtcdEndpoint = (t: AppliedTopology | null): string | null => {
    if (!t) return null;
    if (t.mode === 'metadata') return t.metadata ? `http://${t.metadata.hostname}:${t.metadata.port}` : null;
    const uri = t.disagg.disagg_cluster?.cluster_uri;
    if (t.mode === 'disagg_cluster' && uri?.startsWith('etcd://')) return `http://${uri.slice('etcd://'.length).split(',')[0] ?? ''}`;
    return null;
  };
  /** The etcd to use for a topology: the one set in the settings, else the one the topology names. */
  const etcdEndpointOf = (t: AppliedTopology | null): string | null => settings.etcdEndpoint ?? namedEtcdEndpoint(t);

  const isEtcdUp = async (endpoint: string): Promise<boolean> => {
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  };

  /**
   * Makes sure the etcd a topology names answers before its workers start (they register at startup): an
   * external one, or the embedded one on exactly that loopback port, so the files need no edit.
   */
  const ensureEtcd = async (t: AppliedTopology | null): Promise<void> => {
    const endpoint = etcdEndpointOf(t);
    if (endpoint === null) {
      etcdStatus = etcd ? etcd.status() : { state: 'off', endpoint: null, message: null };
      return;
    }
    if (etcd && etcd.endpoint === normalizeUrl(endpoint)) {
      etcdStatus = etcd.status();
      return;
    }
    if (await isEtcdUp(endpoint)) {
      etcdStatus = { state: settings.etcdEndpoint ? 'external' : etcd ? 'embedded' : 'external', endpoint, message: null };
      return;
    }
    const m = /^http:\/\/(127\.0\.0\.1|localhost):(\d+)$/.exec(endpoint);
    if (settings.etcdEndpoint !== null || !m) {
      etcdStatus = { state: 'unavailable', endpoint, message: `etcd at ${endpoint} does not answer` };
      return;
    }
    try {
      etcd = await startEmbeddedEtcd({ dataDir: join(dataDir, 'etcd'), binary: deps.etcdBinary, clientPort: Number(m[2]), env, log: (line) => log('debug', `etcd: ${line}`) });
      etcdStatus = etcd.status();
      log('info', `embedded etcd listening on ${etcd.endpoint}`);
    } catch (err) {
      etcdStatus = err instanceof EtcdStartError ? { state: err.status.state, endpoint: err.status.endpoint, message: err.status.message } : { state: 'unavailable', endpoint, message: errText(err) };
      log('warn', etcdStatus.message ?? ETCD_MISSING_MESSAGE);
    }
  };

  const localUrls = (): Map<string, string> => {
    const out = new Map<string, string>();
    for (const s of supervisor.list()) out.set(workerUrlOf(supervisor.spec(s.id)), s.id);
    return out;
  };

  const probeHealth = async (url: string): Promise<boolean> => {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  };

  /** A client of the metadata server (trtllm/<id> keys) with short deadlines: the console only peeks. */
  const metadataClientOf = (endpoint: string): MetadataClient =>
    new MetadataClient(createClusterStorage(`etcd://${hostPortOf(endpoint)}`, { etcdCallTimeoutMs: 3000 }), {
      ownsStorage: true,
      log: () => undefined,
    });

  /** The applied disagg_cluster's storage: its etcd, or for an http:// cluster the proxy's own endpoints on this console's port. */
  const clusterStorageOf = (cluster: DisaggClusterConfig): ClusterStorage => {
    const uri = cluster.cluster_uri.startsWith('http') ? `http://127.0.0.1:${proxyPort}` : cluster.cluster_uri;
    return createClusterStorage(uri, { httpTimeoutMs: 3000, etcdCallTimeoutMs: 3000 });
  };

  /** Reads the registry of the applied mode; remote = registered by someone other than this console. */
  const refreshRemote = async (): Promise<void> => {
    if (!applied || applied.mode === 'static') {
      remote = [];
      clusterReady = null;
      return;
    }
    const local = localUrls();
    const found: RemoteWorker[] = [];
    if (applied.mode === 'metadata') {
      const endpoint = etcdEndpointOf(applied);
      if (endpoint === null) return;
      const client = metadataClientOf(endpoint);
      try {
        for (const e of await client.listMetadataServers()) {
          const url = normalizeUrl(e.url);
          if (local.has(url)) continue;
          const role = (e.info.server_role ?? e.info.server_type ?? '').toLowerCase();
          if (role !== 'context' && role !== 'generation') continue;
          // Health is checked twice before a key is called dead, as upstream's monitor does (7.1).
          const isHealthy = (await probeHealth(url)) || (await probeHealth(url));
          if (!isHealthy) {
            log('warn', `remote worker ${url} failed two health checks; deleting ${e.key}`);
            await client.deleteKey(e.key).catch((err: unknown) => log('warn', `cannot delete ${e.key}: ${errText(err)}`));
            continue;
          }
          found.push({ id: e.key.slice('trtllm/'.length), role, url, model: e.info.model ?? null, isHealthy, lastSeenMs: Date.now() });
        }
      } finally {
        await client.close();
      }
      clusterReady = null;
    } else {
      const cluster = applied.disagg.disagg_cluster;
      if (!cluster) return;
      const storage = clusterStorageOf(cluster);
      try {
        const entries = await storage.getPrefix(workersPrefix(cluster.cluster_name)).catch(() => ({}));
        let ctx = 0;
        let gen = 0;
        for (const [key, value] of Object.entries(entries)) {
          const info = decodeWorkerInfo(value);
          const roleName = info ? roleNameOf(info.role) : null;
          if (!info || roleName === null) continue;
          if (roleName === 'CONTEXT') ctx++;
          else gen++;
          const url = normalizeUrl(`http://${info.host}:${info.port}`);
          if (local.has(url)) continue;
          found.push({ id: info.worker_id || key, role: roleName === 'CONTEXT' ? 'context' : 'generation', url, model: null, isHealthy: await probeHealth(url), lastSeenMs: Date.now() });
        }
        clusterReady = ctx >= cluster.minimal_instances.context_servers && gen >= cluster.minimal_instances.generation_servers;
      } finally {
        await storage.close();
      }
    }
    remote = found.filter((r) => !draining.has(r.url));
  };

  /** Static and metadata modes: the proxy routes to ready local workers, static urls of others and healthy remote ones. */
  const syncMembership = (): void => {
    if (!proxy || applied?.mode === 'disagg_cluster') return;
    const want: Record<WorkerRole, string[]> = { context: [], generation: [] };
    const local = localUrls();
    for (const s of supervisor.list()) {
      const spec = supervisor.spec(s.id);
      const url = workerUrlOf(spec);
      if ((s.state === 'ready' || s.state === 'degraded') && !draining.has(url)) want[spec.role].push(url);
    }
    if (applied?.mode === 'static') {
      for (const [role, urls] of [['context', applied.disagg.context_servers.urls], ['generation', applied.disagg.generation_servers.urls]] as const) {
        for (const u of urls) {
          const url = normalizeUrl(u);
          if (!local.has(url) && !draining.has(url)) want[role].push(url);
        }
      }
    }
    for (const r of remote) if (r.isHealthy !== false && !draining.has(r.url)) want[r.role].push(r.url);
    const key = JSON.stringify(want);
    if (key === lastMembership) return;
    lastMembership = key;
    proxy.updateMembership({ context: want.context.map(hostPortOf), generation: want.generation.map(hostPortOf) });
  };

  // ------------------------------------------------------------------ metrics
  /** The id of the local or remote worker at a proxy record's worker url; null for an unknown url. */
  const workerIdOf = (url: string): string | null => {
    const u = normalizeUrl(url);
    return localUrls().get(u) ?? remote.find((r) => r.url === u)?.id ?? null;
  };
  const metrics: MetricsService = createMetricsService({
    historyDir: join(dataDir, 'metrics'),
    workerIdOf,
    pollWorkers: () => [
      ...supervisor
        .list()
        .filter((s) => s.state === 'ready' || s.state === 'degraded')
        .map((s) => ({ id: s.id, url: workerUrlOf(supervisor.spec(s.id)) })),
      ...remote.filter((r) => r.isHealthy !== false).map((r) => ({ id: r.id, url: r.url })),
    ],
    pollIntervalMs: deps.pollIntervalMs,
    onTick: (tick) => emit('metrics:tick', tick),
    onError: (err) => log('warn', `metrics: ${errText(err)}`),
  });

  // Recent requests for the timelines (O4, G2); worker ids are resolved when a record arrives.
  const requestLog = new RequestLog({
    workerIdOf,
    onRecorded: (event) => emit('requests:recorded', event),
  });

  // ------------------------------------------------------------------ views and events
  const viewOf = (status: WorkerStatus): WorkerView => {
    const spec = supervisor.spec(status.id);
    return { id: status.id, role: spec.role, url: workerUrlOf(spec), origin: 'local', spec, status };
  };
  const remoteView = (r: RemoteWorker): WorkerView => ({
    id: r.id,
    role: r.role,
    url: r.url,
    origin: 'remote',
    spec: null,
    status: { id: r.id, state: r.isHealthy === false ? 'degraded' : 'ready', pid: null, restarts: 0, lastExit: null, startedAtMs: null, readyAtMs: null, progress: null, nextRestartAtMs: null, message: r.isHealthy === false ? 'health check failed' : null },
  });

  // The supervisor reports every reducer step (each passing health probe included); the UI gets an event only
  // when something it shows changed.
  const lastEmitted = new Map<string, string>();
  const offStatus = supervisor.onDidChangeStatus((status) => {
    syncMembership();
    const key = JSON.stringify(status);
    if (lastEmitted.get(status.id) === key) return;
    lastEmitted.set(status.id, key);
    try {
      emit('workers:statusChanged', viewOf(status));
    } catch {
      // The worker was removed in the same tick; its last status is not listed any more.
    }
  });

  // Log lines are batched per worker: tqdm progress bars print many lines a second.
  const pendingLines = new Map<string, LogLine[]>();
  let logTimer: NodeJS.Timeout | null = null;
  const offLines = logStore.onLine((workerId, line) => {
    let list = pendingLines.get(workerId);
    if (!list) {
      list = [];
      pendingLines.set(workerId, list);
    }
    list.push(line);
    logTimer ??= setTimeout(() => {
      logTimer = null;
      for (const [id, lines] of pendingLines) emit('logs:appended', { workerId: id, lines });
      pendingLines.clear();
    }, 100);
  });

  const offGpus = gpus.onDidSample((snap) => {
    metrics.addGpuSamples(snap.samples);
    emit('gpus:sampled', { atMs: snap.sampledAtMs ?? Date.now(), samples: snap.samples });
  });

  // ------------------------------------------------------------------ safe removal (C4)
  /** The proxy's worker counters; empty when the proxy thread does not answer within 2 s (it never blocks removal). */
  const proxyWorkers = async (): Promise<{ url: string; inFlight: number }[]> => {
    const p = proxy;
    if (!p) return [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), 2000);
    });
    // A thread being restarted answers nothing: no counters, like a silent one.
    const stats = await Promise.race([p.stats().catch(() => null), timeout]);
    clearTimeout(timer);
    return stats?.workers ?? [];
  };

  /** Waits until the requests in flight on url when it left routing have finished (bounded). */
  const drain = async (url: string, inFlight: number, sinceMs: number, timeoutMs: number): Promise<void> => {
    if (inFlight <= 0) return;
    let done = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      function finish(): void {
        clearTimeout(timer);
        recordWaiters.delete(onRecords);
        resolve();
      }
      function onRecords(records: ProxyRequestRecord[]): void {
        for (const r of records) {
          if (r.receivedAt > sinceMs) continue;
          if ([r.ctxWorker, r.genWorker].some((w) => w !== undefined && normalizeUrl(w) === url)) done++;
        }
        if (done >= inFlight) finish();
      }
      recordWaiters.add(onRecords);
    });
  };

  /** Deletes the worker's registry key(s) so no proxy routes to it again (metadata: trtllm/<id>; disagg_cluster: its worker key). */
  const deregister = async (url: string): Promise<void> => {
    if (!applied || applied.mode === 'static') return;
    if (applied.mode === 'metadata') {
      const endpoint = etcdEndpointOf(applied);
      if (endpoint === null) return;
      const client = metadataClientOf(endpoint);
      try {
        for (const e of await client.listMetadataServers()) if (normalizeUrl(e.url) === url) await client.deleteKey(e.key);
      } finally {
        await client.close();
      }
      return;
    }
    const cluster = applied.disagg.disagg_cluster;
    if (!cluster) return;
    const storage = clusterStorageOf(cluster);
    try {
      const entries = await storage.getPrefix(workersPrefix(cluster.cluster_name)).catch(() => ({}));
      for (const [key, value] of Object.entries(entries)) {
        const info = decodeWorkerInfo(value);
        if (info && normalizeUrl(`http://${info.host}:${info.port}`) === url) await storage.delete(key);
      }
    } finally {
      await storage.close();
    }
  };

  const removeSafely = async (id: string, drainTimeoutMs = 30_000): Promise<void> => {
    if (!supervisor.list().some((s) => s.id === id)) return;
    const url = workerUrlOf(supervisor.spec(id));
    const inFlight = (await proxyWorkers()).find((w) => normalizeUrl(w.url) === url)?.inFlight ?? 0;
    const sinceMs = Date.now();
    draining.add(url);
    try {
      // 1. stop routing to it
      syncMembership();
      // 2. drain what it already has, bounded
      await drain(url, inFlight, sinceMs, drainTimeoutMs);
      // 3. delete its registry key
      await deregister(url).catch((err: unknown) => log('warn', `deregistering ${id}: ${errText(err)}`));
      // 4. wait until the proxy has dropped it (bounded)
      for (let i = 0; proxy && i < 50; i++) {
        if (!(await proxyWorkers()).some((w) => normalizeUrl(w.url) === url)) break;
        if (applied?.mode !== 'disagg_cluster') syncMembership();
        await sleep(100);
      }
      // 5. stop the process
      await supervisor.remove(id);
    } finally {
      draining.delete(url);
    }
  };

  // ------------------------------------------------------------------ applying topologies
  const afterApply = async (loaded: LoadedTopology): Promise<void> => {
    applied = appliedOf(loaded);
    if (proxy && proxyKeyOf(loaded.disagg) !== proxyKey) {
      log('info', 'proxy configuration changed: restarting the proxy');
      const old = proxy;
      proxy = null;
      await stopProxy(old, 5000);
      await startProxy(loaded.disagg);
    }
    await refreshRemote().catch((err: unknown) => log('warn', `registry: ${errText(err)}`));
    syncMembership();
  };

  const runner = createTopologyRunner({
    supervisor,
    removeWorker: (id) => removeSafely(id),
    prepare: (request) => ensureEtcd(appliedOf(request.next)),
    onApplied: (request) => afterApply(request.next),
    log: (m) => log('info', m),
  });
  const topology = new TopologyService({
    store,
    applier: runner,
    extraOwnedPorts: () => [proxyPort],
    emit: (event) => emit('topology:applied', event),
    binaryPath: () => settings.trtllmServePath,
  });

  /** Picks a free port for a new worker, avoiding the topology's and the proxy's (upstream examples use 8001 up). */
  const firstWorkerPort = deps.firstWorkerPort ?? 8001;
  const freeWorkerPort = async (taken: Set<number>): Promise<number> => {
    const last = Math.min(65535, firstWorkerPort + 999);
    for (let port = firstWorkerPort; port <= last; port++) {
      if (taken.has(port) || port === proxyPort) continue;
      if ((await probePort('127.0.0.1', port)).free) return port;
    }
    throw new AppError('PORT_IN_USE', `no free port between ${firstWorkerPort} and ${last} for a new worker`);
  };

  const currentConsole = async (): Promise<{ files: TopologyFiles; console: ConsoleTopology }> => {
    const files = await store.readCurrent();
    const text = files[CONSOLE_FILE];
    if (text === undefined) return { files: {}, console: { clusterMode: settings.clusterMode, expectedMaxInputTokens: null, workers: [] } };
    const parsed = parseConsoleFile(text);
    if (!parsed.ok) throw new AppError('CONFIG_INVALID', 'console.yaml of the current topology does not parse; fix it in the topology editor first');
    return { files, console: parsed.value };
  };

  /** Rewrites console.yaml and the urls of disagg_config.yaml (text-preserving) for a new worker list. */
  const filesWithWorkers = (files: TopologyFiles, consoleTopo: ConsoleTopology): TopologyFiles => {
    const next: TopologyFiles = { ...files, [CONSOLE_FILE]: serializeConsoleFile(consoleTopo) };
    const urls = (role: WorkerRole): string[] => consoleTopo.workers.filter((w) => w.role === role).map((w) => `${w.host}:${w.port}`);
    const disaggText = files[DISAGG_CONFIG_FILE];
    if (disaggText === undefined) {
      next[DISAGG_CONFIG_FILE] = disaggConfigText(proxyPort, urls('context'), urls('generation'));
    } else if (consoleTopo.clusterMode !== 'disagg_cluster') {
      const { document } = parseYaml(disaggText, DISAGG_CONFIG_FILE);
      for (const [section, role] of [['context_servers', 'context'], ['generation_servers', 'generation']] as const) {
        setConfigValue(document, [section, 'urls'], urls(role));
        setConfigValue(document, [section, 'num_instances'], urls(role).length);
      }
      next[DISAGG_CONFIG_FILE] = documentToText(document);
    }
    return next;
  };

  const workersAdd = async (req: WorkerAddRequest): Promise<WorkerView> => {
    const { files, console: consoleTopo } = await currentConsole();
    const prefix = req.role === 'context' ? 'ctx' : 'gen';
    let name = req.id;
    if (name === undefined) {
      let n = 0;
      while (consoleTopo.workers.some((w) => w.name === `${prefix}${n}`)) n++;
      name = `${prefix}${n}`;
    }
    if (consoleTopo.workers.some((w) => w.name === name)) throw new AppError('CONFIG_INVALID', `a worker '${name}' already exists`, { id: name });
    if (req.gpus.length === 0) throw new AppError('CONFIG_INVALID', 'a worker needs at least one GPU');
    const taken = new Set(consoleTopo.workers.map((w) => w.port));
    const port = req.port ?? (await freeWorkerPort(taken));
    const ppSize = req.ppSize ?? 1;
    const optionsFile = `${name}.yaml`;
    const worker: TopologyWorker = {
      name,
      role: req.role,
      gpus: [...req.gpus],
      host: req.host ?? '127.0.0.1',
      port,
      model: req.model,
      engine: req.engine,
      backend: req.backend ?? 'pytorch',
      tpSize: req.tpSize ?? Math.max(1, Math.floor(req.gpus.length / ppSize)),
      ppSize,
      optionsFile,
      env: { ...(req.extraEnv ?? {}) },
    };
    let options = req.optionsYaml ?? optionsTemplate(req.role);
    const cluster = applied?.mode === 'disagg_cluster' ? applied.disagg.disagg_cluster : undefined;
    if (req.optionsYaml === undefined && consoleTopo.clusterMode === 'disagg_cluster' && cluster) {
      // A worker reads cluster_name and the heartbeat timings only from its own disagg_cluster section; the
      // --disagg_cluster_uri flag alone would register it in cluster '' (protocol 3.3, 7.2).
      options += [
        'disagg_cluster:',
        `  cluster_uri: ${JSON.stringify(cluster.cluster_uri)}`,
        `  cluster_name: ${JSON.stringify(cluster.cluster_name)}`,
        `  heartbeat_interval_sec: ${cluster.heartbeat_interval_sec}`,
        `  inactive_timeout_sec: ${cluster.inactive_timeout_sec}`,
        '',
      ].join('\n');
    }
    const next = filesWithWorkers({ ...files, [optionsFile]: options }, { ...consoleTopo, workers: [...consoleTopo.workers, worker] });
    await topology.apply(next, `add ${name}`);
    return viewOf(supervisor.status(name));
  };

  const workersRemove = async (id: string, options?: WorkerRemoveOptions): Promise<void> => {
    const isLocal = supervisor.list().some((s) => s.id === id);
    const { files, console: consoleTopo } = await currentConsole();
    const entry = consoleTopo.workers.find((w) => w.name === id);
    if (!isLocal && !entry) {
      const r = remote.find((x) => x.id === id);
      if (!r) throw new AppError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
      // A remote worker: the console can only stop routing to it by deleting its registry key.
      draining.add(r.url);
      try {
        await deregister(r.url);
        remote = remote.filter((x) => x.id !== id);
        syncMembership();
      } finally {
        draining.delete(r.url);
      }
      return;
    }
    if (isLocal) await removeSafely(id, options?.drainTimeoutMs);
    if (!entry) return;
    const rest = consoleTopo.workers.filter((w) => w.name !== id);
    const next = filesWithWorkers(files, { ...consoleTopo, workers: rest });
    if (entry.optionsFile !== null && !rest.some((w) => w.optionsFile === entry.optionsFile)) delete next[entry.optionsFile];
    try {
      await topology.apply(next, `remove ${id}`);
    } catch (err) {
      // The process is already gone; a topology that no longer validates (e.g. no generation worker left)
      // keeps its entry until the user edits it.
      if (err instanceof AppError && err.code === 'CONFIG_INVALID') {
        log('warn', `worker ${id} is stopped but stays in the topology: ${err.message}`);
        return;
      }
      throw err;
    }
  };

  const localOrThrow = (id: string): void => {
    if (!supervisor.list().some((s) => s.id === id)) throw new AppError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
  };

  // ------------------------------------------------------------------ settings
  const settingsSet = async (patch: ConsoleSettingsPatch): Promise<ConsoleSettings> => {
    settings = await settingsAfterPatch(settings, patch, Date.now());
    writeJsonAtomic(settingsPath, settings);
    return { ...settings };
  };

  // ------------------------------------------------------------------ load test and planner (B1, B2)
  /** The planner's apply: ctx0..ctx{c-1} + gen0..gen{g-1}; workers kept by name stay as they are (not restarted). */
  const applyLayout = async (layout: PlannerLayout): Promise<ApplyResult> => {
    const { files, console: consoleTopo } = await currentConsole();
    const first = consoleTopo.workers[0];
    const wanted: { name: string; role: WorkerRole }[] = [
      ...Array.from({ length: layout.contextWorkers }, (_, i) => ({ name: `ctx${i}`, role: 'context' as const })),
      ...Array.from({ length: layout.generationWorkers }, (_, i) => ({ name: `gen${i}`, role: 'generation' as const })),
    ];
    const kept = consoleTopo.workers.filter((w) => wanted.some((x) => x.name === w.name && x.role === w.role));
    const usedGpus = new Set(kept.flatMap((w) => w.gpus));
    const taken = new Set(kept.map((w) => w.port));
    const next: TopologyFiles = { ...files };
    for (const w of consoleTopo.workers) if (!kept.includes(w) && w.optionsFile !== null) delete next[w.optionsFile];
    const workers: TopologyWorker[] = [];
    for (const x of wanted) {
      const old = kept.find((w) => w.name === x.name);
      if (old) {
        workers.push(old);
        continue;
      }
      let gpu = 0;
      while (usedGpus.has(gpu)) gpu++;
      usedGpus.add(gpu);
      const port = await freeWorkerPort(taken);
      taken.add(port);
      next[`${x.name}.yaml`] = optionsTemplate(x.role);
      workers.push({ name: x.name, role: x.role, gpus: [gpu], host: '127.0.0.1', port, model: first?.model ?? DEFAULT_MODEL, engine: first?.engine ?? settings.defaultEngine, backend: first?.backend ?? 'pytorch', tpSize: 1, ppSize: 1, optionsFile: `${x.name}.yaml`, env: { ...(first?.env ?? {}) } });
    }
    return topology.apply(filesWithWorkers(next, { ...consoleTopo, workers }), `planner: ${layout.contextWorkers} ctx + ${layout.generationWorkers} gen`);
  };
  const bench = createBenchService({
    dataDir,
    emit,
    proxyUrl: () => `http://127.0.0.1:${proxyPort}`,
    currentModel: () => supervisor.list().map((s) => supervisor.spec(s.id).model)[0] ?? null,
    topologyLabel: () => {
      const specs = supervisor.list().map((s) => supervisor.spec(s.id));
      if (specs.length === 0) return null;
      const n = (role: WorkerRole): number => specs.filter((x) => x.role === role).length;
      return `${n('context')} ctx + ${n('generation')} gen (${[...new Set(specs.map((x) => x.engine))].join(', ')})`;
    },
    calibrationTarget: () => {
      const ready = supervisor.list().filter((s) => s.state === 'ready').map((s) => supervisor.spec(s.id));
      const spec = ready.find((x) => x.role === 'generation') ?? ready[0];
      return spec ? { url: workerUrlOf(spec), model: spec.model } : null;
    },
    defaultGpu: () => gpuProfileForName(settings.simulatedGpuModel),
    applyLayout,
  });

  const api: ApiHandlers = {
    'gpus:list': (): Promise<GpuInventorySnapshot> => Promise.resolve({ ...gpus.snapshot(), holders: supervisor.gpuHolders() }),
    'workers:list': () => Promise.resolve([...supervisor.list().map(viewOf), ...remote.map(remoteView)]),
    'workers:add': workersAdd,
    'workers:remove': workersRemove,
    'workers:restart': async (id) => {
      localOrThrow(id);
      return supervisor.restart(id);
    },
    'workers:stop': async (id) => {
      localOrThrow(id);
      return supervisor.stop(id);
    },
    'workers:logs': (id, query) => {
      localOrThrow(id);
      return Promise.resolve(logStore.query(id, query));
    },
    ...topology.handlers(),
    'cluster:status': (): Promise<ClusterStatus> => {
      if (etcd) etcdStatus = etcd.status();
      const { state, endpoint, message } = etcdStatus;
      return Promise.resolve({ mode: applied?.mode ?? settings.clusterMode, etcd: { state, endpoint, message }, isReady: applied?.mode === 'disagg_cluster' ? clusterReady : null, remoteWorkers: [...remote] });
    },
    'metrics:snapshot': (query) => Promise.resolve(metrics.snapshot(query)),
    'metrics:csv': (query) => Promise.resolve(metrics.csv(query)),
    ...requestLog.handlers(),
    'proxy:info': (): Promise<ProxyInfo> =>
      Promise.resolve({
        url: `http://127.0.0.1:${proxyPort}`,
        host: '127.0.0.1',
        port: proxyPort,
        isRunning: proxy !== null && proxyStatus?.state === 'running',
        ...(proxy !== null && proxyStatus ? { state: proxyStatus.state, restarts: proxyStatus.restarts, lastError: proxyStatus.lastError } : {}),
      }),
    'settings:get': () => Promise.resolve({ ...settings }),
    'settings:set': settingsSet,
    ...bench.handlers,
  };

  // ------------------------------------------------------------------ start
  let registryTimer: NodeJS.Timeout | null = null;
  const disposeParts = async (): Promise<void> => {
    await bench.dispose();
    if (registryTimer) clearInterval(registryTimer);
    offStatus();
    offLines();
    offGpus();
    if (logTimer) clearTimeout(logTimer);
    gpus.stop();
    await supervisor.dispose();
    metrics.dispose();
    requestLog.dispose();
    if (proxy) {
      const p = proxy;
      proxy = null;
      await stopProxy(p, 2000).catch((err: unknown) => log('warn', `proxy stop: ${errText(err)}`));
    }
    await etcd?.stop();
    logStore.close();
  };

  try {
    const currentFiles = await store.readCurrent();
    const current = Object.keys(currentFiles).length > 0 ? loadTopology(currentFiles).topology : null;
    await startProxy(current?.disagg ?? null);
    const inventory = await gpus.start();
    let isDemoWanted = deps.isDemo === true || (deps.isDemoOnFirstStartWithoutGpus === true && inventory.simulated);
    const lastVersion = await store.latestVersion();
    if (current && lastVersion !== null) {
      // Run the topology applied last time again, from its version folder; nothing runs yet, so every worker
      // starts (the service's plan would compare it with itself and start nothing).
      isDemoWanted = false;
      const dir = store.versionDir(lastVersion);
      const specs = toWorkerSpecs(current, { dir, binaryPath: settings.trtllmServePath });
      const names = current.console.workers.map((w) => w.name);
      try {
        await runner.apply({ plan: { start: names, restart: [], stop: [], unchanged: [], proxyChanged: true }, next: current, specs, previous: null, dir, version: lastVersion });
        log('info', `topology version ${lastVersion} started again: ${names.join(', ')}`);
      } catch (err) {
        log('error', `the last applied topology did not start: ${errText(err)}`);
      }
    }
    if (!current && Object.keys(currentFiles).length > 0) log('warn', 'the current topology does not parse; nothing was started (fix it in the topology editor)');
    // Only on a really first start: a topology whose files no longer parse is left for the user to fix.
    if (isDemoWanted && Object.keys(currentFiles).length === 0) {
      const ctxPort = await freeWorkerPort(new Set());
      const genPort = await freeWorkerPort(new Set([ctxPort]));
      const demoWorker = (name: string, role: WorkerRole, gpu: number, port: number): TopologyWorker => ({
        name, role, gpus: [gpu], host: '127.0.0.1', port, model: DEFAULT_MODEL, engine: 'simulated', backend: 'pytorch', tpSize: 1, ppSize: 1, optionsFile: `${name}.yaml`, env: {},
      });
      const workers = [demoWorker('ctx0', 'context', 0, ctxPort), demoWorker('gen0', 'generation', 1, genPort)];
      const files = filesWithWorkers({ 'ctx0.yaml': optionsTemplate('context'), 'gen0.yaml': optionsTemplate('generation') }, { clusterMode: 'static', expectedMaxInputTokens: null, workers });
      await topology.apply(files, 'demo');
      log('info', 'demo topology started: ctx0 + gen0 (simulated) behind the proxy');
    }
    registryTimer = setInterval(() => {
      refreshRemote()
        .then(syncMembership)
        .catch((err: unknown) => log('debug', `registry: ${errText(err)}`));
    }, deps.pollIntervalMs ?? 3000);
    registryTimer.unref();
  } catch (err) {
    await disposeParts();
    throw err;
  }

  let disposing: Promise<void> | null = null;
  return {
    api,
    onEvent,
    get proxyUrl() {
      return `http://127.0.0.1:${proxyPort}`;
    },
    dataDir,
    dispose() {
      disposing ??= disposeParts();
      return disposing;
    },
  };
}
