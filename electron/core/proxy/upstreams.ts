// The workers behind the proxy: the context and generation pools with their routers, readiness, the
// routers' view of a request, route pins, the kv_cache_aware routers' KV event source (kv-event-feed.ts:
// a local poller, or a fleet's feed), and the steady-clock sync and perf metrics that follow membership.
// One object the request handler and the endpoints share.
// Layer: core.
import type http from 'node:http';

import { createRouter } from '../../../shared/logic/routers/create-router';
import { KvCacheAwareRouter } from '../../../shared/logic/routers/kv-cache-aware';
import { LoadBalancingRouter } from '../../../shared/logic/routers/load-balancing';
import type { RouteRequest } from '../../../shared/logic/routers/types';
import { SteadyClockSync } from './clock-sync';
import type { KvEventSink, KvEventSource } from './kv-event-feed';
import { KvEventPoller } from './kv-event-feed';
import { PerfMetricsCollector } from './perf-metrics';
import type { ProxyLimits, ProxyLog, ProxyServerOptions, RouterSettings } from './proxy-options';
import { ROUTER_DEFAULT } from './proxy-options';
import type { Endpoint, RawJson } from './request-flow';
import { memberValue, routeRequestOf } from './request-flow';
import type { MembershipUpdate, RoutingUpdate } from './types';
import type { WorkerEndpoint, WorkerRole, WorkerSnapshot } from './worker-pool';
import { DEFAULT_EJECTION, normalizeWorkerUrl, WorkerPool } from './worker-pool';

export interface Readiness {
  ready: boolean;
  reason: string;
}

/** A routing exclusion pinning a phase to one named worker; 'unknown' when the name is no member. */
export type PinExclusion = Set<string> | 'unknown' | undefined;

export class Upstreams {
  readonly context: WorkerPool;
  readonly generation: WorkerPool;
  readonly perf: PerfMetricsCollector;
  /** Set by the server: readiness off while draining or before the gated start ends. */
  isDraining = false;
  isStarting: boolean;
  private readonly clockSync: SteadyClockSync | undefined;
  /** Feeds the kv_cache_aware routers: a local poller, or a fleet's feed (options.kvEventSource). */
  private readonly kvSource: KvEventSource;
  private isKvSourceStarted = false;

  constructor(
    private readonly options: ProxyServerOptions,
    private readonly limits: ProxyLimits,
    private readonly log: ProxyLog,
  ) {
    const ejection = { ...DEFAULT_EJECTION, ...options.ejection };
    const poolLog = (m: string): void => log('info', m);
    const poolOf = (
      role: WorkerRole,
      router: RouterSettings | undefined,
      urls: string[],
    ): WorkerPool => {
      const pool = new WorkerPool(
        role,
        this.makeRouter(router, role),
        limits.maxSocketsPerWorker,
        ejection,
        poolLog,
      );
      pool.setMembers(urls);
      return pool;
    };
    this.context = poolOf('context', options.contextRouter, options.contextUrls);
    this.generation = poolOf('generation', options.generationRouter, options.generationUrls);
    this.perf = new PerfMetricsCollector(options.perfMetricsMaxRequests ?? 0);
    // Upstream aligns every worker's steady clock when perf metrics are on (8.3): at start and on every join.
    this.clockSync = this.perf.isEnabled ? new SteadyClockSync({ log }) : undefined;
    this.isStarting = options.isStartingGated === true;
    const poller = new KvEventPoller(limits.kvEventsPollMs, log);
    this.kvSource = options.kvEventSource ? options.kvEventSource(poller, log) : poller;
  }

  pool(role: WorkerRole): WorkerPool {
    return role === 'context' ? this.context : this.generation;
  }

  readiness(): Readiness {
    if (this.isDraining) return { ready: false, reason: 'Proxy is shutting down' };
    if (this.isStarting) {
      return { ready: false, reason: 'Proxy is starting: waiting for workers to become healthy' };
    }
    const min = this.options.minimalInstances;
    const needCtx = this.options.isGenOnlyBenchmark ? 0 : (min?.context ?? 1);
    const needGen = min?.generation ?? 1;
    if (this.context.size() < needCtx || this.generation.size() < needGen) {
      const counts = `${this.context.size()}/${needCtx} context and ${this.generation.size()}/${needGen} generation servers`;
      return {
        ready: false,
        reason: min ? `Cluster is not ready: ${counts}` : `Not enough servers: ${counts}`,
      };
    }
    return { ready: true, reason: '' };
  }

  /** The routers' view of a request; the prompt is parsed only when a router needs it. */
  routeRequestFor(endpoint: Endpoint, body: RawJson, prompt: Buffer | undefined): RouteRequest {
    if (!routerNeedsPrompt(this.context) && !routerNeedsPrompt(this.generation)) {
      return { endpoint };
    }
    if (endpoint === 'completions') {
      let parsed: unknown;
      try {
        parsed = prompt === undefined ? undefined : JSON.parse(prompt.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      return routeRequestOf(endpoint, { prompt: parsed });
    }
    return routeRequestOf(endpoint, {
      messages: memberValue(body, 'messages'),
      prompt_token_ids: memberValue(body, 'prompt_token_ids'),
    });
  }

  /**
   * The routing exclusion that pins a phase to the worker a request names in `x-disagg-context-worker` /
   * `x-disagg-generation-worker` (the playground's "send to this pair"): every other member is excluded, so
   * the router can only pick the named one, and a retry finds nothing else. 'unknown' when it names no member;
   * undefined when the request pins nothing (the common case: no set is made).
   */
  pinExclusion(req: http.IncomingMessage, pool: WorkerPool, header: string): PinExclusion {
    const raw = req.headers[header];
    if (typeof raw !== 'string' || raw === '') return undefined;
    let pinned: string;
    try {
      pinned = normalizeWorkerUrl(raw);
    } catch {
      return 'unknown';
    }
    if (pool.get(pinned) === undefined) return 'unknown';
    const excluded = new Set<string>();
    for (const url of pool.urls()) if (url !== pinned) excluded.add(url);
    return excluded;
  }

  snapshot(): WorkerSnapshot[] {
    return [...this.context.snapshot(), ...this.generation.snapshot()];
  }

  all(): WorkerEndpoint[] {
    return [...this.context.all(), ...this.generation.all()];
  }

  updateMembership(m: MembershipUpdate): void {
    if (m.context) this.context.setMembers(m.context);
    if (m.generation) this.generation.setMembers(m.generation);
    this.membersChanged();
  }

  addWorker(role: WorkerRole, url: string): void {
    this.pool(role).addMember(url);
    this.membersChanged();
  }

  removeWorker(role: WorkerRole, url: string): void {
    this.pool(role).removeMember(url);
    this.membersChanged();
  }

  setRouting(r: RoutingUpdate): void {
    const merge = (c: RoutingUpdate['context']): RouterSettings => ({ ...ROUTER_DEFAULT, ...c });
    if (r.context) this.context.setRouter(this.makeRouter(merge(r.context), 'context'));
    if (r.generation) this.generation.setRouter(this.makeRouter(merge(r.generation), 'generation'));
    this.startKvPolling();
    this.kvSource.membersChanged();
  }

  /** Called once listening: kv event polling, and the clock sync unless the start is gated. */
  start(): void {
    this.startKvPolling();
    if (!this.isStarting) this.syncClocks();
  }

  /** Ends the startup gate (the CLI saw the static workers healthy), like upstream's server preparation. */
  markStarted(): void {
    this.isStarting = false;
    this.syncClocks();
  }

  stopPolling(): void {
    this.kvSource.stop();
  }

  /** Stops polling and closes the pools' sockets and probes. */
  close(): void {
    this.stopPolling();
    this.context.close();
    this.generation.close();
    this.clockSync?.close();
  }

  private makeRouter(
    cfg: RouterSettings | undefined,
    role: WorkerRole,
  ): ReturnType<typeof createRouter> {
    return createRouter(cfg ?? ROUTER_DEFAULT, [], role, this.options.tokenizer);
  }

  private syncClocks(): void {
    this.clockSync?.reconcile(this.all().map((w) => w.url));
  }

  private membersChanged(): void {
    this.syncClocks();
    this.kvSource.membersChanged();
  }

  /** Starts the KV event source once some pool routes by KV cache (nothing to feed before). */
  private startKvPolling(): void {
    if (this.isKvSourceStarted || this.kvPools().length === 0) return;
    this.isKvSourceStarted = true;
    this.kvSource.start(this.kvSink());
  }

  private kvPools(): WorkerPool[] {
    return [this.context, this.generation].filter((p) => p.routerType === 'kv_cache_aware');
  }

  /** The routers' side of the KV event source: one endpoint per url, events to every router that has it. */
  private kvSink(): KvEventSink {
    const routersOf = (url: string): KvCacheAwareRouter[] => {
      const out: KvCacheAwareRouter[] = [];
      for (const pool of this.kvPools()) {
        const r = pool.getRouter();
        if (r instanceof KvCacheAwareRouter && pool.get(url) !== undefined) out.push(r);
      }
      return out;
    };
    return {
      kvWorkers: () => {
        const byUrl = new Map<string, WorkerEndpoint>();
        for (const pool of this.kvPools()) {
          for (const w of pool.all()) if (!byUrl.has(w.url)) byUrl.set(w.url, w);
        }
        return [...byUrl.values()];
      },
      applyKvEvents: (url, events) => {
        for (const r of routersOf(url)) r.applyEvents(url, events);
      },
      replaceKvBlocks: (url, hashes) => {
        for (const r of routersOf(url)) r.replaceBlocks(url, hashes);
      },
    };
  }
}

/** Whether a pool's router looks at prompts (kv_cache_aware, or load_balancing by tokens). */
function routerNeedsPrompt(pool: WorkerPool): boolean {
  const r = pool.getRouter();
  return r.type === 'kv_cache_aware' || (r instanceof LoadBalancingRouter && r.usesTokens);
}
