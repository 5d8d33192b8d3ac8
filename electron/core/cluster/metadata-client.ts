// The etcd "metadata server" mode (trtllm-protocol.md 7.1, metadata_config.yaml of 3.4): workers PUT
// `trtllm/<hostname>-<pid>-<ms>` with a JSON value and no lease; the proxy lists those keys, health-checks
// each url twice, deletes dead keys and updates its routers. Layer: core (node).
import { hostname as osHostname } from 'node:os';

import {
  type DecodedMetadataInfo,
  decodeMetadataInfo,
  encodeMetadataInfo,
  firstTwoSegments,
  localIsoTimestamp,
  makeMetadataKey,
  METADATA_KEY_PREFIX,
  metadataMatchesRole,
} from '../../../shared/logic/disagg-cluster-keys';
import type { MetadataConfig } from '../../../shared/model/config';
import {
  type ClusterLog,
  type ClusterStorage,
  errorMessage,
  stderrClusterLog,
} from './cluster-storage';
import { EtcdClusterStorage } from './etcd-cluster-storage';

export type MetadataRole = 'context' | 'generation';

/** One live-looking entry from etcd. */
export interface MetadataServerEntry {
  /** The key reduced to its first two segments, e.g. `trtllm/host-123-1729700000000`. */
  key: string;
  url: string;
  info: DecodedMetadataInfo;
}

export interface RegisterMetadataServerOptions {
  model: string;
  version: string;
  /** `CONTEXT` or `GENERATION` as given to `--server_role`. */
  serverRole: string;
  /** `http://<--host>:<--port>` */
  url: string;
  hostname?: string;
  pid?: number;
  nowMs?: number;
}

/** etcd access for metadata mode, over any ClusterStorage (etcd in production, memory in tests). */
export class MetadataClient {
  readonly storage: ClusterStorage;
  private readonly ownsStorage: boolean;
  private readonly log: ClusterLog;

  constructor(storage: ClusterStorage, options: { ownsStorage?: boolean; log?: ClusterLog } = {}) {
    this.storage = storage;
    this.ownsStorage = options.ownsStorage ?? false;
    this.log = options.log ?? stderrClusterLog;
  }

  /** A client of the etcd named by metadata_config.yaml (`hostname`, `port`). */
  static forConfig(
    config: Pick<MetadataConfig, 'hostname' | 'port'>,
    log?: ClusterLog,
  ): MetadataClient {
    const storage = new EtcdClusterStorage([`http://${config.hostname}:${config.port}`], { log });
    return new MetadataClient(storage, { ownsStorage: true, log });
  }

  /** Worker side: PUT the key (no lease: a crashed worker leaves it behind). Resolves with the key. */
  async registerMetadataServer(options: RegisterMetadataServerOptions): Promise<string> {
    const nowMs = options.nowMs ?? Date.now();
    const key = makeMetadataKey(
      options.hostname ?? osHostname(),
      options.pid ?? process.pid,
      nowMs,
    );
    const tzOffsetMin = -new Date(nowMs).getTimezoneOffset();
    const value = encodeMetadataInfo({
      model: options.model,
      version: options.version,
      timestamp: localIsoTimestamp(nowMs, tzOffsetMin),
      server_role: options.serverRole,
      url: options.url,
    });
    await this.storage.set(key, value, { overwrite: true });
    this.log('info', `registered ${options.url} as ${key}`);
    return key;
  }

  /** Worker side, clean shutdown: delete the key. */
  deregister(key: string): Promise<boolean> {
    return this.deleteKey(key);
  }

  /**
   * Proxy side: every `trtllm/` key reduced to its first two segments, with a parsable value holding a
   * `url`. Keys deeper than two segments are read back at their reduced key, as upstream does.
   */
  async listMetadataServers(): Promise<MetadataServerEntry[]> {
    const all = await this.storage.getPrefix(METADATA_KEY_PREFIX);
    const reduced = [...new Set(Object.keys(all).map(firstTwoSegments))].filter((k) =>
      k.startsWith(METADATA_KEY_PREFIX),
    );
    const entries: MetadataServerEntry[] = [];
    for (const key of reduced.sort()) {
      const text = key in all ? all[key] : await this.storage.get(key);
      const info = text == null ? null : decodeMetadataInfo(text);
      if (info === null) continue;
      entries.push({ key, url: info.url, info });
    }
    return entries;
  }

  /** Proxy side: remove a dead server's key. */
  deleteKey(key: string): Promise<boolean> {
    return this.storage.delete(key);
  }

  async close(): Promise<void> {
    if (this.ownsStorage) await this.storage.close();
  }
}

/** True when `GET <url>/health` answers 200 within the timeout. */
export type HealthCheck = (url: string, timeoutMs: number) => Promise<boolean>;

export const httpHealthCheck: HealthCheck = async (url, timeoutMs) => {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    // Refused, reset or timed out: all mean "not healthy" here; the caller checks a second time.
    return false;
  }
};

export interface MetadataMonitorOptions {
  client: MetadataClient;
  config: Pick<MetadataConfig, 'refresh_interval' | 'health_check_timeout'>;
  /** Roles to follow; default both. */
  roles?: MetadataRole[];
  /** Called with the full new url list of a role whenever it differs from the last one reported. */
  onServersChanged: (role: MetadataRole, urls: string[]) => void;
  /** The lists the routers start with (the static urls), so an identical discovery reports nothing. */
  initialServers?: Partial<Record<MetadataRole, string[]>>;
  healthCheck?: HealthCheck;
  log?: ClusterLog;
}

/**
 * Polls etcd every refresh_interval (protocol 7.1). Unlike upstream, a role with no live server is
 * reported as an empty list with a warning and monitoring goes on (upstream's loop asserted and died).
 */
export class MetadataMonitor {
  private readonly options: MetadataMonitorOptions;
  private readonly healthCheck: HealthCheck;
  private readonly log: ClusterLog;
  private readonly roles: MetadataRole[];
  private readonly current = new Map<MetadataRole, string[]>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<void> | null = null;

  constructor(options: MetadataMonitorOptions) {
    this.options = options;
    this.healthCheck = options.healthCheck ?? httpHealthCheck;
    this.log = options.log ?? stderrClusterLog;
    this.roles = options.roles ?? ['context', 'generation'];
    for (const role of this.roles) {
      this.current.set(role, [...(options.initialServers?.[role] ?? [])]);
    }
  }

  /** Starts the periodic refresh; the first one runs after refresh_interval, as upstream's loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops the loop and waits for a refresh in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** The url lists last reported (or the initial ones). */
  servers(role: MetadataRole): string[] {
    return [...(this.current.get(role) ?? [])];
  }

  /** One refresh: list, health check (twice on failure), delete dead keys, report changed roles. */
  async refreshOnce(): Promise<void> {
    const entries = await this.options.client.listMetadataServers();
    const timeoutMs = this.options.config.health_check_timeout * 1_000;
    const checked = await Promise.all(
      entries.map(async (entry) => {
        if (await this.check(entry.url, timeoutMs)) return { entry, alive: true };
        // Upstream checks a dead-looking server a second time before giving up on it.
        return { entry, alive: await this.check(entry.url, timeoutMs) };
      }),
    );
    for (const { entry, alive } of checked) {
      if (alive) continue;
      this.log('warn', `server ${entry.url} failed two health checks; deleting ${entry.key}`);
      try {
        await this.options.client.deleteKey(entry.key);
      } catch (err) {
        this.log('error', `could not delete dead server key ${entry.key}: ${errorMessage(err)}`);
      }
    }
    const live = checked.filter((c) => c.alive).map((c) => c.entry);
    for (const role of this.roles) {
      const found = new Set(
        live.filter((e) => metadataMatchesRole(e.info, role)).map((e) => e.url),
      );
      const previous = this.current.get(role) ?? [];
      // Known servers keep their place (a router's rotation is not reshuffled); new ones follow in key order.
      const urls = [
        ...previous.filter((u) => found.has(u)),
        ...[...found].filter((u) => !previous.includes(u)),
      ];
      if (urls.length === previous.length && urls.every((u, i) => u === previous[i])) continue;
      for (const url of urls) {
        if (!previous.includes(url)) this.log('info', `Server ${url} is added`);
      }
      for (const url of previous) {
        if (!urls.includes(url)) this.log('info', `Server ${url} is removed`);
      }
      if (urls.length === 0) this.log('warn', `no live ${role} server in etcd; still monitoring`);
      this.current.set(role, urls);
      try {
        this.options.onServersChanged(role, [...urls]);
      } catch (err) {
        this.log('error', `onServersChanged(${role}) threw: ${errorMessage(err)}`);
      }
    }
  }

  private async check(url: string, timeoutMs: number): Promise<boolean> {
    try {
      return await this.healthCheck(url, timeoutMs);
    } catch (err) {
      this.log('debug', `health check of ${url} threw: ${errorMessage(err)}`);
      return false;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = this.refreshOnce()
        .catch((err: unknown) => this.log('error', `metadata refresh failed: ${errorMessage(err)}`))
        .finally(() => {
          this.inFlight = null;
          this.schedule();
        });
    }, this.options.config.refresh_interval * 1_000);
  }
}
