// A running proxy with its membership source: static urls (wait for /health like upstream), etcd
// metadata mode (7.1, MetadataMonitor) or disagg_cluster over etcd or the proxy's own HTTP store (7.2).
// Shared by the CLI and the worker-thread embedding. Layer: core.
import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { ClusterLog } from '../cluster/cluster-storage';
import { DisaggClusterManager, workerUrl } from '../cluster/disagg-cluster-manager';
import { handleClusterStoreRequest } from '../cluster/http-store-routes';
import { MetadataClient, MetadataMonitor } from '../cluster/metadata-client';
import { defaultTokenizer } from './default-tokenizer';
import { PROXY_DEFAULTS } from './proxy-options';
import type { ProxyServer, ProxyServerOptions } from './proxy-server';
import { createProxyServer } from './proxy-server';
import type { LogLevel } from './types';
import {
  createUpstreamPool,
  getUpstream,
  parseHostPort,
  type UpstreamPool,
} from './upstream-client';

/** Settings that are flags rather than file contents (trtllm-protocol.md 1.2 plus our additions). */
export interface ProxyRunSettings {
  startTimeoutS: number;
  requestTimeoutS: number;
  logLevel: LogLevel;
  apiKey?: string;
  contextTimeoutS: number;
  firstByteTimeoutS: number;
  idleTimeoutS: number;
  maxBodyBytes: number;
  /** Requests served at once; set it to what the generation workers can batch (sum of their max_batch_size). */
  maxConcurrency: number;
  /** Requests waiting for a slot; one more gets 429 + Retry-After. */
  maxQueue: number;
  /** Acceptable queue wait; once the queue stands above it for queueIntervalS, the excess gets 503 + Retry-After. */
  queueTargetS: number;
  queueIntervalS: number;
  /** Hard bound on a request's queue wait (503). */
  queueTimeoutS: number;
  /** One request from its body's arrival to its last byte (504, or an SSE error once streaming). */
  totalTimeoutS: number;
  /** The request body must arrive within this (408), before the request may take a slot. */
  bodyTimeoutS: number;
  /** Slowest acceptable request body after a 5 s grace (408); 0 turns the check off. */
  minBodyRateBytesPerS: number;
  /** Request line and headers must arrive within this (408). */
  headerTimeoutS: number;
  /** Open connections per client address; requests on more get 429 (0: no limit). */
  maxConnectionsPerClient: number;
  /** CPU-pressure shedding: event-loop mean delay that counts as saturated (0: off). */
  maxLoopDelayS: number;
  /** The same on event-loop utilization (1: not watched). */
  maxLoopUtilization: number;
}

export const DEFAULT_RUN_SETTINGS: ProxyRunSettings = {
  startTimeoutS: 180,
  requestTimeoutS: 180,
  logLevel: 'info',
  contextTimeoutS: 60,
  firstByteTimeoutS: 60,
  idleTimeoutS: 30,
  maxBodyBytes: 32 * 1024 * 1024,
  // A limit far above any fleet's batch capacity: by default nothing queues in the proxy (today's
  // behaviour); the queue settings matter once --max-concurrency is set to the workers' capacity.
  maxConcurrency: 4096,
  maxQueue: 1024,
  queueTargetS: 0.1,
  queueIntervalS: 1,
  queueTimeoutS: 5,
  totalTimeoutS: PROXY_DEFAULTS.totalTimeoutMs / 1000,
  bodyTimeoutS: PROXY_DEFAULTS.bodyTimeoutMs / 1000,
  minBodyRateBytesPerS: PROXY_DEFAULTS.minBodyBytesPerS,
  headerTimeoutS: PROXY_DEFAULTS.headersTimeoutMs / 1000,
  maxConnectionsPerClient: PROXY_DEFAULTS.maxConnectionsPerClient,
  maxLoopDelayS: PROXY_DEFAULTS.maxLoopDelayMs / 1000,
  maxLoopUtilization: PROXY_DEFAULTS.maxLoopUtilization,
};

/** Proxy options from the parsed file and flags (pure). */
export function proxyOptionsFromConfig(
  cfg: DisaggConfig,
  s: ProxyRunSettings,
  env: Record<string, string | undefined>,
): ProxyServerOptions {
  const fileKey = cfg.shared_keys['api_key'];
  const hasCluster = cfg.disagg_cluster !== undefined;
  return {
    host: cfg.hostname,
    port: cfg.port,
    // With disagg_cluster the static urls are ignored (3.1); workers arrive through the cluster store.
    contextUrls: hasCluster ? [] : cfg.context_servers.urls,
    generationUrls: hasCluster ? [] : cfg.generation_servers.urls,
    contextRouter: cfg.context_servers.router,
    generationRouter: cfg.generation_servers.router,
    maxRetries: cfg.max_retries,
    requestTimeoutMs: s.requestTimeoutS * 1000,
    contextTimeoutMs: Math.min(s.contextTimeoutS, s.requestTimeoutS) * 1000,
    firstByteTimeoutMs: Math.min(s.firstByteTimeoutS, s.requestTimeoutS) * 1000,
    idleTimeoutMs: Math.min(s.idleTimeoutS, s.requestTimeoutS) * 1000,
    conditionalMaxLocalPrefillLength: cfg.conditional_disagg_config?.max_local_prefill_length,
    isGenOnlyBenchmark: env['TRTLLM_DISAGG_BENCHMARK_GEN_ONLY'] === '1',
    apiKey: s.apiKey ?? (typeof fileKey === 'string' ? fileKey : undefined),
    maxBodyBytes: s.maxBodyBytes,
    maxConcurrency: s.maxConcurrency,
    maxQueue: s.maxQueue,
    queueTargetMs: s.queueTargetS * 1000,
    queueIntervalMs: s.queueIntervalS * 1000,
    queueTimeoutMs: s.queueTimeoutS * 1000,
    totalTimeoutMs: s.totalTimeoutS * 1000,
    bodyTimeoutMs: s.bodyTimeoutS * 1000,
    minBodyBytesPerS: s.minBodyRateBytesPerS,
    headersTimeoutMs: s.headerTimeoutS * 1000,
    maxConnectionsPerClient: s.maxConnectionsPerClient,
    maxLoopDelayMs: s.maxLoopDelayS * 1000,
    maxLoopUtilization: s.maxLoopUtilization,
    perfMetricsMaxRequests: cfg.perf_metrics_max_requests,
    // TensorRT-LLM 1.2+ server settings of the YAML (docs/upstream-versions.md sections 2, 3, 6).
    internalRequestAuthKey: cfg.release_settings?.internal_request_auth_key,
    returnPerfMetrics: cfg.release_settings?.return_perf_metrics === true,
    allowRequestChatTemplate: cfg.release_settings?.allow_request_chat_template === true,
    minimalInstances: cfg.disagg_cluster
      ? {
          context: cfg.disagg_cluster.minimal_instances.context_servers,
          generation: cfg.disagg_cluster.minimal_instances.generation_servers,
        }
      : undefined,
    tokenizer: defaultTokenizer,
    logLevel: s.logLevel,
  };
}

/** Probes every url's /health (in parallel, every 500 ms) until all answer 200 or the time is up; returns those still down. */
export async function waitForWorkers(
  urls: string[],
  timeoutMs: number,
  log: (m: string) => void,
): Promise<string[]> {
  const pools = new Map<string, UpstreamPool>();
  const pending = new Set(urls);
  const until = Date.now() + timeoutMs;
  try {
    while (pending.size > 0) {
      await Promise.all(
        [...pending].map(async (u) => {
          let pool = pools.get(u);
          if (pool === undefined) {
            const { host, port } = parseHostPort(u);
            pool = createUpstreamPool(host, port, 1);
            pools.set(u, pool);
          }
          const r = await getUpstream({ pool }, '/health', 1_000);
          if (r && r.status === 200) pending.delete(u);
        }),
      );
      if (pending.size === 0 || Date.now() >= until) break;
      log(`waiting for ${pending.size} worker(s) to become healthy: ${[...pending].join(', ')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    for (const pool of pools.values()) pool.destroy();
  }
  return [...pending];
}

/** Why the proxy could not start; `code` distinguishes a taken port from the rest. */
export class ProxyStartError extends Error {
  constructor(
    message: string,
    readonly code: 'EADDRINUSE' | 'LISTEN' | 'WORKERS' | 'CLUSTER',
  ) {
    super(message);
    this.name = 'ProxyStartError';
  }
}

export interface ProxyRuntime {
  proxy: ProxyServer;
  port: number;
  /** Drains (up to drainMs), then stops membership sources. */
  stop(drainMs: number): Promise<void>;
}

export interface StartProxyRuntimeOptions {
  config: DisaggConfig;
  metadata?: MetadataConfig;
  settings: ProxyRunSettings;
  env?: Record<string, string | undefined>;
  /** Overrides applied last (tests: port 0, short timeouts). */
  overrides?: Partial<ProxyServerOptions>;
  log: (level: LogLevel, msg: string) => void;
  /** Called once listening, before the workers are waited for (the CLI prints its line here). */
  onListening?: (port: number) => void;
  /**
   * Static urls: wait for every worker's /health up to startTimeoutS before serving, and fail after it,
   * like upstream (default true, the CLI). The console passes false: it supervises the workers itself,
   * and unhealthy ones are handled by retries and ejection.
   */
  shouldWaitForWorkers?: boolean;
}

export async function startProxyRuntime(o: StartProxyRuntimeOptions): Promise<ProxyRuntime> {
  const { config: cfg, settings, log } = o;
  const clusterLog: ClusterLog = (lv, msg) => log(lv === 'warn' ? 'warning' : lv, msg);
  const options: ProxyServerOptions = {
    ...proxyOptionsFromConfig(cfg, settings, o.env ?? {}),
    log,
    ...o.overrides,
  };
  options.isStartingGated = cfg.disagg_cluster === undefined;

  let manager: DisaggClusterManager | undefined;
  if (cfg.disagg_cluster) {
    manager = new DisaggClusterManager({ config: cfg.disagg_cluster, log: clusterLog });
    const store = manager.store;
    if (store) {
      options.clusterStoreHandler = (req, res, url) =>
        handleClusterStoreRequest(store, req, res, url);
    }
    const m = manager;
    options.clusterInfo = () => m.clusterInfo();
  }

  const proxy = createProxyServer(options);
  let port: number;
  try {
    port = await proxy.listen();
  } catch (err) {
    await manager?.stop();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new ProxyStartError(
        `port ${options.port} on ${options.host} is already in use`,
        'EADDRINUSE',
      );
    }
    throw new ProxyStartError(
      `cannot listen on ${options.host}:${options.port}: ${String(err)}`,
      'LISTEN',
    );
  }
  o.onListening?.(port);

  let monitor: MetadataMonitor | undefined;
  let metadataClient: MetadataClient | undefined;
  if (manager) {
    const m = manager;
    const roleOf = (role: number): 'context' | 'generation' =>
      role === 0 ? 'context' : 'generation';
    m.onWorkerAdded((w) => proxy.addWorker(roleOf(w.role), workerUrl(w)));
    m.onWorkerRemoved((w) => proxy.removeWorker(roleOf(w.role), workerUrl(w)));
    try {
      // Seed the routers from the workers already registered (the Oct 2025 proxy forgot to, 7.2).
      for (const w of await m.start()) proxy.addWorker(roleOf(w.role), workerUrl(w));
    } catch (err) {
      await proxy.close();
      throw new ProxyStartError(
        `cannot reach the cluster store ${cfg.disagg_cluster?.cluster_uri}: ${String(err)}`,
        'CLUSTER',
      );
    }
  } else {
    const urls =
      o.shouldWaitForWorkers === false ? [] : [...options.contextUrls, ...options.generationUrls];
    const missing = await waitForWorkers(urls, settings.startTimeoutS * 1000, (msg) =>
      log('info', msg),
    );
    if (missing.length > 0) {
      await proxy.close();
      throw new ProxyStartError(
        `workers not healthy after ${settings.startTimeoutS} s: ${missing.join(', ')}`,
        'WORKERS',
      );
    }
    proxy.markStarted();
    log('info', 'all workers are healthy');
    if (o.metadata) {
      const client = MetadataClient.forConfig(o.metadata, clusterLog);
      metadataClient = client;
      monitor = new MetadataMonitor({
        client,
        config: o.metadata,
        initialServers: {
          context: options.contextUrls.map((u) => `http://${u}`),
          generation: options.generationUrls.map((u) => `http://${u}`),
        },
        onServersChanged: (role, list) => proxy.updateMembership({ [role]: list }),
        log: clusterLog,
      });
      monitor.start();
    }
  }

  return {
    proxy,
    port,
    async stop(drainMs: number): Promise<void> {
      await monitor?.stop();
      await metadataClient?.close();
      await proxy.drain(drainMs);
      await manager?.stop();
    },
  };
}
