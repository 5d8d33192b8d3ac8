// The proxy server's options, their defaults, and the logger built from them. Layer: core.
import type http from 'node:http';

import type { Tokenizer } from '../../../shared/logic/routers/kv-cache-aware';
import {
  dialectOf,
  NEWEST_TRTLLM_VERSION,
  type TrtllmVersion,
} from '../../../shared/logic/trtllm-dialect';
import type { RouterConfig } from '../../../shared/model/config';
import type { KvEventSourceFactory } from './kv-event-feed';
import type { ValidationOptions } from './request-validate';
import type { LogLevel } from './types';
import { LOG_LEVEL_ORDER } from './types';
import type { EjectionPolicy } from './worker-pool';

export type RouterSettings = Pick<
  RouterConfig,
  'type' | 'use_tokens' | 'max_batch_size' | 'tokens_per_block'
>;

export const ROUTER_DEFAULT: RouterSettings = {
  type: 'round_robin',
  use_tokens: false,
  max_batch_size: 64,
  tokens_per_block: 32,
};

export interface ProxyServerOptions {
  host: string;
  /** 0 picks a free port; read it back from `listen()`. */
  port: number;
  contextUrls: string[];
  generationUrls: string[];
  contextRouter?: RouterSettings;
  generationRouter?: RouterSettings;
  /** Extra attempts on connection errors, each on another worker (disagg_config `max_retries`). */
  maxRetries?: number;
  /** `-r`: total bound for one upstream call, including a whole streamed generation. */
  requestTimeoutMs?: number;
  /** Context phase bound (well below upstream's 180 s). */
  contextTimeoutMs?: number;
  /** Generation: time to response headers. */
  firstByteTimeoutMs?: number;
  /** Generation stream: longest silence between chunks. */
  idleTimeoutMs?: number;
  /** One request from its body's arrival to its last byte, queue wait included (504, or an SSE error once streaming). */
  totalTimeoutMs?: number;
  conditionalMaxLocalPrefillLength?: number;
  /** TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1 (5.7). */
  isGenOnlyBenchmark?: boolean;
  apiKey?: string;
  maxBodyBytes?: number;
  /** The whole request body must arrive within this (408); read before a slot is taken. */
  bodyTimeoutMs?: number;
  /** Slowest acceptable body rate after `bodyRateGraceMs` (408); 0 turns the rate check off. */
  minBodyBytesPerS?: number;
  bodyRateGraceMs?: number;
  /** Request line and headers must arrive within this (408, Node's headersTimeout). */
  headersTimeoutMs?: number;
  /** Open connections one client address may hold; requests on the excess get 429 (0: no limit). */
  maxConnectionsPerClient?: number;
  /** Requests served at once (admission.ts); the rest wait in a bounded queue. */
  maxConcurrency?: number;
  /** Queue capacity; beyond it, 429 + Retry-After at once. */
  maxQueue?: number;
  /** Acceptable queue wait; a queue standing above it for queueIntervalMs sheds the excess with 503. */
  queueTargetMs?: number;
  queueIntervalMs?: number;
  /** Hard bound on one request's queue wait (503). */
  queueTimeoutMs?: number;
  /**
   * CPU-pressure admission (loop-pressure.ts): once the event loop's mean delay stays above this for
   * loopIntervalMs, arrivals beyond a cap on requests in the process get 503 at headers time (0: off).
   */
  maxLoopDelayMs?: number;
  /** The same on event-loop utilization (0..1; 1: not watched). */
  maxLoopUtilization?: number;
  loopIntervalMs?: number;
  perfMetricsMaxRequests?: number;
  /** disagg_cluster readiness thresholds (7.4); without them the proxy is ready with >= 1 worker per role. */
  minimalInstances?: { context: number; generation: number };
  clusterInfo?: () => unknown;
  /** Serves /set /get /delete /expire /get_prefix when disagg_cluster.cluster_uri is http. */
  clusterStoreHandler?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => unknown;
  tokenizer?: Tokenizer;
  kvEventsPollMs?: number;
  /** Where the kv_cache_aware routers' events come from; default: this proxy polls (kv-event-feed.ts). */
  kvEventSource?: KvEventSourceFactory;
  maxSocketsPerWorker?: number;
  ejection?: Partial<EjectionPolicy>;
  logLevel?: LogLevel;
  log?: (level: LogLevel, msg: string) => void;
  recordBatchMs?: number;
  /** Start not ready ("waiting for workers") until `markStarted()`; the CLI waits for static workers' /health. */
  isStartingGated?: boolean;
  /** The workers' TensorRT-LLM release: its request rules (docs/upstream-versions.md); default the newest. */
  trtllmVersion?: TrtllmVersion;
  /** disagg YAML `internal_request_auth_key`: generation calls with protected params are signed (section 2). */
  internalRequestAuthKey?: string;
  /** disagg YAML `allow_request_chat_template` (1.3 refuses a per-request chat_template without it). */
  allowRequestChatTemplate?: boolean;
  /** Model ids the workers serve (their /v1/models); a request naming another is refused with 400. */
  servedModels?: string[];
  /** disagg YAML `return_perf_metrics`: `X-TRTLLM-return-metrics: 1` gets merged per-request metrics. */
  returnPerfMetrics?: boolean;
}

/** The request rules of the workers' release, from the options. */
export function requestRulesOf(options: ProxyServerOptions): ValidationOptions {
  return {
    dialect: dialectOf(options.trtllmVersion ?? NEWEST_TRTLLM_VERSION),
    allowRequestChatTemplate: options.allowRequestChatTemplate === true,
    ...(options.servedModels ? { knownModels: options.servedModels } : {}),
  };
}

/** The numeric options with their defaults applied. */
export interface ProxyLimits {
  maxRetries: number;
  requestTimeoutMs: number;
  contextTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  minBodyBytesPerS: number;
  bodyRateGraceMs: number;
  headersTimeoutMs: number;
  maxConnectionsPerClient: number;
  maxConcurrency: number;
  maxQueue: number;
  queueTargetMs: number;
  queueIntervalMs: number;
  queueTimeoutMs: number;
  maxLoopDelayMs: number;
  maxLoopUtilization: number;
  loopIntervalMs: number;
  maxSocketsPerWorker: number;
  kvEventsPollMs: number;
  recordBatchMs: number;
}

/**
 * Defaults. The body and header bounds follow nginx (client_header_timeout / client_body_timeout) and
 * Kestrel (a minimum body rate after a grace period): generous for any real client on a LAN, short for
 * one that trickles. The total bound covers the worst legitimate path (queue wait, a context phase, a
 * generation at upstream's 180 s `-r`) with room to spare.
 */
export const PROXY_DEFAULTS: ProxyLimits = {
  maxRetries: 1,
  requestTimeoutMs: 180_000,
  contextTimeoutMs: 60_000,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  totalTimeoutMs: 300_000,
  maxBodyBytes: 32 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  minBodyBytesPerS: 1024,
  bodyRateGraceMs: 5_000,
  headersTimeoutMs: 20_000,
  maxConnectionsPerClient: 1024,
  maxConcurrency: 4096,
  maxQueue: 1024,
  queueTargetMs: 100,
  queueIntervalMs: 1_000,
  queueTimeoutMs: 5_000,
  // Off unless asked for, as @fastify/under-pressure's thresholds are: the proxy usually shares its
  // host with GPU workers and the user's own work, and a loop made late by a neighbour's CPU would shed
  // requests the workers could serve. Its right value for a host is not yet measured on the 16-core
  // machine (docs/performance.md, "Shedding under CPU overload"; 0.02 is the suggested start).
  // Utilization is not watched by default: a loop near capacity is busy all the time without being late.
  maxLoopDelayMs: 0,
  maxLoopUtilization: 1,
  loopIntervalMs: 300,
  maxSocketsPerWorker: 512,
  kvEventsPollMs: 500,
  recordBatchMs: 200,
};

/** The options' numbers with defaults filled in. */
export function resolveLimits(options: ProxyServerOptions): ProxyLimits {
  const limits = { ...PROXY_DEFAULTS };
  for (const key of Object.keys(limits) as Array<keyof ProxyLimits>) {
    const v = options[key];
    if (v !== undefined) limits[key] = v;
  }
  return limits;
}

export type ProxyLog = (level: LogLevel, msg: string) => void;

/** A logger that drops what is below the configured level; stderr when the embedder passes none. */
export function createProxyLog(options: Pick<ProxyServerOptions, 'logLevel' | 'log'>): ProxyLog {
  const level = LOG_LEVEL_ORDER[options.logLevel ?? 'info'];
  return (lv, msg) => {
    if (LOG_LEVEL_ORDER[lv] < level) return;
    if (options.log) options.log(lv, msg);
    else process.stderr.write(`[proxy] ${lv.toUpperCase()} ${msg}\n`);
  };
}
