// The ClusterStorage port: the key-value store behind `disagg_cluster` membership, mirroring upstream's
// cluster_storage.py (trtllm-protocol.md 7.2). Implementations: etcd (etcd-cluster-storage.ts), the
// proxy's in-memory store (memory-cluster-store.ts) and its HTTP client (http-cluster-storage.ts).
// Layer: core (node).

/** A change seen by a watcher. DELETE covers explicit deletes and TTL/lease expiry. */
export interface StorageWatchEvent {
  type: 'SET' | 'DELETE';
  key: string;
  /** The new value for SET; the last known value for DELETE when the store knows it. */
  value?: string;
}

export interface SetOptions {
  /** Time to live in seconds; absent or <= 0 means the key never expires. */
  ttlSec?: number;
  /** Replace an existing key. Default false: `set` then resolves false when the key exists. */
  overwrite?: boolean;
}

export interface GetPrefixOptions {
  /** Return `""` for every value (upstream `keys_only`). */
  keysOnly?: boolean;
}

/** Stops one watch; a second call rejects (upstream's unwatch raises KeyError). */
export type Unwatch = () => Promise<void>;

/**
 * A key-value store with TTLs and prefix watches.
 * Semantic failures resolve `false`/`null` (key exists, key unknown); transport failures (store down,
 * timeout) reject with ClusterStorageError so callers can tell "no" from "unreachable".
 */
export interface ClusterStorage {
  /** Writes `value`; false when the key exists and `overwrite` is off. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** The value, or null when the key does not exist or has expired. */
  get(key: string): Promise<string | null>;
  /** True when a key was deleted. */
  delete(key: string): Promise<boolean>;
  /** Refreshes the key's TTL; false when the key is gone (the worker then re-registers). */
  expire(key: string, ttlSec: number): Promise<boolean>;
  /** Every key starting with `prefix` and its value (`""` with keysOnly). */
  getPrefix(prefix: string, options?: GetPrefixOptions): Promise<Record<string, string>>;
  /** Calls `onEvent` for every later change under `prefix`; resolves once the watch is live. */
  watch(prefix: string, onEvent: (event: StorageWatchEvent) => void): Promise<Unwatch>;
  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** The store could not be reached or answered something unexpected. */
export class ClusterStorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterStorageError';
  }
}

export type ClusterLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the cluster modules report what they do; the composition root decides where it goes. */
export type ClusterLog = (level: ClusterLogLevel, message: string) => void;

/** Drops everything. */
export const silentClusterLog: ClusterLog = () => undefined;

/** Writes warnings and errors to stderr, as a server log would. */
export const stderrClusterLog: ClusterLog = (level, message) => {
  if (level === 'warn' || level === 'error') {
    process.stderr.write(`[cluster] ${level}: ${message}\n`);
  }
};

/** Message of an unknown thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
