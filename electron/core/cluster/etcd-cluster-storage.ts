// ClusterStorage over etcd v3 (upstream Etcd3ClusterStorage, trtllm-protocol.md 7.2): one lease per key
// with a TTL, put-if-not-exists as a transaction, expire = one keepalive of the key's lease, prefix watch
// mapping put -> SET and delete (explicit or lease expiry) -> DELETE. This is the only module that imports
// `etcd3`; metadata-client.ts reaches etcd through this class. Layer: core (node).
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';

import {
  type ClusterLog,
  type ClusterStorage,
  ClusterStorageError,
  errorMessage,
  type GetPrefixOptions,
  type SetOptions,
  silentClusterLog,
  type StorageWatchEvent,
  type Unwatch,
} from './cluster-storage';

export interface EtcdClusterStorageOptions {
  /** Deadline of each unary call; upstream's client uses 10 s. */
  callTimeoutMs?: number;
  log?: ClusterLog;
}

/** An etcd lease id as the gRPC layer gives it (int64 as a decimal string); '0' = no lease. */
type LeaseId = string;

export class EtcdClusterStorage implements ClusterStorage {
  private readonly client: Etcd3;
  private readonly log: ClusterLog;
  private readonly callTimeoutMs: number;
  private readonly hosts: string[];
  /** The lease this client granted for each key it set with a TTL. */
  private readonly leases = new Map<string, LeaseId>();
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  /** `hosts`: client URLs such as `http://127.0.0.1:2379`. */
  constructor(hosts: string[], options: EtcdClusterStorageOptions = {}) {
    if (hosts.length === 0) throw new Error('EtcdClusterStorage needs at least one etcd host');
    this.hosts = hosts;
    this.log = options.log ?? silentClusterLog;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    const timeoutMs = this.callTimeoutMs;
    this.client = new Etcd3({
      hosts,
      dialTimeout: timeoutMs,
      // Streams (watch, keepalive) live long; unary calls get a deadline so a dead etcd fails fast.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    });
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const ttlSec = options.ttlSec ?? -1;
    return this.wrap('set', key, async () => {
      // A fresh lease per registration: re-using a lease that already expired would make every later
      // put fail with "requested lease not found".
      const leaseId = ttlSec > 0 ? await this.grant(ttlSec) : null;
      const put = this.client.put(key).value(value);
      if (leaseId !== null) put.lease(leaseId);
      let ok: boolean;
      if (options.overwrite === true) {
        await put.exec();
        ok = true;
      } else {
        const txn = await this.client.if(key, 'Create', '==', 0).then(put).commit();
        ok = txn.succeeded;
      }
      if (!ok) {
        if (leaseId !== null) await this.revoke(leaseId);
        return false;
      }
      const previous = this.leases.get(key);
      if (leaseId !== null) this.leases.set(key, leaseId);
      else this.leases.delete(key);
      // The key moved to the new lease; the old one owns nothing of ours any more.
      if (previous !== undefined && previous !== leaseId) await this.revoke(previous);
      return true;
    });
  }

  async get(key: string): Promise<string | null> {
    return this.wrap('get', key, () => this.client.get(key).string());
  }

  async delete(key: string): Promise<boolean> {
    return this.wrap('delete', key, async () => {
      const res = await this.client.delete().key(key).exec();
      const lease = this.leases.get(key);
      this.leases.delete(key);
      if (lease !== undefined) await this.revoke(lease);
      return res.deleted !== '0';
    });
  }

  async expire(key: string, ttlSec: number): Promise<boolean> {
    if (!(ttlSec > 0)) {
      this.log('error', `expire ${key}: TTL must be > 0, got ${ttlSec}`);
      return false;
    }
    return this.wrap('expire', key, async () => {
      const range = await this.client.get(key).exec();
      const kv: IKeyValue | undefined = range.kvs[0];
      if (kv === undefined) return false;
      if (kv.lease === '0') {
        // A key written without a TTL: give it one by re-putting it under a new lease.
        const leaseId = await this.grant(ttlSec);
        await this.client.put(key).value(kv.value).lease(leaseId).exec();
        this.leases.set(key, leaseId);
        return true;
      }
      // etcd cannot change a lease's TTL; a keepalive renews it for its original TTL (as upstream).
      return this.keepaliveOnce(kv.lease);
    });
  }

  async getPrefix(prefix: string, options: GetPrefixOptions = {}): Promise<Record<string, string>> {
    return this.wrap('getPrefix', prefix, async () => {
      if (options.keysOnly === true) {
        const keys = await this.client.getAll().prefix(prefix).keys();
        return Object.fromEntries(keys.map((k) => [k, '']));
      }
      return this.client.getAll().prefix(prefix).strings();
    });
  }

  async watch(prefix: string, onEvent: (event: StorageWatchEvent) => void): Promise<Unwatch> {
    const watcher = await this.wrap('watch', prefix, () => this.createWatcher(prefix));
    this.watchers.add(watcher);
    const deliver = (event: StorageWatchEvent): void => {
      try {
        onEvent(event);
      } catch (err) {
        this.log(
          'error',
          `watch callback for ${prefix} threw on ${event.type} ${event.key}: ${errorMessage(err)}`,
        );
      }
    };
    watcher.on('put', (kv) =>
      deliver({ type: 'SET', key: kv.key.toString(), value: kv.value.toString() }),
    );
    watcher.on('delete', (kv, previous) =>
      deliver({ type: 'DELETE', key: kv.key.toString(), value: previous?.value.toString() }),
    );
    // The library reconnects and replays from the last revision by itself; errors are only reported.
    watcher.on('error', (err) => this.log('warn', `etcd watch on ${prefix}: ${errorMessage(err)}`));
    watcher.on('disconnected', (err) =>
      this.log('warn', `etcd watch on ${prefix} disconnected: ${errorMessage(err)}`),
    );
    let active = true;
    return async () => {
      if (!active) throw new Error(`not watching prefix '${prefix}' (already unwatched)`);
      active = false;
      this.watchers.delete(watcher);
      await watcher.cancel();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watchers = [...this.watchers];
    this.watchers.clear();
    await Promise.allSettled(watchers.map((w) => w.cancel()));
    this.client.close();
  }

  /**
   * The library's create() waits for 'connected' and, with etcd down, keeps reconnecting without ever
   * rejecting; bound it by the call timeout and cancel a watcher that connects too late.
   */
  private async createWatcher(prefix: string): Promise<Watcher> {
    const pending = this.client.watch().prefix(prefix).withPreviousKV().create();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ClusterStorageError(`watch was not established within ${this.callTimeoutMs} ms`),
          ),
        this.callTimeoutMs,
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (err) {
      pending.then(
        (late) =>
          late
            .cancel()
            .catch((cancelErr: unknown) =>
              this.log('debug', `cancel late watch ${prefix}: ${errorMessage(cancelErr)}`),
            ),
        (lateErr: unknown) =>
          this.log('debug', `watch ${prefix} failed after giving up: ${errorMessage(lateErr)}`),
      );
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async grant(ttlSec: number): Promise<LeaseId> {
    const res = await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttlSec) });
    return res.ID;
  }

  /** Best effort: a lease that is already gone needs no revoking. */
  private async revoke(leaseId: LeaseId): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (err) {
      this.log('debug', `revoke lease ${leaseId}: ${errorMessage(err)}`);
    }
  }

  /** One keepalive round trip on a bidirectional stream; true when etcd reports a positive TTL. */
  private async keepaliveOnce(leaseId: LeaseId): Promise<boolean> {
    const stream = await this.client.leaseClient.leaseKeepAlive();
    try {
      return await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new ClusterStorageError(`lease keepalive timed out after ${this.callTimeoutMs} ms`),
            ),
          this.callTimeoutMs,
        );
        stream.on('data', (res) => {
          clearTimeout(timer);
          // An expired or revoked lease answers TTL 0 (or negative).
          resolve(Number(res.TTL) > 0);
        });
        stream.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        stream.write({ ID: leaseId });
      });
    } finally {
      stream.end();
    }
  }

  /** Turns every etcd/gRPC failure into a ClusterStorageError naming the operation and endpoint. */
  private async wrap<T>(op: string, subject: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ClusterStorageError(`etcd ${op} ${subject}: storage is closed`);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ClusterStorageError) throw err;
      throw new ClusterStorageError(
        `etcd ${op} ${subject} at ${this.hosts.join(',')} failed: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}
