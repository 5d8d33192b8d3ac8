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
  if (t.mode === 'metadata')
    {return t.metadata ? `http://${t.metadata.hostname}:${t.metadata.port}` : null;}
  const uri = t.disagg.disagg_cluster?.cluster_uri;
  if (t.mode === 'disagg_cluster' && uri?.startsWith('etcd://'))
    {return `http://${uri.slice('etcd://'.length).split(',')[0] ?? ''}`;}
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

/** The registry service; starts nothing before ensureEtcd. */
export function createRegistryService(opts: RegistryServiceOptions): RegistryService {
  const { log } = opts;
  let etcd: EmbeddedEtcd | null = null;
  let etcdStatus: EtcdStatus = { state: 'off', endpoint: null, message: null };
  let remote: RemoteWorker[] = [];
  let clusterReady: boolean | null = null;

  const endpointOf = (t: AppliedTopology | null): string | null =>
    opts.etcdEndpointSetting() ?? namedEtcdEndpoint(t);
  /** A client of the metadata server (trtllm/<id> keys) with short deadlines: the console only peeks. */
  const metadataClientOf = (endpoint: string): MetadataClient =>
    new MetadataClient(
      createClusterStorage(`etcd://${hostPortOf(endpoint)}`, { etcdCallTimeoutMs: 3000 }),
      { ownsStorage: true, log: () => undefined },
    );
  const clusterStorageOf = (cluster: DisaggClusterConfig): ClusterStorage => {
    const uri = cluster.cluster_uri.startsWith('http')
      ? `http://127.0.0.1:${opts.proxyPort()}`
      : cluster.cluster_uri;
    return createClusterStorage(uri, { httpTimeoutMs: 3000, etcdCallTimeoutMs: 3000 });
  };

  const startEmbedded = async (endpoint: string, clientPort: number): Promise<void> => {
    try {
      etcd = await startEmbeddedEtcd({
        dataDir: join(opts.dataDir, 'etcd'),
        binary: opts.etcdBinary,
        clientPort,
        env: opts.env,
        log: (line) => log('debug', `etcd: ${line}`),
      });
      etcdStatus = etcd.status();
      log('info', `embedded etcd listening on ${etcd.endpoint}`);
    } catch (err) {
      etcdStatus =
        err instanceof EtcdStartError
          ? { state: err.status.state, endpoint: err.status.endpoint, message: err.status.message }
          : { state: 'unavailable', endpoint, message: errText(err) };
      log('warn', etcdStatus.message ?? ETCD_MISSING_MESSAGE);
    }
  };

  const readMetadata = async (
    t: AppliedTopology,
    local: ReadonlySet<string>,
  ): Promise<RemoteWorker[]> => {
    const endpoint = endpointOf(t);
    if (endpoint === null) return [];
    const client = metadataClientOf(endpoint);
    const found: RemoteWorker[] = [];
    try {
      for (const e of await client.listMetadataServers()) {
        const url = normalizeUrl(e.url);
        const role = (e.info.server_role ?? e.info.server_type ?? '').toLowerCase();
        if (local.has(url) || (role !== 'context' && role !== 'generation')) continue;
        // Health is checked twice before a key is called dead, as upstream's monitor does (7.1).
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
  };

  const readCluster = async (
    cluster: DisaggClusterConfig,
    local: ReadonlySet<string>,
  ): Promise<RemoteWorker[]> => {
    const storage = clusterStorageOf(cluster);
    const found: RemoteWorker[] = [];
    try {
      const entries = await storage
        .getPrefix(workersPrefix(cluster.cluster_name))
        .catch(() => ({}));
      const counts = { CONTEXT: 0, GENERATION: 0 };
      for (const [key, value] of Object.entries(entries)) {
        const info = decodeWorkerInfo(value);
        const roleName = info ? roleNameOf(info.role) : null;
        if (!info || roleName === null) continue;
        counts[roleName]++;
        const url = normalizeUrl(`http://${info.host}:${info.port}`);
        if (local.has(url)) continue;
        found.push({
          id: info.worker_id || key,
          role: roleName === 'CONTEXT' ? 'context' : 'generation',
          url,
          model: null,
          isHealthy: await answersHealth(url, 2000),
          lastSeenMs: Date.now(),
        });
      }
      clusterReady =
        counts.CONTEXT >= cluster.minimal_instances.context_servers &&
        counts.GENERATION >= cluster.minimal_instances.generation_servers;
    } finally {
      await storage.close();
    }
    return found;
  };

  const deleteKeysAt = async (t: AppliedTopology, url: string): Promise<void> => {
    if (t.mode === 'metadata') {
      const endpoint = endpointOf(t);
      if (endpoint === null) return;
      const client = metadataClientOf(endpoint);
      try {
        for (const e of await client.listMetadataServers())
          {if (normalizeUrl(e.url) === url) await client.deleteKey(e.key);}
      } finally {
        await client.close();
      }
      return;
    }
    const cluster = t.disagg.disagg_cluster;
    if (!cluster) return;
    const storage = clusterStorageOf(cluster);
    try {
      const entries = await storage
        .getPrefix(workersPrefix(cluster.cluster_name))
        .catch(() => ({}));
      for (const [key, value] of Object.entries(entries)) {
        const info = decodeWorkerInfo(value);
        if (info && normalizeUrl(`http://${info.host}:${info.port}`) === url)
          {await storage.delete(key);}
      }
    } finally {
      await storage.close();
    }
  };

  return {
    async ensureEtcd(t) {
      const endpoint = endpointOf(t);
      if (endpoint === null) {
        etcdStatus = etcd ? etcd.status() : { state: 'off', endpoint: null, message: null };
        return;
      }
      if (etcd && etcd.endpoint === normalizeUrl(endpoint)) {
        etcdStatus = etcd.status();
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
      if (isSetting || !m)
        {etcdStatus = {
          state: 'unavailable',
          endpoint,
          message: `etcd at ${endpoint} does not answer`,
        };}
      else await startEmbedded(endpoint, Number(m[2]));
    },
    async refresh(t, local, draining) {
      if (!t || t.mode === 'static') {
        remote = [];
        clusterReady = null;
        return;
      }
      let found: RemoteWorker[];
      if (t.mode === 'metadata') {
        found = await readMetadata(t, local);
        clusterReady = null;
      } else {
        if (!t.disagg.disagg_cluster) return;
        found = await readCluster(t.disagg.disagg_cluster, local);
      }
      remote = found.filter((r) => !draining.has(r.url));
    },
    remote: () => [...remote],
    forget(id) {
      remote = remote.filter((r) => r.id !== id);
    },
    async deregister(t, url) {
      if (t && t.mode !== 'static') await deleteKeysAt(t, url);
    },
    status(t, defaultMode) {
      if (etcd) etcdStatus = etcd.status();
      const { state, endpoint, message } = etcdStatus;
      return {
        mode: t?.mode ?? defaultMode,
        etcd: { state, endpoint, message },
        isReady: t?.mode === 'disagg_cluster' ? clusterReady : null,
        remoteWorkers: [...remote],
      };
    },
    async stop() {
      await etcd?.stop();
    },
  };
}
