// The simulated worker's HTTP server: upstream's trtllm-serve routes (trtllm-protocol.md 4.1) with the same
// JSON shapes, the disaggregated context_only / generation_only flow of section 5, and the internal `/_sim/*`
// routes (info, fault switches, KV transfer) that are clearly outside the OpenAI API. Every response carries
// `x-disagg-sim: 1` so the console can label the worker as simulated. Layer: electron/sim (plain Node).
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';

import { stringifyJsonLossless } from '../../shared/logic/lossless-json';
import { detokenize, EOS_TOKEN_ID, tokenize } from '../../shared/logic/text-generator';
import type { TrtllmDialect } from '../../shared/logic/trtllm-dialect';
import { INTERNAL_DISAGG_AUTH_HEADER, verifyInternalRequest } from '../core/proxy/internal-auth';
import { scanObjectMembers } from '../core/proxy/json-splice';
import {
  buildMetricsHeaders,
  type MetricsHeaders,
  metricsSseEvent,
  RETURN_METRICS_HEADER,
  wantsRequestMetrics,
} from '../core/proxy/request-metrics';
import type { EngineHandle, SimEngine } from './sim-engine';
import { applyFaultPatch, type SimFaults } from './sim-faults';
import type { KvEventBuffer } from './sim-kv-events';
import {
  ContextStateStore,
  decodeOpaqueState,
  encodeOpaqueState,
  type KvTransferPayload,
  pullKvState,
} from './sim-kv-transfer';
import {
  type ChatRequestIn,
  type CompletionRequestIn,
  parseChatRequest,
  parseCompletionRequest,
  type RequestRules,
} from './sim-openai-request';
import {
  chatContentChunk,
  chatFirstChunk,
  type ChoiceResult,
  completionChunk,
  DONE_LINE,
  errorResponse,
  finalUsageChunk,
  nonStreamedResponse,
  usage,
  type UsageOut,
} from './sim-openai-response';
import { SimPrometheus } from './sim-prometheus';
import { chatPromptTokenIds, SimSequence } from './sim-sequence';

/** Everything the server needs to know, resolved from flags, the options file and the environment. */
export interface SimServerSettings {
  /** The `/v1/models` id: basename of a local model dir, else the MODEL string (protocol 1.1). */
  modelName: string;
  host: string;
  port: number;
  /** The emulated release (`--emulate-version`, docs/upstream-versions.md section 7). */
  dialect: TrtllmDialect;
  version: string;
  /** `internal_request_auth_key` of the options file: signed generation calls are required (1.3). */
  internalAuthKey: string | null;
  /** `allow_request_chat_template` of the options file. */
  allowRequestChatTemplate: boolean;
  maxSeqLen: number;
  maxNumTokens: number;
  isChunkedPrefill: boolean;
  /** `--backend`: the PyTorch workflow serves one choice per prompt (n = 1). */
  backend: string;
  /** pytorch backend with the overlap scheduler on (disable_overlap_scheduler not true): no context-only requests. */
  isOverlapScheduler: boolean;
  /** cache_transceiver_config.backend is set: the worker can take part in disaggregation. */
  hasKvTransceiver: boolean;
  streamInterval: number;
  isIterStatsEnabled: boolean;
  isPerfMetricsEnabled: boolean;
  perfMetricsMaxRequests: number;
  /** DISAGG_SIM_STEADY_CLOCK_SKEW_S: added to this worker's steady clock, as if it ran on another machine. */
  steadyClockSkewSec: number;
  kvTransferTimeoutMs: number;
  isZeroDelay: boolean;
  /** TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1 (protocol 5.7): generation-only requests may come without a context. */
  isGenOnlyBenchmark: boolean;
  /** Log one uvicorn-style access line per request (off in zero-delay benchmark mode). */
  isAccessLog: boolean;
  /** How long an empty `/metrics` poll waits for stats (upstream: up to 2 s). */
  metricsWaitMs: number;
  /** Bytes a real KV cache of this model holds for n tokens. */
  kvBytesForTokens: (tokens: number) => number;
  /** How long moving that many KV bytes takes over the configured link. */
  kvTransferMs: (bytes: number) => number;
  /** Shown on /_sim/info. */
  info: Record<string, unknown>;
}

export interface SimServerDeps {
  settings: SimServerSettings;
  engine: SimEngine;
  kvEvents: KvEventBuffer;
  faults: SimFaults;
  log: (line: string) => void;
  /** Called when a crash fault fires; the worker process exits with this code. */
  onCrash: (code: number) => void;
}

interface PerfRecord {
  request_id: number;
  ctx_request_id?: number;
  perf_metrics: Record<string, unknown>;
}

const SIM_HEADER = { 'x-disagg-sim': '1' };
/** Upstream's ctx_request_id values are large executor ids; start high so they do not look like indexes. */
const CTX_ID_BASE = 1_000_000;
const MAX_ITER_STATS = 1_000;
const RECENT_REQUESTS = 50;

/** One inference request as `/_sim/requests` shows it. */
interface SimRequestRecord {
  path: string;
  /** The `disaggregated_params` member's text exactly as received, or null. */
  disaggregated_params: string | null;
  /** The x-trtllm-disagg-auth header, or null. */
  auth: string | null;
  return_metrics: boolean;
}

function monotonicSec(): number {
  // CLOCK_MONOTONIC like upstream's steady clock: shared by all processes of one machine.
  return Number(process.hrtime.bigint()) / 1e9;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a request body (bounded). */
function readBody(req: IncomingMessage, limitBytes = 64 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type Endpoint = 'completion' | 'chat';

export class SimServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly inflight = new Set<{ abort: (reason: string) => void }>();
  private readonly hung = new Set<ServerResponse>();
  private faults: SimFaults;
  private readonly contexts: ContextStateStore;
  private iterStats: unknown[] = [];
  private iterWaiters: (() => void)[] = [];
  private perfRecords: PerfRecord[] = [];
  private steadyOffsetSec = 0;
  private nextRequestId = 1;
  private nextCtxRequestId: number;
  private answeredRequests = 0;
  private isDraining = false;
  private boundPort = 0;
  /** Inference requests received (any outcome), and the last few as seen on the wire (`/_sim/requests`). */
  private receivedInference = 0;
  private recentRequests: SimRequestRecord[] = [];
  /** The disaggregated_params text of the last context answers, as written on the wire. */
  private sentContextParams: string[] = [];
  /** `/prometheus/metrics`: only releases that mount it, and only with return_perf_metrics (section 4). */
  private readonly prometheus: SimPrometheus | null;

  constructor(private readonly deps: SimServerDeps) {
    this.faults = { ...deps.faults };
    const { settings } = deps;
    this.prometheus =
      settings.dialect.hasPrometheusRoute && settings.isPerfMetricsEnabled
        ? new SimPrometheus(settings.modelName)
        : null;
    deps.engine.setSlowdown(this.faults.slowdownFactor, this.faults.extraIterationMs);
    this.contexts = new ContextStateStore(deps.settings.kvTransferTimeoutMs, (id) =>
      deps.log(
        `[sim] KV state of ctx_request_id ${id} expired after ${deps.settings.kvTransferTimeoutMs} ms; freed`,
      ),
    );
    this.nextCtxRequestId = CTX_ID_BASE + (process.pid % 1000) * 1_000_000;
  }

  /** Receives one engine iteration's stats (wired only with enable_iter_perf_stats). */
  recordIteration(stats: unknown): void {
    if (!this.deps.settings.isIterStatsEnabled) return;
    this.iterStats.push(stats);
    if (this.iterStats.length > MAX_ITER_STATS) {
      this.iterStats.splice(0, this.iterStats.length - MAX_ITER_STATS);
    }
    const waiters = this.iterWaiters;
    this.iterWaiters = [];
    for (const wake of waiters) wake();
  }

  get port(): number {
    return this.boundPort;
  }

  get pendingContextCount(): number {
    return this.contexts.size;
  }

  async listen(): Promise<number> {
    const server = createServer((req, res) => {
      if (this.deps.settings.isAccessLog) {
        // uvicorn's access log line (trtllm-serve runs uvicorn at log_level info).
        res.once('finish', () => {
          const peer = `${req.socket.remoteAddress ?? '-'}:${req.socket.remotePort ?? 0}`;
          this.deps.log(
            `INFO:     ${peer} - "${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}" ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}`,
          );
        });
      }
      this.route(req, res).catch((err: unknown) => {
        this.deps.log(`[sim] request failed: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) {
          this.sendJson(
            res,
            500,
            errorResponse(
              `Internal server error ${(err as Error).message}`,
              'InternalServerError',
              500,
            ),
          );
        } else res.destroy();
      });
    });
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.deps.settings.port, this.deps.settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.boundPort =
      typeof address === 'object' && address !== null ? address.port : this.deps.settings.port;
    return this.boundPort;
  }

  /**
   * Graceful stop: refuse new requests, let in-flight ones finish for up to graceMs, then fail the rest
   * (streams are cut without [DONE], as upstream does on errors) and close every connection.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.isDraining = true;
    const server = this.server;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    server?.closeIdleConnections();
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    const deadline = Date.now() + graceMs;
    while (this.inflight.size > 0 && Date.now() < deadline) await sleep(20);
    for (const entry of [...this.inflight]) entry.abort('server shutting down');
    await sleep(20);
    for (const socket of this.sockets) socket.destroy();
    this.contexts.clear();
    await closed;
  }

  // ---- routing ----

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const is = (m: string, p: string): boolean => method === m && path === p;

    if (is('GET', '/health')) return this.health(res);
    if (is('GET', '/health_generate')) return this.healthGenerate(res);
    if (is('GET', '/version')) {
      return this.sendJson(res, 200, { version: this.deps.settings.version });
    }
    if (is('GET', '/v1/models')) {
      return this.sendJson(res, 200, {
        object: 'list',
        data: [
          {
            id: this.deps.settings.modelName,
            object: 'model',
            created: Math.floor(Date.now() / 1000),
            owned_by: 'tensorrt_llm',
          },
        ],
      });
    }
    if (is('GET', '/metrics')) return this.metrics(res);
    if (is('GET', '/prometheus/metrics') && this.prometheus) {
      return this.prometheusMetrics(res, this.prometheus);
    }
    if (is('GET', '/perf_metrics')) {
      const out = this.perfRecords;
      this.perfRecords = [];
      return this.sendJson(res, 200, out);
    }
    if (is('GET', '/steady_clock_offset')) {
      const receive = this.steadyNowSec();
      // Upstream sleeps 0.2 s between the two stamps so the NTP formula has a measurable server interval.
      // The stamps are the raw steady clock: the pushed offset applies to perf metrics only.
      if (!this.deps.settings.isZeroDelay) await sleep(200);
      return this.sendJson(res, 200, { receive_ts: receive, transmit_ts: this.steadyNowSec() });
    }
    if (is('POST', '/steady_clock_offset')) return this.setSteadyOffset(req, res);
    if (is('POST', '/kv_cache_events')) {
      await readBody(req);
      const events = this.deps.kvEvents.isEnabled ? this.deps.kvEvents.drain() : [];
      return this.sendText(res, 200, stringifyJsonLossless(events), 'application/json');
    }
    if (is('POST', '/v1/completions')) return this.inference(req, res, 'completion');
    if (is('POST', '/v1/chat/completions')) return this.inference(req, res, 'chat');
    if (is('GET', '/_sim/info')) return this.sendJson(res, 200, this.info());
    if (is('GET', '/_sim/faults')) return this.sendJson(res, 200, this.faults);
    if (is('GET', '/_sim/requests')) {
      return this.sendJson(res, 200, {
        received: this.receivedInference,
        recent: this.recentRequests,
        sent_context_params: this.sentContextParams,
      });
    }
    if (is('POST', '/_sim/faults')) return this.setFaults(req, res);
    if (method === 'POST' && path.startsWith('/_sim/kv_transfer/')) {
      return this.kvTransfer(path, res);
    }
    const known = [
      '/health',
      '/health_generate',
      '/version',
      '/v1/models',
      '/metrics',
      '/perf_metrics',
      '/steady_clock_offset',
      '/kv_cache_events',
      '/v1/completions',
      '/v1/chat/completions',
      '/_sim/info',
      '/_sim/faults',
      '/_sim/requests',
    ];
    // The Prometheus route exists only where this release mounts it (a 404 elsewhere, as upstream).
    if (known.includes(path) || (path === '/prometheus/metrics' && this.prometheus)) {
      return this.sendJson(res, 405, { detail: 'Method Not Allowed' });
    }
    return this.sendJson(res, 404, { detail: 'Not Found' });
  }

  private health(res: ServerResponse): void {
    if (this.faults.failHealth || this.isDraining) {
      this.sendText(res, 503, 'Unhealthy', 'text/plain; charset=utf-8');
      return;
    }
    res.writeHead(200, { ...SIM_HEADER, 'content-length': '0' });
    res.end();
  }

  private async healthGenerate(res: ServerResponse): Promise<void> {
    if (this.faults.failHealth || this.isDraining) {
      this.sendText(res, 500, 'Generation health check failed', 'text/plain; charset=utf-8');
      return;
    }
    // Upstream runs a one-token chat completion ("hi", temperature 0) through the executor.
    const promptTokenIds = chatPromptTokenIds([{ role: 'user', content: 'hi' }], true);
    const seq = new SimSequence({
      promptTokenIds,
      seed: 0,
      temperature: 0,
      topP: 1,
      maxNewTokens: 1,
      stop: [],
      stopTokenIds: [],
      shouldIncludeStopStr: false,
      shouldIgnoreEos: false,
      minTokens: 0,
    });
    const isOk = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        handle.cancel();
        resolve(false);
      }, 30_000);
      const handle = this.deps.engine.submit({
        prefillTokens: promptTokenIds.length,
        kvTokens: promptTokenIds.length + 1,
        step: () => {
          seq.advance();
          clearTimeout(timer);
          resolve(true);
          return true;
        },
        onRejected: () => {
          clearTimeout(timer);
          resolve(false);
        },
      });
    });
    if (isOk) this.sendText(res, 200, 'Generation health check OK', 'text/plain; charset=utf-8');
    else this.sendText(res, 500, 'Generation health check failed', 'text/plain; charset=utf-8');
  }

  private async metrics(res: ServerResponse): Promise<void> {
    if (!this.deps.settings.isIterStatsEnabled) {
      this.sendJson(res, 200, []);
      return;
    }
    if (this.iterStats.length === 0) {
      // Upstream waits up to 2 s on the stats queue; wake as soon as one iteration reports.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.deps.settings.metricsWaitMs);
        this.iterWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = this.iterStats;
    this.iterStats = [];
    this.sendJson(res, 200, out);
  }

  private async prometheusMetrics(res: ServerResponse, prometheus: SimPrometheus): Promise<void> {
    const load = this.deps.engine.snapshot();
    const capacity = this.deps.engine.kvCapacityTokens;
    prometheus.setLoad(
      load.active,
      load.queued,
      capacity > 0 ? (load.usedKvTokens + load.heldKvTokens) / capacity : 0,
    );
    this.sendText(res, 200, await prometheus.text(), prometheus.contentType);
  }

  /** This worker's steady clock: the machine's monotonic clock plus the simulated skew. */
  private steadyNowSec(): number {
    return monotonicSec() + this.deps.settings.steadyClockSkewSec;
  }

  private async setSteadyOffset(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.readJson(req);
    const offset =
      typeof body === 'object' && body !== null ? (body as { offset?: unknown }).offset : undefined;
    if (typeof offset !== 'number') {
      this.sendJson(res, 400, errorResponse('offset must be a number, e.g. {"offset": -0.01}'));
      return;
    }
    this.steadyOffsetSec = offset;
    res.writeHead(200, { ...SIM_HEADER, 'content-length': '0' });
    res.end();
  }

  private async setFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.readJson(req);
    const result = applyFaultPatch(this.faults, body);
    if (!result.ok) {
      this.sendJson(res, 400, { error: result.message });
      return;
    }
    this.faults = result.faults;
    this.deps.engine.setSlowdown(this.faults.slowdownFactor, this.faults.extraIterationMs);
    this.deps.log(`[sim] fault switches now ${JSON.stringify(this.faults)}`);
    this.sendJson(res, 200, this.faults);
  }

  private kvTransfer(path: string, res: ServerResponse): void {
    const id = Number(path.slice('/_sim/kv_transfer/'.length));
    const payload = Number.isInteger(id) ? this.contexts.take(id) : undefined;
    if (!payload) {
      this.sendJson(
        res,
        404,
        errorResponse(
          `unknown or expired ctx_request_id ${path.slice('/_sim/kv_transfer/'.length)}`,
          'NotFoundError',
          404,
        ),
      );
      return;
    }
    this.sendJson(res, 200, payload);
  }

  private info(): Record<string, unknown> {
    return {
      simulated: true,
      ...this.deps.settings.info,
      port: this.boundPort,
      scheduler: this.deps.engine.snapshot(),
      pending_contexts: this.contexts.ids(),
      stored_kv_blocks: this.deps.kvEvents.storedBlockCount,
      answered_requests: this.answeredRequests,
      faults: this.faults,
    };
  }

  // ---- inference ----

  private async inference(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint,
  ): Promise<void> {
    if (this.isDraining) {
      this.sendJson(
        res,
        503,
        errorResponse('Server is shutting down', 'ServiceUnavailableError', 503),
      );
      return;
    }
    if (this.faults.refuseRequests) {
      req.socket.destroy();
      return;
    }
    const text = await readBody(req);
    this.recordRequest(req, text);
    if (this.faults.hang) {
      // Accept and never answer; the connection is only closed at shutdown.
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return;
    }
    if (this.faults.answer5xx !== null) {
      this.sendJson(
        res,
        this.faults.answer5xx,
        errorResponse('Simulated fault: answer5xx', 'InternalServerError', this.faults.answer5xx),
      );
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text) as unknown;
    } catch (err) {
      this.sendJson(
        res,
        400,
        errorResponse(
          `[{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', 'input': {}, 'ctx': {'error': '${(err as Error).message}'}}]`,
        ),
      );
      return;
    }
    const rules: RequestRules = {
      dialect: this.deps.settings.dialect,
      allowRequestChatTemplate: this.deps.settings.allowRequestChatTemplate,
    };
    const parsed =
      endpoint === 'completion' ? parseCompletionRequest(raw, rules) : parseChatRequest(raw, rules);
    if (!parsed.ok) {
      this.sendJson(res, 400, errorResponse(parsed.message));
      return;
    }
    const refusal = this.authRefusal(parsed.value, req);
    if (refusal !== null) {
      this.sendJson(res, 400, errorResponse(refusal));
      return;
    }
    parsed.value.wantsMetrics =
      this.deps.settings.dialect.hasRequestMetrics &&
      this.deps.settings.isPerfMetricsEnabled &&
      wantsRequestMetrics(req.headers[RETURN_METRICS_HEADER]);
    const arrivalSec = this.steadyNowSec();
    try {
      await this.generate(parsed.value, res, endpoint, arrivalSec);
    } finally {
      this.answeredRequests += 1;
      const crashAfter = this.faults.crashAfterRequests;
      if (crashAfter !== null && this.answeredRequests >= crashAfter) {
        this.deps.log(`[sim] fault crashAfterRequests=${crashAfter} reached: exiting`);
        res.once('finish', () => this.deps.onCrash(1));
        if (res.writableFinished) this.deps.onCrash(1);
      }
    }
  }

  /** Keeps what a test needs to see of a request: its params text byte for byte and the headers that matter. */
  private recordRequest(req: IncomingMessage, text: string): void {
    this.receivedInference += 1;
    const member = scanObjectMembers(text)?.get('disaggregated_params');
    const auth = req.headers[INTERNAL_DISAGG_AUTH_HEADER];
    this.recentRequests.push({
      path: req.url ?? '',
      disaggregated_params: member ? text.slice(member.start, member.end) : null,
      auth: typeof auth === 'string' ? auth : null,
      return_metrics: typeof req.headers[RETURN_METRICS_HEADER] === 'string',
    });
    if (this.recentRequests.length > RECENT_REQUESTS) this.recentRequests.shift();
  }

  /** Upstream's worker check of signed generation calls (1.3, shape S4); null when the request may run. */
  private authRefusal(
    request: CompletionRequestIn | ChatRequestIn,
    req: IncomingMessage,
  ): string | null {
    if (this.deps.settings.dialect.signing === 'none' || !request.disagg) return null;
    const header = req.headers[INTERNAL_DISAGG_AUTH_HEADER];
    const verdict = verifyInternalRequest(
      this.deps.settings.internalAuthKey ?? undefined,
      request.disagg.raw,
      Array.isArray(header) ? header[0] : header,
    );
    return verdict.ok ? null : verdict.message;
  }

  /** The prompts of a request with their token ids (chat: the templated messages unless prompt_token_ids is given). */
  private promptsOf(request: CompletionRequestIn | ChatRequestIn): PromptIn[] {
    if (request.kind === 'completion') {
      return request.prompts.map((p) =>
        typeof p === 'string' ? { text: p, ids: tokenize(p) } : { text: null, ids: p },
      );
    }
    return [
      {
        text: null,
        ids:
          request.promptTokenIds ??
          chatPromptTokenIds(request.messages, request.shouldAddGenerationPrompt),
      },
    ];
  }

  /** A 400 message for a request the worker cannot run, or null. */
  private rejectReason(
    prompts: PromptIn[],
    requestType: string,
    request: CompletionRequestIn | ChatRequestIn,
  ): string | null {
    const { settings } = this.deps;
    for (const p of prompts) {
      if (p.ids.length === 0) return 'The prompt must not be empty';
      if (p.ids.length >= settings.maxSeqLen) {
        return `The prompt length (${p.ids.length}) must be less than max_seq_len (${settings.maxSeqLen})`;
      }
      if (!settings.isChunkedPrefill && p.ids.length > settings.maxNumTokens) {
        return `The number of context tokens (${p.ids.length}) exceeds max_num_tokens (${settings.maxNumTokens}) and chunked prefill is disabled`;
      }
    }
    if (request.n > 1 && settings.backend === 'pytorch') {
      // Upstream's check_multiple_response (chat_utils.py, Oct 2025).
      return 'Multiple response is not supported in PyTorch workflow';
    }
    if (!['context_only', 'generation_only', 'context_and_generation'].includes(requestType)) {
      return `Unknown request_type '${requestType}'`;
    }
    if (requestType === 'context_only' && settings.isOverlapScheduler) {
      // Oct 2025 upstream (trtllm-protocol.md 2.2): context workers must run with disable_overlap_scheduler: true.
      return 'Context only requests are not supported in pytorch backend when overlap is enabled.';
    }
    if (requestType !== 'context_and_generation' && !settings.hasKvTransceiver) {
      // Without cache_transceiver_config.backend upstream builds no KV transceiver (2.1): no disaggregation.
      return `${requestType} requests need cache_transceiver_config.backend on this worker (the KV cache transceiver is disabled)`;
    }
    if (requestType !== 'context_and_generation' && prompts.length !== 1) {
      // Upstream's wording for a disaggregated request with several prompts.
      return 'Disaggregated server currently only supports single string prompt or list of integers in request';
    }
    if (requestType !== 'context_and_generation' && request.n !== 1) {
      return 'Disaggregated requests carry exactly one prompt and n=1';
    }
    return null;
  }

  /** One track per choice: n for each prompt, each with its own seed and its share of the prefill. */
  private buildTracks(
    request: CompletionRequestIn | ChatRequestIn,
    prompts: PromptIn[],
    { requestType, initialTokens }: { requestType: string; initialTokens: number[] },
  ): Track[] {
    const { settings } = this.deps;
    const isContextOnly = requestType === 'context_only';
    const tracks: Track[] = [];
    prompts.forEach((prompt, promptIndex) => {
      const room = settings.maxSeqLen - prompt.ids.length;
      const maxNewTokens = request.maxTokens === null ? room : Math.min(request.maxTokens, room);
      // The gen worker holds the transferred prompt KV; ctx and aggregated workers prefill it.
      const { cachedTokens } = this.deps.kvEvents.storePrompt(prompt.ids);
      for (let i = 0; i < request.n; i += 1) {
        const seq = new SimSequence(
          {
            promptTokenIds: prompt.ids,
            // n > 1: each choice samples with its own seed (seed, seed + 1, ...); choice 0 is the n = 1 answer.
            seed: request.seed + i,
            temperature: request.temperature,
            topP: request.topP,
            maxNewTokens: isContextOnly ? Math.min(1, maxNewTokens) : maxNewTokens,
            stop: request.stop,
            stopTokenIds: request.stopTokenIds,
            shouldIncludeStopStr: request.shouldIncludeStopStr,
            shouldIgnoreEos: request.shouldIgnoreEos,
            minTokens: request.minTokens,
          },
          initialTokens,
        );
        tracks.push({
          index: promptIndex * request.n + i,
          prompt,
          promptIndex,
          seq,
          maxNewTokens,
          cachedTokens,
          // The choices of one prompt share its prefill.
          prefillTokens:
            requestType === 'generation_only'
              ? 0
              : i === 0
                ? Math.max(1, prompt.ids.length - cachedTokens)
                : 1,
          isContextOnly,
          iters: { first: 0, last: 0 },
        });
      }
    });
    return tracks;
  }

  /**
   * The disaggregated_params a context-only answer carries; the prompt's KV is kept for the generation worker
   * unless the sequence already finished.
   */
  private answerContextOnly(
    request: CompletionRequestIn | ChatRequestIn,
    ctxRequestId: number,
    first: Track,
  ): NonNullable<ChoiceResult['disaggregatedParams']> {
    const { settings } = this.deps;
    const promptTokenIds = first.prompt.ids;
    const firstGenTokens =
      first.seq.tokenIds.length > 0 ? first.seq.tokenIds.slice(0, 1) : [EOS_TOKEN_ID];
    const opaque = encodeOpaqueState({
      sim: 1,
      host: settings.host,
      port: this.boundPort,
      ctx_request_id: ctxRequestId,
      pid: process.pid,
    });
    const disaggOut = {
      request_type: 'context_only',
      first_gen_tokens: firstGenTokens,
      ctx_request_id: ctxRequestId,
      encoded_opaque_state: opaque,
      draft_tokens: null,
      ...this.contextAnswerExtras(request, ctxRequestId, first),
    };
    this.sentContextParams.push(JSON.stringify(disaggOut));
    if (this.sentContextParams.length > RECENT_REQUESTS) this.sentContextParams.shift();
    if (first.seq.finishReason !== 'stop') {
      // Keep the KV for the generation worker until it pulls it or kv_transfer_timeout_ms passes.
      const payload: KvTransferPayload = {
        ctx_request_id: ctxRequestId,
        prompt_token_ids: promptTokenIds,
        first_gen_tokens: firstGenTokens,
        kv_bytes: settings.kvBytesForTokens(promptTokenIds.length),
      };
      this.contexts.put(payload, this.deps.engine.holdKv(promptTokenIds.length + 1));
    }
    return disaggOut;
  }

  private async generate(
    request: CompletionRequestIn | ChatRequestIn,
    res: ServerResponse,
    endpoint: Endpoint,
    arrivalSec: number,
  ): Promise<void> {
    const { settings } = this.deps;
    const prompts = this.promptsOf(request);
    const requestType = request.disagg?.request_type ?? 'context_and_generation';
    const rejected = this.rejectReason(prompts, requestType, request);
    if (rejected !== null) {
      this.sendJson(res, 400, errorResponse(rejected));
      return;
    }
    const requestId = this.nextRequestId;
    this.nextRequestId += 1;
    const timing: Record<string, number> = {
      server_arrival_time: arrivalSec + this.steadyOffsetSec,
      arrival_time: arrivalSec + this.steadyOffsetSec,
    };

    let initialTokens: number[] = [];
    let ctxRequestId: number | null = null;
    if (requestType === 'generation_only') {
      const pulled = await this.pullContext(request, prompts[0]?.ids ?? [], timing);
      if (!pulled.ok) {
        this.sendJson(res, 400, errorResponse(pulled.message));
        return;
      }
      initialTokens = pulled.firstGenTokens;
      ctxRequestId = pulled.ctxRequestId;
    }
    const isContextOnly = requestType === 'context_only';
    if (isContextOnly) {
      ctxRequestId = this.nextCtxRequestId;
      this.nextCtxRequestId += 1;
    }
    const tracks = this.buildTracks(request, prompts, { requestType, initialTokens });
    const out = new ResponseWriter(
      res,
      request,
      endpoint,
      tracks,
      settings.modelName,
      settings.streamInterval,
      this.faults.dieMidStreamAfterTokens,
      () => this.deps.onCrash(137),
    );
    out.start();
    const isOk = await this.runTracks(tracks, out, res, timing);
    if (!isOk) return;
    // A finished sequence's blocks (prompt + generated tokens) stay in the cache for reuse, so a follow-up
    // turn that extends this conversation matches more blocks (upstream stores blocks for reuse at the end).
    for (const t of tracks) {
      if (!t.isContextOnly && t.seq.tokenIds.length > 0) {
        this.deps.kvEvents.storePrompt([...t.prompt.ids, ...t.seq.tokenIds]);
      }
    }
    timing.last_token_time = this.steadyNowSec() + this.steadyOffsetSec;
    if (timing.first_token_time === undefined) {
      timing.first_token_time = timing.last_token_time;
      timing.server_first_token_time = timing.last_token_time;
    }

    const first = tracks[0];
    const disaggOut =
      isContextOnly && ctxRequestId !== null && first
        ? this.answerContextOnly(request, ctxRequestId, first)
        : null;
    const metrics = request.wantsMetrics
      ? buildMetricsHeaders([{ name: 'server', timing }])
      : undefined;
    out.finish(disaggOut, isContextOnly && first ? first.prompt.ids : null, metrics);
    if (first) {
      this.recordPerf(requestId, ctxRequestId, this.perfMetrics(first, requestType, timing));
    }
    if (first) this.recordPrometheus(tracks, timing);
  }

  /** Runs every sequence of the request through the engine; false when the request failed or was abandoned. */
  private runTracks(
    tracks: Track[],
    out: ResponseWriter,
    res: ServerResponse,
    timing: Record<string, number>,
  ): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const handles: EngineHandle[] = [];
      let remaining = tracks.length;
      let isSettled = false;
      const settle = (ok: boolean): void => {
        if (isSettled) return;
        isSettled = true;
        this.inflight.delete(entry);
        if (!ok) for (const h of handles) h.cancel();
        resolve(ok);
      };
      const entry = {
        abort: (reason: string): void => {
          out.fail(reason);
          settle(false);
        },
      };
      this.inflight.add(entry);
      res.on('close', () => {
        // Client went away: free the slots, as upstream aborts a disconnected request.
        if (!res.writableFinished) settle(false);
      });
      const trackDone = (track: Track): void => {
        out.trackDone(track);
        remaining -= 1;
        if (remaining === 0) settle(true);
      };
      for (const track of tracks) {
        if (track.seq.isFinished) {
          // A generation-only request whose first token already ends it (max_tokens 1, EOS).
          timing.first_scheduled_time ??= this.steadyNowSec() + this.steadyOffsetSec;
          trackDone(track);
          continue;
        }
        handles.push(
          this.deps.engine.submit({
            prefillTokens: track.prefillTokens,
            contextTokens: track.prompt.ids.length + track.seq.tokenIds.length,
            // A context-only request needs KV for the prompt and its one token, not for max_tokens.
            kvTokens:
              track.prompt.ids.length + (track.isContextOnly ? 1 : Math.max(1, track.maxNewTokens)),
            onScheduled: (_now, iteration) => {
              track.iters.first = iteration;
              timing.first_scheduled_time ??= this.steadyNowSec() + this.steadyOffsetSec;
            },
            step: (_now, iteration) => {
              track.iters.last = iteration;
              track.seq.advance();
              if (timing.first_token_time === undefined) {
                timing.first_token_time = this.steadyNowSec() + this.steadyOffsetSec;
                timing.server_first_token_time = timing.first_token_time;
              }
              const isDone = track.seq.isFinished;
              if (isDone) trackDone(track);
              else out.progress(track);
              return isDone;
            },
            onRejected: (reason) => {
              out.fail(reason);
              settle(false);
            },
          }),
        );
      }
    });
  }

  /**
   * The fields a context worker of the emulated release adds to its disaggregated_params (section 1): the
   * request's disagg_request_id echoed, attention-DP rank 0, where the generation side finds this context,
   * context-first scheduling, and (1.3) the context's usage.
   */
  private contextAnswerExtras(
    request: CompletionRequestIn | ChatRequestIn,
    ctxRequestId: number,
    first: Track,
  ): Record<string, unknown> {
    const extras = this.deps.settings.dialect.contextAnswerExtras;
    const values: Record<string, unknown> = {
      disagg_request_id: request.disagg?.raw['disagg_request_id'] ?? ctxRequestId,
      ctx_dp_rank: 0,
      ctx_info_endpoint: `sim://${this.deps.settings.host}:${this.boundPort}/${ctxRequestId}`,
      schedule_style: 0,
      ctx_usage: usage(first.prompt.ids.length, 1, first.cachedTokens),
      first_gen_log_probs: null,
      first_gen_logits: null,
    };
    const out: Record<string, unknown> = {};
    for (const field of extras) out[field] = values[field] ?? null;
    return out;
  }

  private recordPrometheus(tracks: Track[], timing: Record<string, number>): void {
    if (!this.prometheus) return;
    const arrival = timing.arrival_time ?? 0;
    const firstToken = timing.first_token_time ?? arrival;
    const last = timing.last_token_time ?? firstToken;
    for (const t of tracks) {
      const generated = t.isContextOnly ? 1 : t.seq.tokenIds.length;
      this.prometheus.recordFinished({
        finishReason: t.seq.finishReason ?? 'unknown',
        e2eSec: last - arrival,
        ttftSec: firstToken - arrival,
        tpotSec: generated > 1 ? (last - firstToken) / (generated - 1) : null,
        promptTokens: t.prompt.ids.length,
        generationTokens: generated,
      });
    }
  }

  private perfMetrics(
    track: Track,
    requestType: string,
    timing: Record<string, number>,
  ): Record<string, unknown> {
    const blockSize = this.deps.engine.tokensPerBlock;
    const totalBlocks = Math.ceil(
      (track.prompt.ids.length + track.seq.tokenIds.length) / blockSize,
    );
    const reusedBlocks = Math.floor(track.cachedTokens / blockSize);
    return {
      first_iter: track.iters.first,
      last_iter: track.iters.last,
      timing_metrics: timing,
      kv_cache_metrics: {
        num_total_allocated_blocks: totalBlocks,
        num_new_allocated_blocks: totalBlocks - reusedBlocks,
        num_reused_blocks: reusedBlocks,
        num_missed_blocks:
          requestType === 'generation_only'
            ? 0
            : Math.ceil(track.prompt.ids.length / blockSize) - reusedBlocks,
      },
    };
  }

  private async pullContext(
    request: CompletionRequestIn | ChatRequestIn,
    promptTokenIds: number[],
    timing: Record<string, number>,
  ): Promise<
    { ok: true; firstGenTokens: number[]; ctxRequestId: number } | { ok: false; message: string }
  > {
    const params = request.disagg;
    if (!params || params.ctx_request_id === null) {
      return {
        ok: false,
        message: 'generation_only requests need disaggregated_params.ctx_request_id',
      };
    }
    const first = params.first_gen_tokens ?? [];
    if (first.length === 0) {
      return {
        ok: false,
        message: 'generation_only requests need disaggregated_params.first_gen_tokens',
      };
    }
    if (params.encoded_opaque_state === null) {
      // Gen-only benchmark mode (5.7): the KV is left uninitialised, nothing to pull.
      if (this.deps.settings.isGenOnlyBenchmark) {
        return { ok: true, firstGenTokens: first, ctxRequestId: params.ctx_request_id };
      }
      return {
        ok: false,
        message:
          'generation_only request without encoded_opaque_state (set TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1 for gen-only benchmarks)',
      };
    }
    const state = decodeOpaqueState(params.encoded_opaque_state);
    if (state === null) {
      return { ok: false, message: 'encoded_opaque_state is not from a simulated context worker' };
    }
    timing.kv_cache_transfer_start = this.steadyNowSec() + this.steadyOffsetSec;
    const pulled = await pullKvState(state, params.ctx_request_id, 10_000);
    if (!pulled.ok) return pulled;
    const same =
      pulled.payload.prompt_token_ids.length === promptTokenIds.length &&
      pulled.payload.prompt_token_ids.every((t, i) => t === promptTokenIds[i]);
    if (!same) {
      return {
        ok: false,
        message: `the prompt does not match the context of ctx_request_id ${params.ctx_request_id}`,
      };
    }
    // Time proportional to the bytes a real KV cache of this model and length holds, at the link bandwidth.
    const transferMs = this.deps.settings.isZeroDelay
      ? 0
      : this.deps.settings.kvTransferMs(pulled.payload.kv_bytes);
    if (transferMs > 0) await sleep(transferMs);
    timing.kv_cache_transfer_end = this.steadyNowSec() + this.steadyOffsetSec;
    timing.kv_cache_size = pulled.payload.kv_bytes;
    return { ok: true, firstGenTokens: first, ctxRequestId: params.ctx_request_id };
  }

  private recordPerf(
    requestId: number,
    ctxRequestId: number | null,
    perfMetrics: Record<string, unknown>,
  ): void {
    const { settings } = this.deps;
    if (!settings.isPerfMetricsEnabled || settings.perfMetricsMaxRequests <= 0) return;
    const record: PerfRecord = {
      request_id: requestId,
      perf_metrics: perfMetrics,
    };
    if (ctxRequestId !== null) record.ctx_request_id = ctxRequestId;
    this.perfRecords.push(record);
    if (this.perfRecords.length > settings.perfMetricsMaxRequests) {
      this.perfRecords.splice(0, this.perfRecords.length - settings.perfMetricsMaxRequests);
    }
  }

  // ---- helpers ----

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const text = await readBody(req);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // The caller validates the shape and answers 400.
      return undefined;
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    this.sendText(res, status, JSON.stringify(body), 'application/json');
  }

  private sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
    res.writeHead(status, {
      ...SIM_HEADER,
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }
}

/** One prompt of a request. `text` is set for text prompts (completions echo). */
interface PromptIn {
  text: string | null;
  ids: number[];
}

/** One generated choice: a sequence for one prompt, its engine bookkeeping and its output index. */
interface Track {
  index: number;
  prompt: PromptIn;
  promptIndex: number;
  seq: SimSequence;
  maxNewTokens: number;
  cachedTokens: number;
  prefillTokens: number;
  isContextOnly: boolean;
  iters: { first: number; last: number };
}

/**
 * The finish reason upstream reports: for context-only requests NOT_FINISHED maps to "not_finished", and
 * "length"/"stop" only when the first token already ends the request (trtllm-protocol.md 4.3).
 */
function reportedFinishReason(track: Track): string | null {
  if (!track.isContextOnly) return track.seq.finishReason;
  return track.seq.finishReason === 'stop' || track.maxNewTokens <= 1
    ? track.seq.finishReason
    : 'not_finished';
}

/** Writes one request's answer: SSE chunks while generating, or one JSON body at the end. */
class ResponseWriter {
  private readonly state = new Map<
    Track,
    { streamedTokens: number; sinceWrite: number; hasEchoed: boolean; isDone: boolean }
  >();
  private isEnded = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly request: CompletionRequestIn | ChatRequestIn,
    private readonly endpoint: Endpoint,
    private readonly tracks: Track[],
    /** The served model name: upstream's merged multi-prompt completion reports it instead of the request's. */
    private readonly servedModel: string,
    private readonly streamInterval: number,
    private readonly dieAfterTokens: number | null,
    private readonly die: () => void,
  ) {
    for (const t of tracks) {
      this.state.set(t, { streamedTokens: 0, sinceWrite: 0, hasEchoed: false, isDone: false });
    }
  }

  start(): void {
    if (!this.request.isStream) return;
    this.res.writeHead(200, {
      ...SIM_HEADER,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    if (this.endpoint === 'chat') {
      for (const t of this.tracks) {
        const u = this.request.isContinuousUsage
          ? usage(t.prompt.ids.length, 0, t.cachedTokens)
          : null;
        this.res.write(chatFirstChunk(this.request.model, t.index, u));
      }
    }
  }

  /** Called after every token that did not finish the choice; streams every stream_interval tokens. */
  progress(track: Track): void {
    const st = this.state.get(track);
    if (!this.request.isStream || this.isEnded || !st) return;
    st.sinceWrite += 1;
    if (st.sinceWrite < this.streamInterval) return;
    st.sinceWrite = 0;
    this.writeDelta(track, null, null);
  }

  /** A choice finished: its last stream chunk carries the finish reason. */
  trackDone(track: Track): void {
    if (!this.request.isStream || this.isEnded) return;
    this.writeDelta(track, reportedFinishReason(track), track.seq.stopReason);
    const st = this.state.get(track);
    if (st) st.isDone = true;
    // Completions: each prompt is its own upstream generator, so each writes its own final usage chunk
    // (a chat chunk, protocol 4.4 quirk) once all of its choices are done.
    if (this.endpoint === 'completion' && this.request.includeUsage) {
      const siblings = this.tracks.filter((t) => t.promptIndex === track.promptIndex);
      if (siblings.every((t) => this.state.get(t)?.isDone === true)) {
        this.res.write(finalUsageChunk(this.request.model, this.usageOf(siblings)));
      }
    }
  }

  private echoText(track: Track): string {
    return track.prompt.text ?? detokenize(track.prompt.ids);
  }

  private writeDelta(
    track: Track,
    finishReason: string | null,
    stopReason: string | number | null,
  ): void {
    const st = this.state.get(track);
    if (!st) return;
    const seq = track.seq;
    let text = seq.takeDelta();
    const newTokens = seq.tokenIds.length - st.streamedTokens;
    const tokenIds = seq.tokenIds.slice(st.streamedTokens);
    st.streamedTokens = seq.tokenIds.length;
    const u = this.request.isContinuousUsage
      ? usage(track.prompt.ids.length, seq.tokenIds.length, track.cachedTokens)
      : null;
    if (this.endpoint === 'completion') {
      const req = this.request as CompletionRequestIn;
      if (req.isEcho && !st.hasEchoed) text = this.echoText(track) + text;
      st.hasEchoed = true;
      const isText = req.shouldDetokenize;
      this.res.write(
        completionChunk(
          req.model,
          track.index,
          {
            text: isText ? text : '',
            tokenIds: isText ? null : tokenIds,
            finishReason,
            stopReason,
          },
          u,
        ),
      );
    } else {
      this.res.write(
        chatContentChunk(this.request.model, track.index, { text, finishReason, stopReason }, u),
      );
    }
    if (
      this.dieAfterTokens !== null &&
      newTokens > 0 &&
      st.streamedTokens >= this.dieAfterTokens &&
      finishReason === null
    ) {
      // Fault: the process dies in the middle of the stream (no [DONE]).
      this.die();
    }
  }

  /** Usage over some choices: each prompt counted once, completion tokens summed over the choices. */
  private usageOf(tracks: Track[]): UsageOut {
    let promptTokens = 0;
    let cachedTokens = 0;
    let completionTokens = 0;
    const seen = new Set<number>();
    for (const t of tracks) {
      if (!seen.has(t.promptIndex)) {
        seen.add(t.promptIndex);
        promptTokens += t.prompt.ids.length;
        cachedTokens += t.cachedTokens;
      }
      // A context-only answer counts its one (first) token.
      completionTokens += t.isContextOnly ? 1 : t.seq.tokenIds.length;
    }
    return usage(promptTokens, completionTokens, cachedTokens);
  }

  /** `metrics`: the per-request metrics a 1.3 worker returns (headers, or an SSE event after [DONE]). */
  finish(
    disagg: ChoiceResult['disaggregatedParams'],
    promptTokenIdsOut: number[] | null,
    metrics?: MetricsHeaders,
  ): void {
    if (this.isEnded) return;
    this.isEnded = true;
    const u = this.usageOf(this.tracks);
    if (this.request.isStream) {
      if (this.request.includeUsage && this.endpoint === 'chat') {
        this.res.write(finalUsageChunk(this.request.model, u));
      }
      this.res.end(DONE_LINE + (metrics ? metricsSseEvent(metrics) : ''));
      return;
    }
    const choices = this.tracks.map((t) => {
      let text = t.seq.takeDelta();
      const choice: ChoiceResult = {
        index: t.index,
        text,
        tokenIds: null,
        finishReason: reportedFinishReason(t),
        stopReason: t.seq.stopReason,
        disaggregatedParams: t.index === 0 ? disagg : null,
      };
      if (this.endpoint === 'completion') {
        const req = this.request as CompletionRequestIn;
        if (req.isEcho) text = this.echoText(t) + text;
        choice.text = req.shouldDetokenize ? text : '';
        choice.tokenIds = req.shouldDetokenize ? null : [...t.seq.tokenIds];
      }
      return choice;
    });
    const isMerged =
      this.endpoint === 'completion' && new Set(this.tracks.map((t) => t.promptIndex)).size > 1;
    // Upstream merges several prompts' responses into one with the served model name and the list of the
    // context-only prompt ids (empty here: disaggregated requests carry one prompt).
    const body = nonStreamedResponse(this.endpoint, {
      model: isMerged ? this.servedModel : this.request.model,
      choices,
      usageOut: u,
      promptTokenIds: isMerged ? [] : promptTokenIdsOut,
    });
    const json = JSON.stringify(body);
    this.res.writeHead(200, {
      ...SIM_HEADER,
      ...metrics,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
    });
    this.res.end(json);
  }

  /** Ends the request with an error: a 400 ErrorResponse before streaming, a cut stream after. */
  fail(message: string): void {
    if (this.isEnded) return;
    this.isEnded = true;
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const json = JSON.stringify(errorResponse(message));
    this.res.writeHead(400, {
      ...SIM_HEADER,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
    });
    this.res.end(json);
  }
}
