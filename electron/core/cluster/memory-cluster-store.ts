// The in-memory key-value store the proxy hosts on its own port when `cluster_uri` is http://
// (trtllm-protocol.md 7.2, upstream HttpClusterStorageServer). TTLs are swept every second and expired
// keys produce DELETE events. Layer: core (node).
import {
  type ClusterLog,
  type ClusterStorage,
  errorMessage,
  type GetPrefixOptions,
  type SetOptions,
  silentClusterLog,
  type StorageWatchEvent,
  type Unwatch,
} from './cluster-storage';

interface Entry {
  value: string;
  /** Monotonic ms at which the key expires; null = never. */
  expiresAtMs: number | null;
}

interface Watch {
  prefix: string;
  onEvent: (event: StorageWatchEvent) => void;
}

export interface MemoryClusterStoreOptions {
  /** How often expired keys are swept; upstream uses 1 s. */
  sweepIntervalMs?: number;
  /** Monotonic clock in ms (tests may inject one). */
  nowMs?: () => number;
  log?: ClusterLog;
}

const monotonicMs = (): number => performance.now();

export class MemoryClusterStore implements ClusterStorage {
  private readonly entries = new Map<string, Entry>();
  private readonly watches = new Set<Watch>();
  private readonly nowMs: () => number;
  private readonly log: ClusterLog;
  private sweepTimer: NodeJS.Timeout | null;

  constructor(options: MemoryClusterStoreOptions = {}) {
    this.nowMs = options.nowMs ?? monotonicMs;
    this.log = options.log ?? silentClusterLog;
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1_000);
    // The sweep alone must not keep a process alive.
    this.sweepTimer.unref();
  }

  set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    this.dropIfExpired(key);
    if (this.entries.has(key) && options.overwrite !== true) return Promise.resolve(false);
    const ttlSec = options.ttlSec ?? -1;
    this.entries.set(key, {
      value,
      expiresAtMs: ttlSec > 0 ? this.nowMs() + ttlSec * 1_000 : null,
    });
    this.notify({ type: 'SET', key, value });
    return Promise.resolve(true);
  }

  get(key: string): Promise<string | null> {
    // Upstream deletes (and announces) an expired key when it is read before the sweep runs.
    this.dropIfExpired(key);
    return Promise.resolve(this.entries.get(key)?.value ?? null);
  }

  delete(key: string): Promise<boolean> {
    const entry = this.entries.get(key);
    if (entry === undefined) return Promise.resolve(false);
    this.entries.delete(key);
    this.notify({ type: 'DELETE', key, value: entry.value });
    return Promise.resolve(true);
  }

  expire(key: string, ttlSec: number): Promise<boolean> {
    this.dropIfExpired(key);
    const entry = this.entries.get(key);
    // ttl <= 0 is refused, as the etcd storage does (a lease TTL must be positive).
    if (entry === undefined || !(ttlSec > 0)) return Promise.resolve(false);
    entry.expiresAtMs = this.nowMs() + ttlSec * 1_000;
    return Promise.resolve(true);
  }

  getPrefix(prefix: string, options: GetPrefixOptions = {}): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    for (const key of [...this.entries.keys()]) {
      if (!key.startsWith(prefix) || this.dropIfExpired(key)) continue;
      result[key] = options.keysOnly === true ? '' : (this.entries.get(key)?.value ?? '');
    }
    return Promise.resolve(result);
  }

  watch(prefix: string, onEvent: (event: StorageWatchEvent) => void): Promise<Unwatch> {
    const watch: Watch = { prefix, onEvent };
    this.watches.add(watch);
    return Promise.resolve(() => {
      if (!this.watches.delete(watch)) {
        return Promise.reject(new Error(`not watching prefix '${prefix}' (already unwatched)`));
      }
      return Promise.resolve();
    });
  }

  close(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.watches.clear();
    return Promise.resolve();
  }

  /** Number of live keys (diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  /** Removes every expired key now, announcing each as DELETE. Runs on the sweep timer. */
  sweep(): void {
    for (const key of [...this.entries.keys()]) this.dropIfExpired(key);
  }

  /** Deletes the key if its TTL has passed; true when it did. */
  private dropIfExpired(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAtMs === null || entry.expiresAtMs > this.nowMs()) {
      return false;
    }
    this.entries.delete(key);
    this.log('debug', `key ${key} expired`);
    this.notify({ type: 'DELETE', key, value: entry.value });
    return true;
  }

  private notify(event: StorageWatchEvent): void {
    for (const watch of [...this.watches]) {
      if (!event.key.startsWith(watch.prefix)) continue;
      try {
        watch.onEvent(event);
      } catch (err) {
        this.log(
          'error',
          `watch callback for ${watch.prefix} threw on ${event.type} ${event.key}: ${errorMessage(err)}`,
        );
      }
    }
  }
}
