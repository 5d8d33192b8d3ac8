// Cluster membership registries (protocol 7): the etcd a topology names (an external one, or the embedded
// one on exactly that loopback port), the workers other machines registered (metadata mode: trtllm/<id>
// keys, health checked twice, dead keys deleted; disagg_cluster: worker keys under the cluster's prefix),
// readiness against minimal_instances, and deleting a worker's key when it is removed. Layer: core.

import { join } from 'node:path';

import {
  decodeWorkerInfo,
  roleNameOf,
  workersPrefix,
} from '../../shared/logic/disagg-cluster-keys';
import type { LoadedTopology } from '../../shared/logic/load-topology';
import { hostPortOf, normalizeUrl } from '../../shared/logic/worker-url';
import type { ClusterStatus, EtcdState, RemoteWorker } from '../../shared/model/cluster';
import type { DisaggClusterConfig, DisaggConfig, MetadataConfig } from '../../shared/model/config';
import type { ClusterMode } from '../../shared/model/topology';
import type { ClusterStorage } from './cluster/cluster-storage';
import { createClusterStorage } from './cluster/cluster-uri';
import { MetadataClient } from './cluster/metadata-client';
import {
  type EmbeddedEtcd,
  ETCD_MISSING_MESSAGE,
  EtcdStartError,
  startEmbeddedEtcd,
} from './etcd/embedded-etcd';
import { type BackendLog, errText } from './event-hub';

/** What the console keeps of the applied topology (parsed once, when it is applied). */
export interface AppliedTopology {
  disagg: DisaggConfig;
  metadata: MetadataConfig | null;
  mode: ClusterMode;
}

/** The membership settings of a loaded topology. */
export function appliedOf(t: LoadedTopology): AppliedTopology {
  return { disagg: t.disagg, metadata: t.metadata, mode: t.console.clusterMode };
}

/** The registry part of the backend. */
export interface RegistryService {
  /** Makes sure the etcd a topology names answers before its workers start (they register at startup). */
  ensureEtcd(t: AppliedTopology | null): Promise<void>;
  /** Reads the registry of the applied mode; `local` urls (this console's workers) and `draining` ones are left out. */
  refresh(
    t: AppliedTopology | null,
    local: ReadonlySet<string>,
    draining: ReadonlySet<string>,
  ): Promise<void>;
  /** Workers registered by someone other than this console. */
  remote(): RemoteWorker[];
  /** Drops a remote worker from the list (after its key was deleted). */
  forget(id: string): void;
  /** Deletes the registry key(s) of the worker at url; nothing in static mode. */
  deregister(t: AppliedTopology | null, url: string): Promise<void>;
  status(t: AppliedTopology | null, defaultMode: ClusterMode): ClusterStatus;
  stop(): Promise<void>;
}

/** Options of createRegistryService. */
export interface RegistryServiceOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  log: BackendLog;
  /** The etcd endpoint set in the settings (wins over the topology's), read at each use. */
  etcdEndpointSetting: () => string | null;
  /** For an http:// disagg_cluster: the proxy's own store endpoints. */
  proxyPort: () => number;
  etcdBinary?: string;
}

type EtcdStatus = { state: EtcdState; endpoint: string | null; message: string | null };

/** The etcd endpoint a topology names (metadata_config.yaml, or an etcd:// cluster_uri), null when it needs none. */
function namedEtcdEndpoint(t: AppliedTopology | null): string | null {
  if (!t) return null;
  if (t.mode === 'metadata') {
    return t.metadata ? `http://${t.metadata.hostname}:${t.metadata.port}` : null;
  }
  const uri = t.disagg.disagg_cluster?.cluster_uri;
  if (t.mode === 'disagg_cluster' && uri?.startsWith('etcd://')) {
    return `http://${uri.slice('etcd://'.length).split(',')[0] ?? ''}`;
  }
  return null;
}

async function answersHealth(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** A client of the metadata server (trtllm/<id> keys) with short deadlines: the console only peeks. */
function metadataClientOf(endpoint: string): MetadataClient {
  const storage = createClusterStorage(`etcd://${hostPortOf(endpoint)}`, {
    etcdCallTimeoutMs: 3000,
  });
  return new MetadataClient(storage, { ownsStorage: true, log: () => undefined });
}

/** The applied disagg_cluster's storage: its etcd, or for an http:// cluster the proxy's own endpoints. */
function clusterStorageOf(cluster: DisaggClusterConfig, proxyPort: number): ClusterStorage {
  const uri = cluster.cluster_uri.startsWith('http')
    ? `http://127.0.0.1:${proxyPort}`
    : cluster.cluster_uri;
  return createClusterStorage(uri, { httpTimeoutMs: 3000, etcdCallTimeoutMs: 3000 });
}

/** Starts the embedded etcd on a loopback port; on failure, the status says why. */
async function startEmbedded(
  opts: RegistryServiceOptions,
  endpoint: string,
  clientPort: number,
): Promise<{ etcd: EmbeddedEtcd | null; status: EtcdStatus }> {
  try {
    const etcd = await startEmbeddedEtcd({
      dataDir: join(opts.dataDir, 'etcd'),
      binary: opts.etcdBinary,
      clientPort,
      env: opts.env,
      log: (line) => opts.log('debug', `etcd: ${line}`),
    });
    opts.log('info', `embedded etcd listening on ${etcd.endpoint}`);
    return { etcd, status: etcd.status() };
  } catch (err) {
    const status: EtcdStatus =
      err instanceof EtcdStartError
        ? { state: err.status.state, endpoint: err.status.endpoint, message: err.status.message }
        : { state: 'unavailable', endpoint, message: errText(err) };
    opts.log('warn', status.message ?? ETCD_MISSING_MESSAGE);
    return { etcd: null, status };
  }
}

/** Metadata mode: the healthy trtllm/<id> servers other than `local`; a key that fails two checks is deleted (7.1). */
async function readMetadata(
  endpoint: string,
  local: ReadonlySet<string>,
  log: BackendLog,
): Promise<RemoteWorker[]> {
  const client = metadataClientOf(endpoint);
  const found: RemoteWorker[] = [];
  try {
    for (const e of await client.listMetadataServers()) {
      const url = normalizeUrl(e.url);
      const role = (e.info.server_role ?? e.info.server_type ?? '').toLowerCase();
      if (local.has(url) || (role !== 'context' && role !== 'generation')) continue;
      const isHealthy = (await answersHealth(url, 2000)) || (await answersHealth(url, 2000));
      if (!isHealthy) {
        log('warn', `remote worker ${url} failed two health checks; deleting ${e.key}`);
        await client
          .deleteKey(e.key)
          .catch((err: unknown) => log('warn', `cannot delete ${e.key}: ${errText(err)}`));
        continue;
      }
      found.push({
        id: e.key.slice('trtllm/'.length),
        role,
        url,
        model: e.info.model ?? null,
        isHealthy,
        lastSeenMs: Date.now(),
      });
    }
  } finally {
    await client.close();
  }
  return found;
}

/** disagg_cluster mode: the registered workers other than `local`, and whether minimal_instances is met. */
async function readCluster(
  cluster: DisaggClusterConfig,
  proxyPort: number,
  local: ReadonlySet<string>,
): Promise<{ found: RemoteWorker[]; isReady: boolean }> {
  const storage = clusterStorageOf(cluster, proxyPort);
  const found: RemoteWorker[] = [];
  const counts = { CONTEXT: 0, GENERATION: 0 };
  try {
    const entries = await storage.getPrefix(workersPrefix(cluster.cluster_name)).catch(() => ({}));
    for (const [key, value] of Object.entries(entries)) {
      const info = decodeWorkerInfo(value);
      const roleName = info ? roleNameOf(info.role) : null;
      if (!info || roleName === null) continue;
      counts[roleName]++;
      const url = normalizeUrl(`http://${info.host}:${info.port}`);
      if (local.has(url)) continue;
      const role = roleName === 'CONTEXT' ? 'context' : 'generation';
      found.push({
        id: info.worker_id || key,
        role,
        url,
        model: null,
        isHealthy: await answersHealth(url, 2000),
        lastSeenMs: Date.now(),
      });
    }
  } finally {
    await storage.close();
  }
  const { minimal_instances: min } = cluster;
  return {
    found,
    isReady: counts.CONTEXT >= min.context_servers && counts.GENERATION >= min.generation_servers,
  };
}

/** Deletes the key(s) of the worker at url: trtllm/<id> in metadata mode, its worker key in disagg_cluster mode. */
async function deleteKeysAt(
  t: AppliedTopology,
  url: string,
  endpoint: string | null,
  proxyPort: number,
): Promise<void> {
  if (t.mode === 'metadata') {
    if (endpoint === null) return;
    const client = metadataClientOf(endpoint);
    try {
      for (const e of await client.listMetadataServers()) {
        if (normalizeUrl(e.url) === url) await client.deleteKey(e.key);
      }
    } finally {
      await client.close();
    }
    return;
  }
  const cluster = t.disagg.disagg_cluster;
  if (!cluster) return;
  const storage = clusterStorageOf(cluster, proxyPort);
  try {
    const entries = await storage.getPrefix(workersPrefix(cluster.cluster_name)).catch(() => ({}));
    for (const [key, value] of Object.entries(entries)) {
      const info = decodeWorkerInfo(value);
      if (info && normalizeUrl(`http://${info.host}:${info.port}`) === url) {
        await storage.delete(key);
      }
    }
  } finally {
    await storage.close();
  }
}

/** The registry service; starts nothing before ensureEtcd. */
export function createRegistryService(opts: RegistryServiceOptions): RegistryService {
  let etcd: EmbeddedEtcd | null = null;
  let etcdStatus: EtcdStatus = { state: 'off', endpoint: null, message: null };
  let remote: RemoteWorker[] = [];
  let clusterReady: boolean | null = null;
  const endpointOf = (t: AppliedTopology | null): string | null =>
    opts.etcdEndpointSetting() ?? namedEtcdEndpoint(t);

  return {
    async ensureEtcd(t) {
      const endpoint = endpointOf(t);
      if (endpoint === null || (etcd && etcd.endpoint === normalizeUrl(endpoint))) {
        etcdStatus = etcd ? etcd.status() : { state: 'off', endpoint: null, message: null };
        return;
      }
      const isSetting = opts.etcdEndpointSetting() !== null;
      if (await answersHealth(endpoint, 1000)) {
        etcdStatus = {
          state: isSetting ? 'external' : etcd ? 'embedded' : 'external',
          endpoint,
          message: null,
        };
        return;
      }
      const m = /^http:\/\/(127\.0\.0\.1|localhost):(\d+)$/.exec(endpoint);
      if (isSetting || !m) {
        etcdStatus = {
          state: 'unavailable',
          endpoint,
          message: `etcd at ${endpoint} does not answer`,
        };
        return;
      }
      const started = await startEmbedded(opts, endpoint, Number(m[2]));
      etcd = started.etcd;
      etcdStatus = started.status;
    },
    async refresh(t, local, draining) {
      let found: RemoteWorker[] = [];
      clusterReady = null;
      if (t?.mode === 'metadata') {
        const endpoint = endpointOf(t);
        if (endpoint === null) return;
        found = await readMetadata(endpoint, local, opts.log);
      } else if (t?.mode === 'disagg_cluster') {
        if (!t.disagg.disagg_cluster) return;
        const r = await readCluster(t.disagg.disagg_cluster, opts.proxyPort(), local);
        found = r.found;
        clusterReady = r.isReady;
      }
      remote = found.filter((r) => !draining.has(r.url));
    },
    remote: () => [...remote],
    forget(id) {
      remote = remote.filter((r) => r.id !== id);
    },
    async deregister(t, url) {
      if (t && t.mode !== 'static') await deleteKeysAt(t, url, endpointOf(t), opts.proxyPort());
    },
    status(t, defaultMode) {
      if (etcd) etcdStatus = etcd.status();
      const { state, endpoint, message } = etcdStatus;
      const isReady = t?.mode === 'disagg_cluster' ? clusterReady : null;
      return {
        mode: t?.mode ?? defaultMode,
        etcd: { state, endpoint, message },
        isReady,
        remoteWorkers: [...remote],
      };
    },
    async stop() {
      await etcd?.stop();
    },
  };
}
