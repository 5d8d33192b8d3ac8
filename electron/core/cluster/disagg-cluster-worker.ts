// A worker's membership in a `disagg_cluster` (upstream DisaggClusterWorker, trtllm-protocol.md 7.2):
// register a leased key once the HTTP server is up, heartbeat with `expire`, re-register (overwrite)
// when the key is gone, delete it on clean shutdown. Layer: core (node).
import {
  type ClusterRoleName,
  type ClusterWorkerInfo,
  encodeWorkerInfo,
  makeWorkerId,
  roleNumber,
  workerKey,
} from '../../../shared/logic/disagg-cluster-keys';
import type { DisaggClusterConfig } from '../../../shared/model/config';
import {
  type ClusterLog,
  type ClusterStorage,
  errorMessage,
  stderrClusterLog,
} from './cluster-storage';

export interface DisaggClusterWorkerOptions {
  role: ClusterRoleName;
  /** The literal `--host` (upstream registers it as is, even 0.0.0.0). */
  host: string;
  port: number;
  config: Pick<
    DisaggClusterConfig,
    'cluster_name' | 'heartbeat_interval_sec' | 'inactive_timeout_sec'
  >;
  storage: ClusterStorage;
  /** Delay between failed registrations; upstream uses 5 s. */
  retryIntervalMs?: number;
  log?: ClusterLog;
  /** For a deterministic worker id in tests. */
  nowMs?: number;
  pid?: number;
  rand?: number;
}

export class DisaggClusterWorker {
  readonly workerId: string;
  readonly workerKey: string;
  private readonly options: DisaggClusterWorkerOptions;
  private readonly log: ClusterLog;
  private readonly retryIntervalMs: number;
  private stopped = false;
  private registered = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Resolves a pending retry/heartbeat sleep early when stop() is called. */
  private wake: (() => void) | null = null;
  /** The running registration loop, so concurrent callers share it. */
  private registering: Promise<boolean> | null = null;

  constructor(options: DisaggClusterWorkerOptions) {
    this.options = options;
    this.log = options.log ?? stderrClusterLog;
    this.retryIntervalMs = options.retryIntervalMs ?? 5_000;
    this.workerId = makeWorkerId(
      options.role,
      options.host,
      options.port,
      options.nowMs ?? Date.now(),
      options.pid ?? process.pid,
      options.rand ?? Math.floor(Math.random() * 1000),
    );
    this.workerKey = workerKey(options.config.cluster_name, this.workerId);
  }

  /** The WorkerInfo written as the key's value (`role` as upstream's IntEnum). */
  get workerInfo(): ClusterWorkerInfo {
    return {
      worker_id: this.workerId,
      host: this.options.host,
      port: this.options.port,
      role: roleNumber(this.options.role),
    };
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  /** Whether heartbeats run: interval > 0 and < inactive_timeout_sec (else upstream disables them). */
  get heartbeatEnabled(): boolean {
    const { heartbeat_interval_sec: hb, inactive_timeout_sec: ttl } = this.options.config;
    return hb > 0 && hb < ttl;
  }

  /**
   * Registers (set with ttl = inactive_timeout_sec, no overwrite), retrying every retryIntervalMs while
   * `retry` is on (default). Resolves true once registered and heartbeating, false when stopped first or,
   * without retry, when the attempt failed.
   */
  register(options: { retry?: boolean } = {}): Promise<boolean> {
    this.stopped = false;
    this.registering ??= this.registerLoop(false, options.retry ?? true).finally(() => {
      this.registering = null;
    });
    return this.registering;
  }

  /** Stops heartbeats and deletes the key (clean shutdown). True when the key was deleted. */
  async deregister(): Promise<boolean> {
    const pending = this.registering;
    this.stop();
    // Let an in-flight set land first, so the delete below cannot be overtaken by it.
    if (pending !== null) await pending;
    this.registered = false;
    try {
      const deleted = await this.options.storage.delete(this.workerKey);
      if (!deleted) this.log('warn', `worker ${this.workerId} deregistration found no key`);
      return deleted;
    } catch (err) {
      this.log('warn', `worker ${this.workerId} deregistration failed: ${errorMessage(err)}`);
      return false;
    }
  }

  /** Stops heartbeats and retries without deleting the key (it then expires after inactive_timeout_sec). */
  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.wake?.();
  }

  private async registerLoop(overwrite: boolean, retry: boolean): Promise<boolean> {
    const { config, storage } = this.options;
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await storage.set(this.workerKey, encodeWorkerInfo(this.workerInfo), {
          ttlSec: config.inactive_timeout_sec,
          overwrite,
        });
      } catch (err) {
        this.log('warn', `worker ${this.workerId} registration error: ${errorMessage(err)}`);
      }
      if (this.stopped) return false;
      if (ok) {
        this.registered = true;
        this.log('info', `worker ${this.workerId} registered at ${this.workerKey}`);
        this.startHeartbeat();
        return true;
      }
      if (!retry) return false;
      this.log(
        'warn',
        `worker ${this.workerId} registration failed, retry in ${this.retryIntervalMs} ms`,
      );
      await this.sleep(this.retryIntervalMs);
    }
    return false;
  }

  private startHeartbeat(): void {
    if (!this.heartbeatEnabled) {
      const { heartbeat_interval_sec: hb, inactive_timeout_sec: ttl } = this.options.config;
      this.log(
        'warn',
        `heartbeat_interval_sec ${hb} is not > 0 and < inactive_timeout_sec ${ttl}: heartbeat is disabled, the key expires after ${ttl} s`,
      );
      return;
    }
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    if (this.stopped || this.heartbeatTimer !== null) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      void this.beat();
    }, this.options.config.heartbeat_interval_sec * 1_000);
    // Heartbeats alone must not keep the process alive; the worker's HTTP server does.
    this.heartbeatTimer.unref();
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const { config, storage } = this.options;
    let alive = false;
    try {
      alive = await storage.expire(this.workerKey, config.inactive_timeout_sec);
    } catch (err) {
      this.log('warn', `worker ${this.workerId} heartbeat error: ${errorMessage(err)}`);
    }
    if (this.stopped) return;
    if (alive) {
      this.scheduleHeartbeat();
      return;
    }
    // The key is gone (proxy restarted its in-memory store, or the lease expired): register again,
    // overwriting (the newer upstream behaviour), and keep trying until it works or we are stopped.
    this.registered = false;
    this.log('warn', `worker ${this.workerId} heartbeat failed, re-registering`);
    if (this.registering === null) {
      this.registering = this.registerLoop(true, true).finally(() => {
        this.registering = null;
      });
    }
    await this.registering;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
