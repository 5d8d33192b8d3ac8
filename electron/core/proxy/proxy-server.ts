// The disaggregated proxy's HTTP server: a drop-in for `trtllm-serve disaggregated` on a raw node:http
// server. Runs the request flow of trtllm-protocol.md section 5 (pure parts in request-flow.ts) with
// pooled upstream connections, retries only before the first byte reached the client, passive
// ejection, phase timeouts, admission control and drain (docs/reliability.md), and reports one
// record per request to its embedder. Layer: core.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { parseJsonLossless } from '../../../shared/logic/lossless-json';
import { needsContextPhase } from '../../../shared/logic/routers/conditional';
import { createRouter } from '../../../shared/logic/routers/create-router';
import type { Tokenizer } from '../../../shared/logic/routers/kv-cache-aware';
import { KvCacheAwareRouter } from '../../../shared/logic/routers/kv-cache-aware';
import { LoadBalancingRouter } from '../../../shared/logic/routers/load-balancing';
import type { RouteRequest, RouteSelection } from '../../../shared/logic/routers/types';
import { RouterError } from '../../../shared/logic/routers/types';
import { formatSseError, isDoneEvent, isErrorEvent, SseParser } from '../../../shared/logic/sse';
import type { RouterConfig } from '../../../shared/model/config';
import type { ShedReason } from './admission';
import { AdmissionController } from './admission';
import { SteadyClockSync } from './clock-sync';
import { ProxyMetrics } from './metrics';
import { PerfMetricsCollector, steadySeconds } from './perf-metrics';
import type { Endpoint, RawContextResult, RawJson } from './request-flow';
import {
  buildContextRequestText,
  buildGenerationRequestText,
  buildGenOnlyBenchmarkText,
  checkContextResponseText,
  contextAlreadyFinished,
  errorBody,
  finishedContextText,
  memberText,
  memberValue,
  rawJsonOf,
  routeRequestOf,
  spliceJson,
  validateRawClientRequest,
} from './request-flow';
import { SlotSet, type Slotted } from './slot-set';
import { isNonTokenData, scanPlainSseChunk, SseChunkScan } from './sse-byte-scan';
import type { LogLevel, MembershipUpdate, ProxyRequestRecord, RecordOutcome, RoutingUpdate } from './types';
import { LOG_LEVEL_ORDER } from './types';
import type { StreamCall, StreamHead, WholeResponse } from './upstream-client';
import { getUpstream, postStream, postWhole, UpstreamError } from './upstream-client';
import type { EjectionPolicy, WorkerEndpoint, WorkerSnapshot } from './worker-pool';
import { DEFAULT_EJECTION, normalizeWorkerUrl, WorkerPool } from './worker-pool';

/** Version reported at /version. */
export const PROXY_VERSION = '0.1.0';

type RouterSettings = Pick<RouterConfig, 'type' | 'use_tokens' | 'max_batch_size' | 'tokens_per_block'>;

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
  conditionalMaxLocalPrefillLength?: number;
  /** TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1 (5.7). */
  isGenOnlyBenchmark?: boolean;
  apiKey?: string;
  maxBodyBytes?: number;
  /** Requests served at once (admission.ts); the rest wait in a bounded queue. */
  maxConcurrency?: number;
  /** Queue capacity; beyond it, 429 + Retry-After at once. */
  maxQueue?: number;
  /** Acceptable queue wait; a queue standing above it for queueIntervalMs sheds the excess with 503. */
  queueTargetMs?: number;
  queueIntervalMs?: number;
  /** Hard bound on one request's queue wait (503). */
  queueTimeoutMs?: number;
  perfMetricsMaxRequests?: number;
  /** disagg_cluster readiness thresholds (7.4); without them the proxy is ready with >= 1 worker per role. */
  minimalInstances?: { context: number; generation: number };
  clusterInfo?: () => unknown;
  /** Serves /set /get /delete /expire /get_prefix when disagg_cluster.cluster_uri is http. */
  clusterStoreHandler?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => unknown;
  tokenizer?: Tokenizer;
  kvEventsPollMs?: number;
  maxSocketsPerWorker?: number;
  ejection?: Partial<EjectionPolicy>;
  logLevel?: LogLevel;
  log?: (level: LogLevel, msg: string) => void;
  recordBatchMs?: number;
  /** Start not ready ("waiting for workers") until `markStarted()`; the CLI waits for static workers' /health. */
  isStartingGated?: boolean;
}

export interface ProxyServer {
  /** Starts listening; resolves with the bound port. Rejects with code EADDRINUSE when taken. */
  listen(): Promise<number>;
  /** Stops at once: open streams are cut. */
  close(): Promise<void>;
  /** Graceful: readiness off, stop accepting, let streams finish up to the deadline, then end them with an SSE error. */
  drain(deadlineMs: number): Promise<void>;
  updateMembership(m: MembershipUpdate): void;
  addWorker(role: 'context' | 'generation', url: string): void;
  removeWorker(role: 'context' | 'generation', url: string): void;
  setRouting(r: RoutingUpdate): void;
  /** Subscribes to batches of request records; returns the unsubscribe function. */
  onRecords(cb: (records: ProxyRequestRecord[]) => void): () => void;
  isReady(): boolean;
  /** Ends the startup gate of `isStartingGated`. */
  markStarted(): void;
  workers(): WorkerSnapshot[];
  metricsText(): string;
  readonly port: number;
}

/** Client bodies below this are also checked with JSON.parse; larger ones are only framed (see runInference). */
const FULL_PARSE_MAX_BYTES = 64 * 1024;

const ROUTER_DEFAULT: RouterSettings = { type: 'round_robin', use_tokens: false, max_batch_size: 64, tokens_per_block: 32 };

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The worker path each inference endpoint is forwarded to (same path as the client used). */
const UPSTREAM_PATH: Record<Endpoint, string> = { completions: '/v1/completions', chat: '/v1/chat/completions' };

const JSON_HEADERS = { 'content-type': 'application/json' };

const DONE: Promise<void> = Promise.resolve();

/** Response headers the console reads (and the request headers that pin a route, with the same names). */
export const DISAGG_HEADER = {
  requestId: 'x-disagg-request-id',
  contextWorker: 'x-disagg-context-worker',
  generationWorker: 'x-disagg-generation-worker',
  contextMs: 'x-disagg-context-ms',
  handoffMs: 'x-disagg-handoff-ms',
} as const;

const EXPOSED_HEADERS = Object.values(DISAGG_HEADER).join(', ');

/** http://127.0.0.1:N, http://localhost:N or http://[::1]:N: the console's own page, never a web site. */
function isLoopbackOrigin(origin: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin);
}

/** `http://host:port` -> `host:port`, as `urls` entries are written. */
function hostPortOf(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

/** Per-request mutable state. */
interface Flow extends Slotted {
  rec: ProxyRequestRecord;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The upstream call that client disconnect must abort. */
  current: { abort(): void } | undefined;
  isClientGone: boolean;
  /** Ends an open stream with an SSE error (drain deadline). */
  terminate?: (message: string) => void;
  arrivalS: number;
}

/** One HTTP/1.1 chunk in one buffer: the size in hex, CRLF, the bytes, CRLF. `data` must not be empty. */
function frameChunk(data: Buffer): Buffer {
  const hex = data.length.toString(16);
  const framed = Buffer.allocUnsafe(hex.length + data.length + 4);
  let o = framed.write(hex, 0, 'latin1');
  framed[o++] = 13;
  framed[o++] = 10;
  o += data.copy(framed, o);
  framed[o++] = 13;
  framed[o] = 10;
  return framed;
}

/** The routing exclusion of a first attempt with no pin. */
const NO_EXCLUSION: ReadonlySet<string> = new Set();

export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const opt = {
    maxRetries: options.maxRetries ?? 1,
    requestTimeoutMs: options.requestTimeoutMs ?? 180_000,
    contextTimeoutMs: options.contextTimeoutMs ?? 60_000,
    firstByteTimeoutMs: options.firstByteTimeoutMs ?? 60_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024,
    maxConcurrency: options.maxConcurrency ?? 4096,
    maxQueue: options.maxQueue ?? 1024,
    queueTargetMs: options.queueTargetMs ?? 100,
    queueIntervalMs: options.queueIntervalMs ?? 1_000,
    queueTimeoutMs: options.queueTimeoutMs ?? 5_000,
    maxSocketsPerWorker: options.maxSocketsPerWorker ?? 512,
    kvEventsPollMs: options.kvEventsPollMs ?? 500,
    recordBatchMs: options.recordBatchMs ?? 200,
  };
  const level = LOG_LEVEL_ORDER[options.logLevel ?? 'info'];
  const log = (lv: LogLevel, msg: string): void => {
    if (LOG_LEVEL_ORDER[lv] < level) return;
    if (options.log) options.log(lv, msg);
    else process.stderr.write(`[proxy] ${lv.toUpperCase()} ${msg}\n`);
  };
  const ejection: EjectionPolicy = { ...DEFAULT_EJECTION, ...options.ejection };

  const makeRouter = (cfg: RouterSettings | undefined, role: string): ReturnType<typeof createRouter> =>
    createRouter(cfg ?? ROUTER_DEFAULT, [], role, options.tokenizer);
  const ctxPool = new WorkerPool('context', makeRouter(options.contextRouter, 'context'), opt.maxSocketsPerWorker, ejection, (m) =>
    log('info', m),
  );
  const genPool = new WorkerPool('generation', makeRouter(options.generationRouter, 'generation'), opt.maxSocketsPerWorker, ejection, (m) =>
    log('info', m),
  );
  ctxPool.setMembers(options.contextUrls);
  genPool.setMembers(options.generationUrls);

  const metrics = new ProxyMetrics();
  const perf = new PerfMetricsCollector(options.perfMetricsMaxRequests ?? 0);
  // Upstream aligns every worker's steady clock when perf metrics are on (8.3): at start and on every join.
  const clockSync = perf.isEnabled ? new SteadyClockSync({ log }) : undefined;
  const syncClocks = (): void => clockSync?.reconcile([...ctxPool.all(), ...genPool.all()].map((w) => w.url));
  /** Requests in flight (for drain and shutdown); a SlotSet, not a Set: see slot-set.ts. */
  const flows = new SlotSet<Flow>();
  const recordListeners = new Set<(r: ProxyRequestRecord[]) => void>();
  let recordBuffer: ProxyRequestRecord[] = [];
  let recordTimer: NodeJS.Timeout | undefined;
  let nextId = 1;
  const admission = new AdmissionController(opt);
  /** Gives an admitted request's slot back; one function for every request, not a closure each. */
  const releaseSlot = (): void => admission.release();
  let isDraining = false;
  let isStarting = options.isStartingGated === true;
  let boundPort = 0;
  let kvTimer: NodeJS.Timeout | undefined;

  /** Whether a pool's router looks at prompts (kv_cache_aware, or load_balancing by tokens). */
  function routerNeedsPrompt(pool: WorkerPool): boolean {
    const r = pool.getRouter();
    return r.type === 'kv_cache_aware' || (r instanceof LoadBalancingRouter && r.usesTokens);
  }

  /** The routers' view of a request; the prompt is parsed only when a router needs it. */
  function routeRequestFor(endpoint: Endpoint, body: RawJson, promptText: string | undefined): RouteRequest {
    if (!routerNeedsPrompt(ctxPool) && !routerNeedsPrompt(genPool)) return { endpoint };
    if (endpoint === 'completions') {
      let prompt: unknown;
      try {
        prompt = promptText === undefined ? undefined : JSON.parse(promptText);
      } catch {
        prompt = undefined;
      }
      return routeRequestOf(endpoint, { prompt });
    }
    return routeRequestOf(endpoint, { messages: memberValue(body, 'messages'), prompt_token_ids: memberValue(body, 'prompt_token_ids') });
  }

  // ---------------------------------------------------------------- records and metrics

  function flushRecords(): void {
    recordTimer = undefined;
    if (recordBuffer.length === 0) return;
    const batch = recordBuffer;
    recordBuffer = [];
    for (const cb of recordListeners) {
      try {
        cb(batch);
      } catch (err) {
        log('error', `record listener failed: ${String(err)}`);
      }
    }
  }

  function finishRecord(flow: Flow, outcome: RecordOutcome, status: number, errorMessage?: string): void {
    const rec = flow.rec;
    if (rec.doneAt !== 0) return;
    rec.doneAt = now();
    rec.outcome = outcome;
    rec.status = status;
    if (errorMessage !== undefined) rec.errorMessage = errorMessage;
    flows.delete(flow);
    metrics.countOutcome(outcome);
    if (outcome === 'ok' || outcome === 'ok_context_only') {
      const t = rec.tokenTimes;
      const first = t.length > 0 ? (t[0] as number) : rec.doneAt;
      metrics.ttft.observe((first - rec.receivedAt) / 1000);
      metrics.e2e.observe((rec.doneAt - rec.receivedAt) / 1000);
      if (t.length > 1) {
        metrics.tpot.observe(((t[t.length - 1] as number) - (t[0] as number)) / 1000 / (t.length - 1));
        for (let i = 1; i < t.length; i++) metrics.itl.observe(((t[i] as number) - (t[i - 1] as number)) / 1000);
      }
      let own = 0;
      if (rec.ctxSentAt !== undefined) own += rec.ctxSentAt - rec.receivedAt;
      if (rec.genSentAt !== undefined) own += rec.genSentAt - (rec.ctxAnsweredAt ?? rec.receivedAt);
      metrics.overhead.observe(own / 1000);
    }
    if (recordListeners.size > 0) {
      recordBuffer.push(rec);
      recordTimer ??= setTimeout(flushRecords, opt.recordBatchMs);
    }
  }

  // ---------------------------------------------------------------- responses

  function sendJson(flow: Flow | undefined, res: http.ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
    if (res.headersSent || res.writableEnded) return;
    if (flow) setFlowHeaders(flow);
    res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  function sendError(flow: Flow | undefined, res: http.ServerResponse, status: number, message: string, extra?: Record<string, string>): void {
    sendJson(flow, res, status, errorBody(message, status), extra);
  }

  /**
   * Console additions on every inference answer: the proxy's request id (the console's `requests:get` key),
   * which workers served it, and the context and hand-off times the playground draws. Set before writeHead,
   * which merges them. Upstream's proxy sends none of these; clients that do not know them ignore them.
   */
  function setFlowHeaders(flow: Flow): void {
    const { rec, res } = flow;
    if (res.headersSent) return;
    res.setHeader(DISAGG_HEADER.requestId, String(rec.id));
    if (rec.ctxWorker !== undefined) res.setHeader(DISAGG_HEADER.contextWorker, hostPortOf(rec.ctxWorker));
    if (rec.genWorker !== undefined) res.setHeader(DISAGG_HEADER.generationWorker, hostPortOf(rec.genWorker));
    if (rec.ctxSentAt !== undefined && rec.ctxAnsweredAt !== undefined) {
      res.setHeader(DISAGG_HEADER.contextMs, (rec.ctxAnsweredAt - rec.ctxSentAt).toFixed(1));
    }
    if (rec.ctxAnsweredAt !== undefined && rec.genSentAt !== undefined) {
      res.setHeader(DISAGG_HEADER.handoffMs, (rec.genSentAt - rec.ctxAnsweredAt).toFixed(1));
    }
  }

  /**
   * The routing exclusion that pins a phase to the worker a request names in `x-disagg-context-worker` /
   * `x-disagg-generation-worker` (the playground's "send to this pair"): every other member is excluded, so
   * the router can only pick the named one, and a retry finds nothing else. 'unknown' when it names no member;
   * undefined when the request pins nothing (the common case: no set is made).
   */
  function pinExclusion(flow: Flow, pool: WorkerPool, header: string): Set<string> | 'unknown' | undefined {
    const raw = flow.req.headers[header];
    if (typeof raw !== 'string' || raw === '') return undefined;
    const tried = new Set<string>();
    let pinned: string;
    try {
      pinned = normalizeWorkerUrl(raw);
    } catch {
      return 'unknown';
    }
    if (pool.get(pinned) === undefined) return 'unknown';
    for (const url of pool.urls()) if (url !== pinned) tried.add(url);
    return tried;
  }

  // ---------------------------------------------------------------- readiness

  function readiness(): { ready: boolean; reason: string } {
    if (isDraining) return { ready: false, reason: 'Proxy is shutting down' };
    if (isStarting) return { ready: false, reason: 'Proxy is starting: waiting for workers to become healthy' };
    const min = options.minimalInstances;
    const needCtx = options.isGenOnlyBenchmark ? 0 : (min?.context ?? 1);
    const needGen = min?.generation ?? 1;
    if (ctxPool.size() < needCtx || genPool.size() < needGen) {
      const counts = `${ctxPool.size()}/${needCtx} context and ${genPool.size()}/${needGen} generation servers`;
      return { ready: false, reason: min ? `Cluster is not ready: ${counts}` : `Not enough servers: ${counts}` };
    }
    return { ready: true, reason: '' };
  }

  // ---------------------------------------------------------------- body

  function readClientBody(req: http.IncomingMessage): Promise<Buffer | 'too_large' | 'aborted'> {
    return new Promise((resolve) => {
      const declared = Number(req.headers['content-length'] ?? -1);
      if (declared > opt.maxBodyBytes) {
        resolve('too_large');
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      req.on('data', (c: Buffer) => {
        if (done) return;
        size += c.length;
        if (size > opt.maxBodyBytes) {
          done = true;
          resolve('too_large');
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      });
      req.on('error', () => {
        if (done) return;
        done = true;
        resolve('aborted');
      });
      req.on('close', () => {
        if (done) return;
        done = true;
        resolve('aborted');
      });
    });
  }

  // ---------------------------------------------------------------- the request flow

  async function jitter(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
  }

  /** Counts a retry and waits a little jitter, when another attempt is allowed. */
  async function beforeRetry(flow: Flow, attempt: number): Promise<void> {
    if (attempt >= opt.maxRetries) return;
    metrics.retries++;
    flow.rec.retries++;
    await jitter();
  }

  /**
   * After an upstream call threw: frees the worker's slot and rethrows anything that is not an UpstreamError.
   * Null when the client went away (not the worker's fault); otherwise the failure is charged to the worker,
   * counted as `<role>_<kind>`, and the error returned for the caller to retry or answer.
   */
  function upstreamFailure(
    flow: Flow,
    pool: WorkerPool,
    worker: WorkerEndpoint,
    selection: RouteSelection,
    err: unknown,
  ): UpstreamError | null {
    flow.current = undefined;
    pool.release(worker, selection);
    if (!(err instanceof UpstreamError)) throw err;
    if (err.kind === 'aborted' || flow.isClientGone) return null;
    pool.reportFailure(worker, err.kind);
    metrics.countUpstreamError(`${pool.role}_${err.kind}`);
    return err;
  }

  type PhaseResult<T> = { ok: true; value: T } | { ok: false };

  /** A worker's answer was not valid HTTP (its connection is already closed): 502, not retried. */
  function failOnProtocolError(flow: Flow, role: 'Context' | 'Generation', err: UpstreamError): { ok: false } {
    const message = `${role} server sent an invalid HTTP response`;
    sendError(flow, flow.res, 502, message);
    finishRecord(flow, 'upstream_error', 502, err.message);
    return { ok: false };
  }

  /** Context phase with retries on connection errors to other context workers (reliability items 3, 4, 6, 7). */
  async function contextPhase(flow: Flow, endpoint: Endpoint, payload: string, routeReq: RouteRequest): Promise<PhaseResult<{ ctx: RawContextResult; answer: RawJson; worker: WorkerEndpoint }>> {
    const path = UPSTREAM_PATH[endpoint];
    // Built once; each retry sends the same bytes (the worker assigns a fresh ctx_request_id per attempt).
    const pin = pinExclusion(flow, ctxPool, DISAGG_HEADER.contextWorker);
    if (pin === 'unknown') {
      sendError(flow, flow.res, 400, `${DISAGG_HEADER.contextWorker} names no context worker of this proxy`);
      finishRecord(flow, 'client_error', 400, 'unknown pinned context worker');
      return { ok: false };
    }
    // Workers this request may not go to: the pin's exclusions, then each failed attempt's worker.
    let tried = pin;
    let failedUrl: string | undefined;
    const ctxRoute: RouteRequest = { ...routeReq, requestType: 'context_only' };
    for (let attempt = 0; attempt <= opt.maxRetries; attempt++) {
      if (flow.isClientGone) return { ok: false };
      let picked: { worker: WorkerEndpoint; selection: RouteSelection };
      try {
        if (failedUrl !== undefined) (tried ??= new Set()).add(failedUrl);
        picked = ctxPool.select(ctxRoute, tried ?? NO_EXCLUSION);
      } catch (err) {
        if (err instanceof RouterError) {
          if (attempt === 0 && ctxPool.size() > 0) {
            sendError(flow, flow.res, 500, `Internal server error ${err.message}`);
            finishRecord(flow, 'upstream_error', 500, err.message);
            return { ok: false };
          }
          break;
        }
        throw err;
      }
      const { worker, selection } = picked;
      failedUrl = worker.url;
      flow.rec.ctxWorker = worker.url;
      flow.rec.ctxSentAt = now();
      const call = postWhole(worker, path, payload, opt.contextTimeoutMs);
      flow.current = call;
      try {
        const reply = await call.result;
        const buf = reply.body;
        flow.current = undefined;
        flow.rec.ctxAnsweredAt = now();
        ctxPool.release(worker, selection);
        const status = reply.status;
        if (status >= 400 && status < 500) {
          // A worker 4xx is the client's problem: relayed verbatim, not retried, not a worker failure.
          ctxPool.reportSuccess(worker);
          if (!flow.res.headersSent) relayWhole(flow, reply);
          finishRecord(flow, 'client_error', status);
          return { ok: false };
        }
        if (status !== 200) {
          ctxPool.reportFailure(worker, 'status');
          metrics.countUpstreamError('context_5xx');
          sendError(flow, flow.res, 502, `Context server returned HTTP ${status}`);
          finishRecord(flow, 'upstream_error', 502, `context status ${status}`);
          return { ok: false };
        }
        const answer = rawJsonOf(buf.toString('utf8'));
        const checked: ReturnType<typeof checkContextResponseText> = answer
          ? checkContextResponseText(answer)
          : { ok: false, status: 502, message: 'Context server returned a non-object response' };
        if (!checked.ok || !answer) {
          const message = checked.ok ? 'Context server returned a non-object response' : checked.message;
          ctxPool.reportFailure(worker, 'invalid');
          metrics.countUpstreamError('context_invalid');
          sendError(flow, flow.res, 502, message);
          finishRecord(flow, 'upstream_error', 502, message);
          return { ok: false };
        }
        ctxPool.reportSuccess(worker);
        if (checked.value.promptTokens !== undefined) flow.rec.promptTokens = checked.value.promptTokens;
        return { ok: true, value: { ctx: checked.value, answer, worker } };
      } catch (thrown) {
        const err = upstreamFailure(flow, ctxPool, worker, selection, thrown);
        if (err === null) return { ok: false };
        if (err.kind === 'protocol') return failOnProtocolError(flow, 'Context', err);
        if (err.kind === 'timeout') {
          sendError(flow, flow.res, 504, 'Context server timed out');
          finishRecord(flow, 'timeout', 504, 'context timeout');
          return { ok: false };
        }
        log('debug', `context attempt on ${worker.url} failed: ${err.message}`);
        await beforeRetry(flow, attempt);
      }
    }
    sendError(flow, flow.res, 503, 'No context server is available', { 'retry-after': '1' });
    finishRecord(flow, 'upstream_error', 503, 'no context server available');
    return { ok: false };
  }

  /** Generation phase; retries only while nothing was sent to the client (reliability items 1, 2, 5, 18). */
  async function generationPhase(
    flow: Flow,
    endpoint: Endpoint,
    payload: string,
    routeReq: RouteRequest,
    isStream: boolean,
    reserved: { worker: WorkerEndpoint; selection: RouteSelection } | undefined,
    ctxForPerf: { worker: WorkerEndpoint; ctxRequestId: unknown } | undefined,
  ): Promise<void> {
    const path = UPSTREAM_PATH[endpoint];
    const pin = pinExclusion(flow, genPool, DISAGG_HEADER.generationWorker);
    if (pin === 'unknown') {
      if (reserved) genPool.release(reserved.worker, reserved.selection);
      sendError(flow, flow.res, 400, `${DISAGG_HEADER.generationWorker} names no generation worker of this proxy`);
      finishRecord(flow, 'client_error', 400, 'unknown pinned generation worker');
      return;
    }
    // Workers this request may not go to: the pin's exclusions, then each failed attempt's worker.
    let tried = pin;
    let failedUrl: string | undefined;
    const genRoute: RouteRequest = { ...routeReq, requestType: 'generation_only' };
    let pre = reserved;
    for (let attempt = 0; attempt <= opt.maxRetries; attempt++) {
      if (flow.isClientGone) {
        if (pre) genPool.release(pre.worker, pre.selection);
        finishRecord(flow, 'client_disconnected', 499);
        return;
      }
      let picked = pre;
      pre = undefined;
      if (!picked) {
        try {
          if (failedUrl !== undefined) (tried ??= new Set()).add(failedUrl);
          picked = genPool.select(genRoute, tried ?? NO_EXCLUSION);
        } catch (err) {
          if (err instanceof RouterError) {
            if (attempt === 0 && genPool.size() > 0) {
              sendError(flow, flow.res, 500, `Internal server error ${err.message}`);
              finishRecord(flow, 'upstream_error', 500, err.message);
              return;
            }
            break;
          }
          throw err;
        }
      }
      const { worker, selection } = picked;
      failedUrl = worker.url;
      flow.rec.genWorker = worker.url;
      flow.rec.genSentAt = now();
      if (!isStream) {
        // Non-streamed: one call, whole body, bounded by -r; relayed as a byte copy.
        const whole = postWhole(worker, path, payload, opt.requestTimeoutMs);
        flow.current = whole;
        let answer: WholeResponse;
        try {
          answer = await whole.result;
        } catch (thrown) {
          const err = upstreamFailure(flow, genPool, worker, selection, thrown);
          if (err === null) {
            finishRecord(flow, 'client_disconnected', 499);
            return;
          }
          if (err.kind === 'connect' || err.kind === 'reset') {
            await beforeRetry(flow, attempt);
            continue;
          }
          const st = err.kind === 'timeout' ? 504 : 502;
          sendError(flow, flow.res, st, err.kind === 'timeout' ? 'Generation server timed out' : 'Generation server failed while answering');
          finishRecord(flow, err.kind === 'timeout' ? 'timeout' : 'upstream_error', st, `generation ${err.kind}`);
          return;
        }
        flow.current = undefined;
        flow.rec.firstByteAt = now();
        sendWholeAnswer(flow, worker, answer);
        genPool.release(worker, selection);
        if (ctxForPerf && answer.status === 200) {
          perf.add(ctxForPerf.worker.url, worker.url, ctxForPerf.ctxRequestId, flow.arrivalS, steadySeconds());
        }
        return;
      }
      const call = postStream(worker, path, payload, opt.firstByteTimeoutMs);
      flow.current = call;
      let head: StreamHead;
      try {
        head = await call.head;
      } catch (thrown) {
        const err = upstreamFailure(flow, genPool, worker, selection, thrown);
        if (err === null) {
          finishRecord(flow, 'client_disconnected', 499);
          return;
        }
        if (err.kind === 'protocol') {
          failOnProtocolError(flow, 'Generation', err);
          return;
        }
        if (err.kind === 'timeout') {
          sendError(flow, flow.res, 504, 'Generation server timed out');
          finishRecord(flow, 'timeout', 504, 'generation timeout');
          return;
        }
        log('debug', `generation attempt on ${worker.url} failed: ${err.message}`);
        await beforeRetry(flow, attempt);
        continue;
      }
      flow.rec.firstByteAt = now();
      const status = head.status;
      if (status !== 200) {
        // A streaming request answered with an error body (e.g. a 400 JSON): relay it, never an empty 200 stream.
        try {
          const body = await call.readRest(opt.requestTimeoutMs);
          sendWholeAnswer(flow, worker, { status, contentType: head.contentType, body });
        } catch {
          genPool.reportFailure(worker, 'truncated');
          sendError(flow, flow.res, 502, 'Generation server failed while answering');
          finishRecord(flow, 'upstream_error', 502, 'generation error body failed');
        }
        flow.current = undefined;
        genPool.release(worker, selection);
        return;
      }
      await relayStream(flow, worker, head, call);
      flow.current = undefined;
      genPool.release(worker, selection);
      if (ctxForPerf && flow.rec.outcome === 'ok') {
        const first = flow.rec.tokenTimes[0];
        const firstS = first === undefined ? steadySeconds() : flow.arrivalS + (first - flow.rec.receivedAt) / 1000;
        perf.add(ctxForPerf.worker.url, worker.url, ctxForPerf.ctxRequestId, flow.arrivalS, firstS);
      }
      return;
    }
    sendError(flow, flow.res, 503, 'No generation server is available', { 'retry-after': '1' });
    finishRecord(flow, 'upstream_error', 503, 'no generation server available');
  }

  /** Relays a worker's whole answer to the client as a byte copy, with its status and content type. */
  function relayWhole(flow: Flow, answer: WholeResponse): void {
    setFlowHeaders(flow);
    flow.res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json', 'content-length': answer.body.length });
    flow.res.end(answer.body);
  }

  /** A whole gen answer: 2xx byte-copied, 4xx relayed verbatim, anything else a 502 JSON error. */
  function sendWholeAnswer(flow: Flow, worker: WorkerEndpoint, answer: WholeResponse): void {
    const { status, body: buf } = answer;
    if (status >= 500 || status < 200 || (status >= 300 && status < 400)) {
      genPool.reportFailure(worker, 'status');
      metrics.countUpstreamError('generation_5xx');
      sendError(flow, flow.res, 502, `Generation server returned HTTP ${status}`);
      finishRecord(flow, 'upstream_error', 502, `generation status ${status}`);
      return;
    }
    genPool.reportSuccess(worker);
    if (!flow.res.headersSent && !flow.isClientGone) relayWhole(flow, answer);
    if (status !== 200) {
      finishRecord(flow, 'client_error', status);
      return;
    }
    const i = buf.lastIndexOf('"completion_tokens"');
    if (i >= 0) {
      const m = /^"completion_tokens"\s*:\s*(\d+)/.exec(buf.toString('latin1', i, i + 40));
      if (m) flow.rec.completionTokens = Number(m[1]);
    }
    flow.rec.tokenTimes.push(now());
    finishRecord(flow, 'ok', 200);
  }

  /**
   * Streams the gen worker's SSE bytes to the client as they arrive. Parses framing only to timestamp
   * events and see `[DONE]`; a stream that ends without it, stalls or resets is closed with an SSE
   * error event and `[DONE]` (never a silent truncation).
   */
  function relayStream(flow: Flow, worker: WorkerEndpoint, head: StreamHead, call: StreamCall): Promise<void> {
    return new Promise<void>((resolve) => {
      const out = flow.res;
      setFlowHeaders(flow);
      // An HTTP/1.1 client whose connection this response owns gets the chunked framing written by us,
      // straight onto its socket: one buffer and one write per upstream chunk, instead of
      // ServerResponse.write's four-part framing with a cork per chunk (bench/README.md). Node still
      // writes the head and the last chunk (out.end), so keep-alive and its bookkeeping stay its own.
      // Anyone else (HTTP/1.0, a pipelined response still queued: no socket yet) goes through out.write.
      const direct = flow.req.httpVersion === '1.1' && out.socket !== null ? out.socket : null;
      out.writeHead(200, {
        'content-type': head.contentType ?? 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        ...(direct ? { 'transfer-encoding': 'chunked' } : {}),
      });
      if (direct) out.flushHeaders();
      const parser = new SseParser();
      let isDone = false;
      let sawError = false;
      // The last data event's text, kept as bytes (fast path) or text (full parser), decoded at the end.
      let lastData = '';
      let lastDataChunk: Buffer | undefined;
      let lastDataStart = 0;
      let lastDataEnd = 0;
      const scan = new SseChunkScan();
      let lastActivity = performance.now();
      let finished = false;
      let isPausedForClient = false;
      const startedAt = performance.now();
      let idleTimer: NodeJS.Timeout | undefined;

      const finish = (outcome: RecordOutcome, status: number, msg?: string): void => {
        if (finished) return;
        finished = true;
        if (idleTimer) clearTimeout(idleTimer);
        flow.terminate = undefined;
        if (lastDataChunk) lastData = lastDataChunk.toString('latin1', lastDataStart, lastDataEnd);
        const m = /"completion_tokens"\s*:\s*(\d+)/.exec(lastData);
        // Without usage in the stream, count token events (one token each unless stream_interval > 1).
        flow.rec.completionTokens = m ? Number(m[1]) : flow.rec.tokenTimes.length;
        finishRecord(flow, outcome, status, msg);
        resolve();
      };

      const failStream = (message: string, cls: string, isWorkerFault: boolean): void => {
        if (finished) return;
        if (isWorkerFault) {
          genPool.reportFailure(worker, cls === 'timeout' ? 'timeout' : 'reset');
          metrics.countUpstreamError(`generation_stream_${cls}`);
        }
        call.abort();
        if (!out.writableEnded && !flow.isClientGone) out.end(formatSseError(message, cls === 'timeout' ? 504 : 502));
        finish(cls === 'timeout' ? 'timeout' : 'upstream_error', 200, message);
      };

      flow.terminate = (message: string) => failStream(message, 'shutdown', false);

      const armIdle = (delay: number): void => {
        idleTimer = setTimeout(() => {
          const idle = performance.now() - lastActivity;
          if (isPausedForClient && idle >= opt.idleTimeoutMs) {
            // Slow reader (item 15): the client stopped reading for a whole idle period. Its buffer is
            // bounded by backpressure; give up on it without blaming the worker. Reset rather than close:
            // a FIN queues behind the unread bytes, so the client (not reading) would never see it and
            // the kernel would hold the connection's buffers while it probes the zero window.
            finished = true;
            flow.terminate = undefined;
            call.abort();
            if (out.socket) out.socket.resetAndDestroy();
            else out.destroy();
            finishRecord(flow, 'client_disconnected', 499, 'client stopped reading');
            resolve();
            return;
          }
          if (idle >= opt.idleTimeoutMs || performance.now() - startedAt >= opt.requestTimeoutMs) {
            failStream('Generation stream timed out', 'timeout', true);
          } else {
            armIdle(Math.min(opt.idleTimeoutMs - idle, opt.requestTimeoutMs - (performance.now() - startedAt)) + 1);
          }
        }, delay);
      };
      armIdle(opt.idleTimeoutMs);

      const onEvents = (events: ReturnType<SseParser['push']>, t: number): void => {
        for (const ev of events) {
          if (isDoneEvent(ev)) {
            isDone = true;
            continue;
          }
          if (isErrorEvent(ev)) {
            sawError = true;
            continue;
          }
          const d = ev.data;
          lastData = d;
          lastDataChunk = undefined;
          if (isNonTokenData(d)) continue;
          flow.rec.tokenTimes.push(t);
        }
      };

      const origin = performance.timeOrigin;
      const onData = (view: Buffer): void => {
        const tp = performance.now();
        lastActivity = tp;
        if (isDone || view.length === 0) return;
        // One copy out of the pool's shared read buffer: into the outgoing chunk frame when writing
        // directly, else a plain copy. `chunk` is the event bytes within it, stable from here on.
        const framed = direct ? frameChunk(view) : undefined;
        const chunk = framed ? framed.subarray(framed.length - 2 - view.length, framed.length - 2) : Buffer.from(view);
        if (parser.isIdle() && scanPlainSseChunk(chunk, scan)) {
          // Fast path: whole single-line data events, classified on the bytes (no decoding, no objects).
          const t = origin + tp;
          const times = flow.rec.tokenTimes;
          for (let i = 0; i < scan.tokens; i++) times.push(t);
          if (scan.lastDataStart >= 0) {
            lastDataChunk = chunk;
            lastDataStart = scan.lastDataStart;
            lastDataEnd = scan.lastDataEnd;
          }
          if (scan.isDone) isDone = true;
        } else {
          // latin1 is a byte-for-byte view: the framing and the patterns we look for are ASCII, and the
          // bytes forwarded are the original chunk, so no UTF-8 decoding is needed on the token path.
          onEvents(parser.push(chunk.toString('latin1')), origin + tp);
        }
        if (flow.isClientGone) return;
        if (isDone) {
          // Forward up to [DONE] only, so the client sees it exactly once.
          if (framed && direct) {
            direct.write(framed);
            out.end();
          } else out.end(chunk);
          return;
        }
        const isWritten = framed && direct ? direct.write(framed) : out.write(chunk);
        // Once paused, a chunk already on its way is queued too, but one 'drain' listener is enough.
        if (!isWritten && !isPausedForClient) {
          // Backpressure: stop reading upstream until the client drains (slow reader, item 15).
          call.pause();
          isPausedForClient = true;
          (direct ?? out).once('drain', () => {
            isPausedForClient = false;
            lastActivity = performance.now();
            call.resume();
          });
        }
      };
      const onEnd = (): void => {
        if (finished) return;
        onEvents(parser.end(), now());
        if (isDone) {
          genPool.reportSuccess(worker);
          if (!out.writableEnded && !flow.isClientGone) out.end();
          finish(sawError ? 'upstream_error' : 'ok', 200);
          return;
        }
        failStream('Generation stream ended before [DONE]', 'truncated', true);
      };
      const onBroken = (): void => {
        if (finished) return;
        if (flow.isClientGone) {
          finish('client_disconnected', 499);
          return;
        }
        if (isDone) {
          if (!out.writableEnded) out.end();
          finish('ok', 200);
          return;
        }
        failStream('Generation server connection lost', 'reset', true);
      };
      call.attach({ onData, onEnd, onFail: onBroken });
      out.on('close', () => {
        if (!finished && !out.writableFinished) {
          call.abort();
          finish('client_disconnected', 499);
        }
      });
    });
  }

  function handleInference(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint): Promise<void> {
    const receivedAt = now();
    const arrivalS = steadySeconds();
    if (options.apiKey !== undefined) {
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${options.apiKey}`) {
        req.resume();
        sendError(undefined, res, 401, 'Incorrect API key provided');
        return DONE;
      }
    }
    // Admitted at once in the common case: no extra async layer around the request. Decided before the
    // body is read, so a shed costs no parse and no upstream call.
    const verdict = admission.admit();
    if (verdict === 'admitted') return runAdmitted(req, res, endpoint, receivedAt, arrivalS);
    if (typeof verdict === 'string') {
      shed(req, res, verdict);
      return DONE;
    }
    // A client that leaves while queued frees its place at once, not at the queue timeout.
    const onGone = (): void => verdict.cancel();
    res.once('close', onGone);
    return verdict.result.then((v) => {
      res.off('close', onGone);
      if (v === 'admitted') return runAdmitted(req, res, endpoint, receivedAt, arrivalS);
      if (v === 'cancelled') metrics.countOutcome('client_disconnected');
      else shed(req, res, v);
      return undefined;
    });
  }

  function shed(req: http.IncomingMessage, res: http.ServerResponse, reason: ShedReason): void {
    metrics.countShed(reason);
    metrics.countOutcome('rejected');
    req.resume();
    // 429 when the queue is full (this client is one too many); 503 when waiting would exceed the
    // queue target or timeout (the service is saturated). Both tell clients when to come back.
    if (reason === 'queue_full') sendError(undefined, res, 429, 'The proxy is overloaded, retry later', { 'retry-after': '1' });
    else sendError(undefined, res, 503, 'The proxy is overloaded: the wait for a slot exceeds its target, retry later', { 'retry-after': '1' });
  }

  /** Runs an admitted request and gives its slot back however it ends (the caller sees any rejection). */
  function runAdmitted(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint, receivedAt: number, arrivalS: number): Promise<void> {
    const run = runInference(req, res, endpoint, receivedAt, arrivalS);
    run.then(releaseSlot, releaseSlot);
    return run;
  }

  async function runInference(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint, receivedAt: number, arrivalS: number): Promise<void> {
    const raw = await readClientBody(req);
    if (raw === 'aborted') return;
    if (raw === 'too_large') {
      sendError(undefined, res, 413, `Request body exceeds ${opt.maxBodyBytes} bytes`, { connection: 'close' });
      req.resume();
      return;
    }
    const text = raw.toString('utf8');
    // Small bodies are checked with JSON.parse (a clean 400 for garbage); large ones only framed, so a
    // 1 MB history is never parsed on this loop: the worker validates what it receives.
    if (raw.length < FULL_PARSE_MAX_BYTES) {
      try {
        JSON.parse(text);
      } catch {
        sendError(undefined, res, 400, 'Request body is not valid JSON');
        return;
      }
    }
    const body = rawJsonOf(text);
    if (!body) {
      sendError(undefined, res, 400, 'Request body must be a JSON object');
      return;
    }
    const valid = validateRawClientRequest(endpoint, body);
    if (!valid.ok) {
      sendError(undefined, res, valid.status, valid.message);
      return;
    }
    const promptText = valid.value.promptText;
    const isStream = memberText(body, 'stream')?.trim() === 'true';
    const rec: ProxyRequestRecord = {
      id: nextId++,
      endpoint,
      isStream,
      receivedAt,
      tokenTimes: [],
      doneAt: 0,
      outcome: 'ok',
      status: 0,
      retries: 0,
    };
    const flow: Flow = { rec, req, res, current: undefined, isClientGone: false, arrivalS, slot: -1 };
    flows.add(flow);
    res.on('close', () => {
      if (!res.writableFinished) {
        flow.isClientGone = true;
        flow.current?.abort();
      }
    });
    const ready = readiness();
    if (!ready.ready) {
      sendError(flow, res, 503, ready.reason, { 'retry-after': '1' });
      finishRecord(flow, 'not_ready', 503, ready.reason);
      return;
    }
    const routeReq = routeRequestFor(endpoint, body, promptText);
    try {
      // 5.2: conditional disaggregation asks the gen router first and may skip the context phase.
      let reserved: { worker: WorkerEndpoint; selection: RouteSelection } | undefined;
      let needCtx = !options.isGenOnlyBenchmark;
      if (options.conditionalMaxLocalPrefillLength !== undefined && genPool.routerType === 'kv_cache_aware') {
        reserved = genPool.select(routeReq, new Set());
        const info = reserved.selection.info;
        needCtx = info === undefined ? true : needsContextPhase(info, options.conditionalMaxLocalPrefillLength);
      }
      if (!needCtx) {
        const genPayload = options.isGenOnlyBenchmark
          ? buildGenOnlyBenchmarkText(body, promptText)
          : promptText === undefined
            ? text
            : spliceJson(body, new Map([['prompt', promptText]]));
        await generationPhase(flow, endpoint, genPayload, routeReq, isStream, reserved, undefined);
        return;
      }
      const ctx = await contextPhase(flow, endpoint, buildContextRequestText(body, promptText), routeReq);
      if (!ctx.ok) {
        if (reserved) genPool.release(reserved.worker, reserved.selection);
        if (flow.isClientGone) finishRecord(flow, 'client_disconnected', 499);
        return;
      }
      if (flow.isClientGone) {
        // Item 9: the client left during the context phase: never start the generation request.
        if (reserved) genPool.release(reserved.worker, reserved.selection);
        finishRecord(flow, 'client_disconnected', 499);
        return;
      }
      if (contextAlreadyFinished(ctx.value.ctx.finishReason)) {
        if (reserved) genPool.release(reserved.worker, reserved.selection);
        rec.tokenTimes.push(now());
        if (isStream) {
          setFlowHeaders(flow);
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.end('data: [DONE]\n\n');
        } else {
          sendJson(flow, res, 200, finishedContextText(ctx.value.answer));
        }
        finishRecord(flow, 'ok_context_only', 200);
        return;
      }
      const genPayload = buildGenerationRequestText(endpoint, body, ctx.value.ctx, promptText);
      await generationPhase(flow, endpoint, genPayload, routeReq, isStream, reserved, {
        worker: ctx.value.worker,
        ctxRequestId: ctx.value.ctx.params.ctx_request_id,
      });
    } catch (err) {
      const message = err instanceof RouterError ? `Internal server error ${err.message}` : 'Internal server error';
      if (!(err instanceof RouterError)) log('error', `request ${rec.id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) sendError(flow, res, 500, message);
      else if (!res.writableEnded) res.end(formatSseError(message, 500));
      finishRecord(flow, 'upstream_error', 500, message);
    }
  }

  // ---------------------------------------------------------------- kv_cache_aware event polling

  /**
   * Polls every worker of a kv_cache_aware pool for its drained KV events (upstream Oct 2025 never
   * polled, 6.3). All workers, not only those we sent to: other clients fill caches too.
   */
  async function pollKvEvents(): Promise<void> {
    const targets: WorkerEndpoint[] = [];
    for (const pool of [ctxPool, genPool]) if (pool.routerType === 'kv_cache_aware') targets.push(...pool.all());
    await Promise.all(
      targets.map(async (w) => {
        const pool = w.role === 'context' ? ctxPool : genPool;
        const router = pool.getRouter();
        if (!(router instanceof KvCacheAwareRouter) || w.isRemoved) return;
        const r = await getUpstream(w, '/kv_cache_events', 2_000, 'POST');
        if (!r || r.status !== 200) return;
        try {
          const events = parseJsonLossless(r.body.toString('utf8'));
          if (Array.isArray(events)) router.applyEvents(w.url, events as unknown[]);
        } catch (err) {
          log('debug', `bad /kv_cache_events from ${w.url}: ${String(err)}`);
        }
      }),
    );
  }

  function startKvPolling(): void {
    if (ctxPool.routerType !== 'kv_cache_aware' && genPool.routerType !== 'kv_cache_aware') return;
    if (kvTimer) return;
    const tick = (): void => {
      kvTimer = setTimeout(() => {
        pollKvEvents().then(tick, (err: unknown) => {
          log('debug', `kv event poll failed: ${String(err)}`);
          tick();
        });
      }, opt.kvEventsPollMs);
      kvTimer.unref();
    };
    tick();
  }

  // ---------------------------------------------------------------- other endpoints

  async function handleHealth(res: http.ServerResponse): Promise<void> {
    const r = readiness();
    if (!r.ready) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end(r.reason);
      return;
    }
    // Static mode: when every worker of a role is ejected, check one for real before claiming ready.
    for (const pool of [ctxPool, genPool]) {
      if (pool.size() === 0 || (pool === ctxPool && options.isGenOnlyBenchmark)) continue;
      if (pool.all().every((w) => w.isEjected)) {
        const probes = await Promise.all(pool.all().map((w) => getUpstream(w, '/health', 500)));
        if (!probes.some((p) => p !== undefined && p.status === 200)) {
          res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
          res.end(`No healthy ${pool.role} server`);
          return;
        }
      }
    }
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  }

  async function handleModels(res: http.ServerResponse): Promise<void> {
    const all = [...genPool.all(), ...ctxPool.all()];
    const answers = await Promise.all(all.map((w) => getUpstream(w, '/v1/models', 2_000)));
    const seen = new Map<string, unknown>();
    for (const a of answers) {
      if (!a || a.status !== 200) continue;
      try {
        const j = JSON.parse(a.body.toString('utf8')) as { data?: unknown };
        if (Array.isArray(j.data)) {
          for (const m of j.data as unknown[]) {
            const id = typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined;
            if (typeof id === 'string' && !seen.has(id)) seen.set(id, m);
          }
        }
      } catch {
        log('debug', 'a worker answered /v1/models with invalid JSON');
      }
    }
    if (seen.size === 0 && all.length > 0) {
      sendError(undefined, res, 503, 'No worker answered /v1/models', { 'retry-after': '1' });
      return;
    }
    sendJson(undefined, res, 200, JSON.stringify({ object: 'list', data: [...seen.values()] }));
  }

  /** Dispatch; the inference paths go straight to their handler (no extra async layer per request). */
  function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/v1/completions') return handleInference(req, res, 'completions');
    if (method === 'POST' && path === '/v1/chat/completions') return handleInference(req, res, 'chat');
    return routeOther(req, res, url, path, method);
  }

  async function routeOther(req: http.IncomingMessage, res: http.ServerResponse, url: string, path: string, method: string): Promise<void> {
    if (path === '/health' && method === 'GET') return handleHealth(res);
    if (options.clusterStoreHandler && ['/set', '/get', '/delete', '/expire', '/get_prefix'].includes(path)) {
      await options.clusterStoreHandler(req, res, new URL(url, 'http://localhost'));
      return;
    }
    if (method === 'GET') {
      switch (path) {
        case '/version':
          sendJson(undefined, res, 200, JSON.stringify({ version: PROXY_VERSION }));
          return;
        case '/cluster_info':
          sendJson(undefined, res, 200, JSON.stringify(options.clusterInfo ? options.clusterInfo() : {}));
          return;
        case '/perf_metrics': {
          const items = await perf.collect(ctxPool.all(), genPool.all());
          sendJson(undefined, res, 200, JSON.stringify(items));
          return;
        }
        case '/metrics': {
          const text = metricsText();
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
        case '/v1/models':
          if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
            sendError(undefined, res, 401, 'Incorrect API key provided');
            return;
          }
          return handleModels(res);
        default:
          break;
      }
    }
    req.resume();
    sendJson(undefined, res, 404, JSON.stringify({ detail: 'Not Found' }));
  }

  function metricsText(): string {
    return metrics.render([...ctxPool.snapshot(), ...genPool.snapshot()], flows.size, readiness().ready, admission.snapshot());
  }

  /** After the server closed: stop polling, close the pools' sockets and probes, deliver pending records. */
  function releaseResources(): void {
    if (kvTimer) clearTimeout(kvTimer);
    ctxPool.close();
    genPool.close();
    clockSync?.close();
    if (recordTimer) {
      clearTimeout(recordTimer);
      flushRecords();
    }
  }

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    // The console page (its own loopback port) calls the proxy from the browser: CORS for loopback origins
    // only. SDKs and curl send no Origin and pay nothing for this.
    const origin = req.headers.origin;
    if (origin !== undefined && isLoopbackOrigin(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      if (req.method === 'OPTIONS') {
        req.resume();
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': `content-type, authorization, ${DISAGG_HEADER.contextWorker}, ${DISAGG_HEADER.generationWorker}`,
          'access-control-max-age': '600',
          'content-length': 0,
        });
        res.end();
        return;
      }
    }
    route(req, res).catch((err: unknown) => {
      log('error', `unhandled: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) sendError(undefined, res, 500, 'Internal server error');
      else if (!res.writableEnded) res.end();
    });
  });
  server.headersTimeout = 30_000;

  return {
    get port() {
      return boundPort;
    },
    listen(): Promise<number> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        // A deep accept queue: with Node's default (511) a burst of new client connections overflows it
        // and the dropped SYNs come back only after the kernel's 1 s retransmit (seen in bench:proxy).
        server.listen({ port: options.port, host: options.host, backlog: 4096 }, () => {
          server.off('error', onError);
          const addr = server.address();
          boundPort = typeof addr === 'object' && addr !== null ? addr.port : options.port;
          startKvPolling();
          // A gated start syncs once the workers are healthy (markStarted), like upstream's server preparation.
          if (!isStarting) syncClocks();
          resolve(boundPort);
        });
      });
    },
    async close(): Promise<void> {
      if (kvTimer) clearTimeout(kvTimer);
      for (const f of flows.snapshot()) f.current?.abort();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      releaseResources();
    },
    async drain(deadlineMs: number): Promise<void> {
      isDraining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const until = Date.now() + deadlineMs;
      while (flows.size > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
        server.closeIdleConnections();
      }
      for (const f of flows.snapshot()) {
        if (f.terminate) f.terminate('The proxy is shutting down');
        else {
          f.current?.abort();
          if (!f.res.headersSent) sendError(f, f.res, 503, 'The proxy is shutting down');
        }
      }
      server.closeAllConnections();
      await closed;
      releaseResources();
    },
    updateMembership(m: MembershipUpdate): void {
      if (m.context) ctxPool.setMembers(m.context);
      if (m.generation) genPool.setMembers(m.generation);
      syncClocks();
    },
    addWorker(role, url): void {
      (role === 'context' ? ctxPool : genPool).addMember(url);
      syncClocks();
    },
    removeWorker(role, url): void {
      (role === 'context' ? ctxPool : genPool).removeMember(url);
      syncClocks();
    },
    setRouting(r: RoutingUpdate): void {
      const merge = (c: RoutingUpdate['context']): RouterSettings => ({ ...ROUTER_DEFAULT, ...c });
      if (r.context) ctxPool.setRouter(makeRouter(merge(r.context), 'context'));
      if (r.generation) genPool.setRouter(makeRouter(merge(r.generation), 'generation'));
      startKvPolling();
    },
    onRecords(cb) {
      recordListeners.add(cb);
      return () => recordListeners.delete(cb);
    },
    isReady: () => readiness().ready,
    markStarted: () => {
      isStarting = false;
      syncClocks();
    },
    workers: () => [...ctxPool.snapshot(), ...genPool.snapshot()],
    metricsText,
  };
}
