// The proxy side of `disagg_cluster` membership (upstream DisaggClusterManager, trtllm-protocol.md 7.2
// and 7.4): reads the workers already registered, then follows the prefix watch, tracks the workers of
// each role, answers readiness and `/cluster_info`. Layer: core (node).
import {
  type ClusterRoleName,
  type ClusterWorkerInfo,
  decodeWorkerInfo,
  roleNameOf,
  workersPrefix,
} from '../../../shared/logic/disagg-cluster-keys';
import type { DisaggClusterConfig } from '../../../shared/model/config';
import {
  type ClusterLog,
  type ClusterStorage,
  errorMessage,
  stderrClusterLog,
  type StorageWatchEvent,
  type Unwatch,
} from './cluster-storage';
import { parseClusterUri } from './cluster-uri';
import { EtcdClusterStorage } from './etcd-cluster-storage';
import { MemoryClusterStore } from './memory-cluster-store';

/** Upstream's `/cluster_info` body in `disagg_cluster` mode. */
export interface ClusterInfo {
  current_workers: {
    context_servers: ClusterWorkerInfo[];
    generation_servers: ClusterWorkerInfo[];
  };
  minimal_instances: { context_servers: number; generation_servers: number };
  is_ready: boolean;
}

export type WorkerListener = (info: ClusterWorkerInfo) => void;

export interface DisaggClusterManagerOptions {
  config: Pick<DisaggClusterConfig, 'cluster_uri' | 'cluster_name' | 'minimal_instances'>;
  /**
   * The store to read and watch. Default from `cluster_uri`: etcd:// -> an etcd client; http:// -> a
   * MemoryClusterStore owned by the manager, which the proxy serves with handleClusterStoreRequest.
   */
  storage?: ClusterStorage;
  log?: ClusterLog;
}

/** `http://host:port` of a registered worker, as the routers want it. */
export function workerUrl(info: ClusterWorkerInfo): string {
  return `http://${info.host}:${info.port}`;
}

export class DisaggClusterManager {
  /** The in-memory store when cluster_uri is http:// and no storage was injected; else null. */
  readonly store: MemoryClusterStore | null;
  readonly storage: ClusterStorage;
  readonly prefix: string;
  private readonly ownsStorage: boolean;
  private readonly log: ClusterLog;
  private readonly minimal: { context_servers: number; generation_servers: number };
  /** storage key -> WorkerInfo, per role. */
  private readonly workersByRole: Record<ClusterRoleName, Map<string, ClusterWorkerInfo>> = {
    CONTEXT: new Map(),
    GENERATION: new Map(),
  };
  private readonly added = new Set<WorkerListener>();
  private readonly removed = new Set<WorkerListener>();
  private unwatch: Unwatch | null = null;

  constructor(options: DisaggClusterManagerOptions) {
    const { config } = options;
    this.log = options.log ?? stderrClusterLog;
    this.prefix = workersPrefix(config.cluster_name);
    this.minimal = { ...config.minimal_instances };
    if (options.storage !== undefined) {
      this.storage = options.storage;
      this.store = null;
      this.ownsStorage = false;
    } else {
      const parsed = parseClusterUri(config.cluster_uri);
      this.store = parsed.kind === 'http' ? new MemoryClusterStore({ log: this.log }) : null;
      this.storage =
        this.store ??
        new EtcdClusterStorage(parsed.kind === 'etcd' ? parsed.hosts : [], { log: this.log });
      this.ownsStorage = true;
    }
  }

  /** Called for each worker that appears (including those found at start). Returns an unsubscribe. */
  onWorkerAdded(listener: WorkerListener): () => void {
    this.added.add(listener);
    return () => this.added.delete(listener);
  }

  /** Called for each worker whose key was deleted or expired. Returns an unsubscribe. */
  onWorkerRemoved(listener: WorkerListener): () => void {
    this.removed.add(listener);
    return () => this.removed.delete(listener);
  }

  /**
   * Reports the workers already registered, then follows changes. The watch is opened first and its
   * events held back until the initial read is applied, which closes the gap upstream notes between
   * its get_prefix and its watch. Unlike the Oct 2025 proxy, existing workers ARE reported to listeners
   * (routers get seeded). Resolves with the current workers once the held-back events are applied.
   */
  async start(): Promise<ClusterWorkerInfo[]> {
    if (this.unwatch !== null) throw new Error('DisaggClusterManager already started');
    const held: StorageWatchEvent[] = [];
    let live = false;
    this.unwatch = await this.storage.watch(this.prefix, (event) => {
      if (live) this.apply(event);
      else held.push(event);
    });
    try {
      const existing = await this.storage.getPrefix(this.prefix);
      for (const [key, value] of Object.entries(existing)) this.apply({ type: 'SET', key, value });
    } catch (err) {
      await this.stop();
      throw err;
    }
    live = true;
    for (const event of held.splice(0)) this.apply(event);
    return this.allWorkers();
  }

  /** Stops watching; closes the storage when the manager created it. Idempotent. */
  async stop(): Promise<void> {
    const unwatch = this.unwatch;
    this.unwatch = null;
    if (unwatch !== null) {
      try {
        await unwatch();
      } catch (err) {
        this.log('debug', `unwatch ${this.prefix}: ${errorMessage(err)}`);
      }
    }
    if (this.ownsStorage) await this.storage.close();
  }

  /** Current workers of one role, in registration order. */
  workers(role: ClusterRoleName): ClusterWorkerInfo[] {
    return [...this.workersByRole[role].values()];
  }

  /** Ready when both roles have at least their minimal_instances (7.4). */
  isReady(): boolean {
    return (
      this.workersByRole.CONTEXT.size >= this.minimal.context_servers &&
      this.workersByRole.GENERATION.size >= this.minimal.generation_servers
    );
  }

  clusterInfo(): ClusterInfo {
    return {
      current_workers: {
        context_servers: this.workers('CONTEXT'),
        generation_servers: this.workers('GENERATION'),
      },
      minimal_instances: { ...this.minimal },
      is_ready: this.isReady(),
    };
  }

  private allWorkers(): ClusterWorkerInfo[] {
    return [...this.workers('CONTEXT'), ...this.workers('GENERATION')];
  }

  private apply(event: StorageWatchEvent): void {
    if (event.type === 'DELETE') {
      this.removeKey(event.key, 'inactive');
      return;
    }
    const info = decodeWorkerInfo(event.value ?? '');
    const role = info === null ? null : roleNameOf(info.role);
    if (info === null || role === null) {
      this.log(
        'error',
        `ignoring worker key ${event.key}: unreadable WorkerInfo ${JSON.stringify(event.value ?? '')}`,
      );
      return;
    }
    const known = this.findKey(event.key);
    if (known !== null) {
      const same =
        known.role === role &&
        known.info.worker_id === info.worker_id &&
        known.info.host === info.host &&
        known.info.port === info.port;
      // A re-registration with the same value (heartbeat recovery with overwrite) changes nothing.
      if (same) return;
      this.removeKey(event.key, 'updated');
    }
    this.workersByRole[role].set(event.key, info);
    this.logStatus(info, 'active');
    this.emit(this.added, info);
  }

  private removeKey(key: string, why: string): void {
    const known = this.findKey(key);
    if (known === null) {
      this.log('debug', `delete event for unknown worker key ${key}`);
      return;
    }
    this.workersByRole[known.role].delete(key);
    this.logStatus(known.info, why);
    this.emit(this.removed, known.info);
  }

  private findKey(key: string): { role: ClusterRoleName; info: ClusterWorkerInfo } | null {
    for (const role of ['CONTEXT', 'GENERATION'] as const) {
      const info = this.workersByRole[role].get(key);
      if (info !== undefined) return { role, info };
    }
    return null;
  }

  private logStatus(info: ClusterWorkerInfo, change: string): void {
    this.log(
      'info',
      `worker ${info.worker_id} becomes ${change}; context workers ${this.workersByRole.CONTEXT.size}/${this.minimal.context_servers}, generation workers ${this.workersByRole.GENERATION.size}/${this.minimal.generation_servers}`,
    );
  }

  private emit(listeners: Set<WorkerListener>, info: ClusterWorkerInfo): void {
    for (const listener of [...listeners]) {
      try {
        listener(info);
      } catch (err) {
        this.log('error', `cluster listener threw for ${info.worker_id}: ${errorMessage(err)}`);
      }
    }
  }
}
