// The console's LLM proxy, hosted in a worker thread (proxy/proxy-thread.ts): start on the configured port
// (a free one when it is taken), restart when the applied topology's proxy settings change (not when only
// its urls do: adding a worker must not restart it), push membership (deduplicated), the per-worker
// in-flight counters, request records, and a bounded stop. Layer: core.

import { parseDisaggConfig } from '../../shared/logic/config-parse';
import { DISAGG_CONFIG_FILE } from '../../shared/logic/load-topology';
import { disaggConfigText } from '../../shared/logic/topology-edit';
import {
  type CommonVersion,
  NEWEST_TRTLLM_VERSION,
  type TrtllmVersion,
} from '../../shared/logic/trtllm-dialect';
import { hostPortOf, normalizeUrl } from '../../shared/logic/worker-url';
import type { DisaggConfig } from '../../shared/model/config';
import type { ProxyCpuSample } from '../../shared/model/proxy-cost';
import type { WorkerRole } from '../../shared/model/worker';
import type { ProxyInfo } from '../../shared/model/worker-view';
import { type BackendLog, errText } from './event-hub';
import {
  type ProxyThreadHandle,
  type ProxyThreadStatus,
  startProxyInWorkerThread,
} from './proxy/proxy-thread';
import type { LogLevel, ProxyRequestRecord } from './proxy/types';

/** Urls (normalized `http://host:port`) the proxy should route to, per role. */
export type Membership = Record<WorkerRole, string[]>;

/** The proxy part of the backend. */
export interface ProxyHost {
  readonly port: number;
  readonly url: string;
  /** Starts the proxy for a topology's config (null: none applied yet). */
  start(config: DisaggConfig | null): Promise<void>;
  /** Restarts the proxy when the config's proxy settings differ from the running ones; true when it did. */
  reloadIfChanged(config: DisaggConfig): Promise<boolean>;
  /**
   * Speaks the dialect of the workers' common release (the oldest; a warning while they differ) from the next
   * request on, without a restart; a null version (none known yet) keeps the current one.
   */
  setWorkerVersions(common: CommonVersion): void;
  /** Sends the membership when it differs from the last one sent. */
  setMembership(want: Membership): void;
  /** The proxy's in-flight counters per worker url; empty when it does not answer within 2 s. */
  inFlight(): Promise<{ url: string; inFlight: number }[]>;
  /** The proxy thread's CPU and request/token counters (the cost meter); null when it does not answer within 2 s. */
  cpuSample(): Promise<ProxyCpuSample | null>;
  info(): ProxyInfo;
  onRecords(listener: (records: ProxyRequestRecord[]) => void): () => void;
  stop(): Promise<void>;
}

/** Options of createProxyHost. */
export interface ProxyHostOptions {
  port: number;
  env: Record<string, string | undefined>;
  log: BackendLog;
}

/** A proxy config without static urls: the backend owns membership in static and metadata modes. */
function proxyConfigOf(cfg: DisaggConfig | null, port: number): DisaggConfig {
  const base =
    cfg ??
    (
      parseDisaggConfig(
        disaggConfigText(port, ['127.0.0.1:1'], ['127.0.0.1:2']),
        DISAGG_CONFIG_FILE,
      ) as { ok: true; value: DisaggConfig }
    ).value;
  return {
    ...base,
    hostname: '127.0.0.1',
    port,
    context_servers: { ...base.context_servers, urls: [], num_instances: 0 },
    generation_servers: { ...base.generation_servers, urls: [], num_instances: 0 },
  };
}

/** What a proxy restart depends on: the config without urls. */
function proxyKeyOf(cfg: DisaggConfig): string {
  return JSON.stringify(proxyConfigOf(cfg, 0));
}

/** The warning shown while the workers run different releases. */
export function mixedVersionWarning(common: CommonVersion): string | null {
  if (!common.isMixed || common.version === null) return null;
  return (
    `workers run different TensorRT-LLM releases (${common.seen.join(', ')}): ` +
    `the proxy speaks ${common.version}, the oldest, so newer workers' additions are not used`
  );
}

/** Ends a proxy thread, bounded: a thread that already died never answers. */
async function stopBounded(p: ProxyThreadHandle, drainMs: number, log: BackendLog): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log('warn', 'the proxy thread did not stop in time');
      resolve();
    }, drainMs + 5000);
  });
  await Promise.race([p.stop(drainMs), bound]);
  clearTimeout(timer);
}

/** Resolves with p's value, or with `fallback` after ms. */
async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  const value = await Promise.race([p, timeout]);
  clearTimeout(timer);
  return value;
}

/** The thread's warnings and errors go to the console's log; its info lines are the thread's own business. */
function proxyLogTo(log: ProxyHostOptions['log']): (level: LogLevel, message: string) => void {
  return (level, message) => {
    if (level === 'error' || level === 'warning') {
      log(level === 'warning' ? 'warn' : 'error', `proxy: ${message}`);
    }
  };
}

/** The thread's stats, or null when none runs or it does not answer within 2 s. */
async function statsOf(
  p: ProxyThreadHandle | null,
): Promise<Awaited<ReturnType<ProxyThreadHandle['stats']>> | null> {
  if (!p) return null;
  return within(
    p.stats().catch(() => null),
    2000,
    null,
  );
}

/** The proxy host; nothing runs before start(). */
export function createProxyHost(opts: ProxyHostOptions): ProxyHost {
  const { log } = opts;
  let proxy: ProxyThreadHandle | null = null;
  let port = opts.port;
  let key = '';
  let lastMembership = '';
  let version: TrtllmVersion = NEWEST_TRTLLM_VERSION;
  let versionWarning: string | null = null;
  let status: ProxyThreadStatus | null = null;
  const recordListeners = new Set<(records: ProxyRequestRecord[]) => void>();
  const proxyLog = proxyLogTo(log);

  const startOn = (cfg: DisaggConfig, at: number): Promise<ProxyThreadHandle> =>
    startProxyInWorkerThread({
      config: cfg,
      env: { TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: opts.env.TRTLLM_DISAGG_BENCHMARK_GEN_ONLY },
      overrides: { host: '127.0.0.1', port: at, trtllmVersion: version },
      onLog: proxyLog,
      onStatus: (st) => {
        status = st;
      },
    });

  const threadStats = () => statsOf(proxy);

  const host: ProxyHost = {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    async start(cfg) {
      const proxyConfig = proxyConfigOf(cfg, port);
      try {
        proxy = await startOn(proxyConfig, port);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EADDRINUSE' && !/in use/.test(errText(err))) {
          throw err;
        }
        log('warn', `proxy port ${port} is in use; the proxy takes a free port instead`);
        proxy = await startOn(proxyConfig, 0);
      }
      port = proxy.port;
      status = proxy.status();
      key = proxyKeyOf(proxyConfig);
      lastMembership = '';
      proxy.onRecords((records) => {
        for (const l of [...recordListeners]) l(records);
      });
    },
    async reloadIfChanged(cfg) {
      if (!proxy || proxyKeyOf(cfg) === key) return false;
      log('info', 'proxy configuration changed: restarting the proxy');
      const old = proxy;
      proxy = null;
      await stopBounded(old, 5000, log);
      await host.start(cfg);
      return true;
    },
    setWorkerVersions(common) {
      const warning = mixedVersionWarning(common);
      if (warning !== null && warning !== versionWarning) log('warn', warning);
      versionWarning = warning;
      if (common.version === null || common.version === version) return;
      log('info', `the workers run TensorRT-LLM ${common.version}: the proxy speaks its dialect`);
      version = common.version;
      proxy?.setTrtllmVersion(version);
    },
    setMembership(want) {
      const next = JSON.stringify(want);
      if (!proxy || next === lastMembership) return;
      lastMembership = next;
      proxy.updateMembership({
        context: want.context.map(hostPortOf),
        generation: want.generation.map(hostPortOf),
      });
    },
    async inFlight() {
      // A thread being restarted answers nothing: no counters, like a silent one (removal never blocks on it).
      const stats = await threadStats();
      return (stats?.workers ?? []).map((w) => ({
        url: normalizeUrl(w.url),
        inFlight: w.inFlight,
      }));
    },
    async cpuSample() {
      return (await threadStats())?.cpu ?? null;
    },
    info() {
      const base = {
        url: host.url,
        host: '127.0.0.1',
        port,
        isRunning: proxy !== null && status?.state === 'running',
        trtllmVersion: version,
        versionWarning,
      };
      return proxy !== null && status
        ? { ...base, state: status.state, restarts: status.restarts, lastError: status.lastError }
        : base;
    },
    onRecords(listener) {
      recordListeners.add(listener);
      return () => recordListeners.delete(listener);
    },
    async stop() {
      const p = proxy;
      proxy = null;
      if (p) {
        await stopBounded(p, 2000, log).catch((err: unknown) =>
          log('warn', `proxy stop: ${errText(err)}`),
        );
      }
    },
  };
  return host;
}
