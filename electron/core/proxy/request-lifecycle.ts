// One inference request, top to bottom (issue #14; the shape of fastify's handle-request.js): refuse
// at headers time when admission would shed it now (issue #16) -> read the body under its bounds ->
// validate -> admit -> context call -> generation call -> stream -> finish.
// Each step returns its result or an Ending; `finish` is the one place that answers, releases the
// admission slot and records the outcome, whatever path the request took (reliability.md items 1-9).
// Layer: core.
import type http from 'node:http';

import { needsContextPhase } from '../../../shared/logic/routers/conditional';
import type { RouteRequest } from '../../../shared/logic/routers/types';
import { RouterError } from '../../../shared/logic/routers/types';
import type { AdmissionController, QueuedAdmission, ShedReason } from './admission';
import type { ApiKeyCheck } from './api-key';
import type { BodyFailure, BodyLimits } from './client-body';
import { readClientBody } from './client-body';
import { DISAGG_HEADER, sendBody, sendError, setRouteHeaders } from './client-reply';
import type { DeadlineSweep } from './deadline-sweep';
import { readParams } from './disagg-params';
import { internalAuthHeaders } from './internal-auth';
import type { ProxyMetrics } from './metrics';
import { workerErrorBody } from './openai-error';
import { steadySeconds } from './perf-metrics';
import type { ProxyLimits, ProxyLog } from './proxy-options';
import { Ending, ProxyRequest, TotalDeadline } from './proxy-request';
import type { Endpoint, RawContextResult, RawJson } from './request-flow';
import {
  checkContextResponseText,
  contextAlreadyFinished,
  finishedContextBytes,
  rawJsonOf,
} from './request-flow';
import {
  buildMetricsHeaders,
  disaggPhase,
  limitMetricsHeaders,
  type MetricsHeaders,
  metricsHeadersOf,
  metricsSseEvent,
  phaseFromWorkerHeaders,
  RETURN_METRICS_HEADER,
  wantsRequestMetrics,
} from './request-metrics';
import type { RequestRecords } from './request-records';
import { epochNow } from './request-records';
import type { Payload, ValidRequest } from './request-steps';
import {
  contextPayload,
  directGenerationPayload,
  generationPayload,
  validateRequest,
} from './request-steps';
import type { ValidationOptions } from './request-validate';
import { SlotSet } from './slot-set';
import { endStreamWithError, type RelayDeps, relayStream } from './stream-relay';
import type { Answered, PhaseSpec, UpstreamCallDeps } from './upstream-call';
import { callWithRetry, Lease, RetryPolicy } from './upstream-call';
import type { StreamCall, StreamHead, WholeCall, WholeResponse } from './upstream-client';
import { postStream, postWhole } from './upstream-client';
import type { UpstreamFailureKind } from './upstream-error';
import type { Upstreams } from './upstreams';
import type { WorkerEndpoint } from './worker-pool';

export interface LifecycleDeps {
  limits: ProxyLimits;
  upstreams: Upstreams;
  admission: AdmissionController;
  records: RequestRecords;
  metrics: ProxyMetrics;
  log: ProxyLog;
  isAuthorized: ApiKeyCheck;
  sweep: DeadlineSweep;
  isGenOnlyBenchmark: boolean;
  conditionalMaxLocalPrefillLength: number | undefined;
  /** The workers' release's request rules, checked before any worker call (request-validate.ts). */
  requestRules: ValidationOptions;
  /** Signs generation calls whose params carry protected fields (internal-auth.ts). */
  internalAuthKey: string | undefined;
  /** disagg YAML `return_perf_metrics`: `X-TRTLLM-return-metrics: 1` is honoured (request-metrics.ts). */
  returnPerfMetrics: boolean;
}

const METRICS_OPT_IN: Readonly<Record<string, string>> = { [RETURN_METRICS_HEADER]: '1' };

/** Each shed reason's status and message. */
const SHED_ANSWERS: Record<ShedReason, [number, string]> = {
  queue_full: [429, 'The proxy is overloaded, retry later'],
  overloaded: [503, 'The proxy is overloaded: the wait for a slot exceeds its target, retry later'],
  queue_timeout: [
    503,
    'The proxy is overloaded: the wait for a slot exceeds its target, retry later',
  ],
  loop_overloaded: [503, 'The proxy is overloaded: its CPU is saturated, retry later'],
};

/** The worker path each inference endpoint is forwarded to (same path as the client used). */
const UPSTREAM_PATH: Record<Endpoint, string> = {
  completions: '/v1/completions',
  chat: '/v1/chat/completions',
};

const RETRY_AFTER = { 'retry-after': '1' };
const CLOSE = { connection: 'close' };
const RETRY_AFTER_CLOSE = { ...RETRY_AFTER, ...CLOSE };

/**
 * A request refused before its body was read: a body up to this size (declared by Content-Length) is
 * read and dropped by Node after the answer, so the connection is kept; a larger or chunked one would
 * cost what shedding early saves, so its connection is closed instead.
 */
const EARLY_SHED_DRAIN_BYTES = 64 * 1024;

const REACHED_NOTHING = new Set<UpstreamFailureKind>(['connect', 'reset']);
const BEFORE_ANY_ANSWER = new Set<UpstreamFailureKind>(['connect', 'reset', 'truncated']);

const CONTEXT: PhaseSpec<WholeCall, WholeResponse> = {
  role: 'context',
  pinHeader: DISAGG_HEADER.contextWorker,
  requestType: 'context_only',
  // The context phase has no client-visible effect: any failure but a timeout may go to another worker.
  retryOn: BEFORE_ANY_ANSWER,
  open: postWhole,
  awaitReply: (c) => c.result,
  markSent: (r, w) => {
    r.rec.ctxWorker = w.url;
    r.rec.ctxSentAt = epochNow();
  },
  timeoutMessage: 'Context server timed out',
  failedMessage: 'Context server failed while answering',
  protocolMessage: 'Context server sent an invalid HTTP response',
  unavailableMessage: 'No context server is available',
};

const markGenerationSent = (r: ProxyRequest, w: WorkerEndpoint): void => {
  r.rec.genWorker = w.url;
  r.rec.genSentAt = epochNow();
};

/** Non-streamed generation: a broken answer may have generated already, so only "never reached it" retries. */
const GENERATION_WHOLE: PhaseSpec<WholeCall, WholeResponse> = {
  role: 'generation',
  pinHeader: DISAGG_HEADER.generationWorker,
  requestType: 'generation_only',
  retryOn: REACHED_NOTHING,
  open: postWhole,
  awaitReply: (c) => c.result,
  markSent: markGenerationSent,
  timeoutMessage: 'Generation server timed out',
  failedMessage: 'Generation server failed while answering',
  protocolMessage: 'Generation server sent an invalid HTTP response',
  unavailableMessage: 'No generation server is available',
};

/** Streamed generation up to the response head: nothing reached the client yet, so retrying is safe. */
const GENERATION_STREAM: PhaseSpec<StreamCall, StreamHead> = {
  ...GENERATION_WHOLE,
  retryOn: BEFORE_ANY_ANSWER,
  open: postStream,
  awaitReply: (c) => c.head,
};

/** A context answer that passed the 5.3 checks. */
interface ContextAnswer {
  ctx: RawContextResult;
  answer: RawJson;
  worker: WorkerEndpoint;
  /** The context worker's per-request metrics headers, when asked for. */
  metricsHeaders?: MetricsHeaders;
}

export class InferenceHandler {
  /** Requests being handled (drain, shutdown, the in-flight gauge); a SlotSet, not a Set: see slot-set.ts. */
  readonly inFlight = new SlotSet<ProxyRequest>();
  private readonly callDeps: UpstreamCallDeps;
  private readonly relayDeps: RelayDeps;
  private readonly bodyLimits: BodyLimits;

  constructor(private readonly deps: LifecycleDeps) {
    const { limits, metrics, upstreams } = deps;
    this.callDeps = {
      upstreams,
      metrics,
      policy: new RetryPolicy(limits.maxRetries, metrics),
      log: (m) => deps.log('debug', m),
    };
    this.relayDeps = { pool: upstreams.generation, metrics, timeouts: limits };
    this.bodyLimits = {
      maxBytes: limits.maxBodyBytes,
      timeoutMs: limits.bodyTimeoutMs,
      minBytesPerS: limits.minBodyBytesPerS,
      rateGraceMs: limits.bodyRateGraceMs,
    };
  }

  /** Runs one request to its end; never rejects. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint): Promise<void> {
    const r = new ProxyRequest(
      req,
      res,
      endpoint,
      this.deps.records.start(endpoint, epochNow()),
      steadySeconds(),
    );
    this.inFlight.add(r);
    res.on('close', () => {
      if (!res.writableFinished) r.cancel('client_gone');
    });
    r.finished = this.run(r);
    return r.finished;
  }

  /** Cancels every request in flight and waits until each has answered and recorded. */
  async cancelAll(reason: 'shutdown'): Promise<void> {
    const all = this.inFlight.snapshot();
    for (const r of all) r.cancel(reason);
    await Promise.all(all.map((r) => r.finished ?? Promise.resolve()));
  }

  private async run(r: ProxyRequest): Promise<void> {
    let ending: Ending | undefined;
    try {
      ending = await this.lifecycle(r);
    } catch (err) {
      ending = this.unexpected(r, err);
    } finally {
      this.finish(r, ending ?? this.unexpected(r, undefined));
    }
  }

  /** validate -> admit -> context call -> generation call -> stream; each step returns its result or the Ending. */
  private async lifecycle(r: ProxyRequest): Promise<Ending> {
    if (!this.deps.isAuthorized(r.req.headers.authorization)) {
      return Ending.error('client_error', 401, 'Incorrect API key provided');
    }
    const early = this.deps.admission.refuseEarly(this.inFlight.size);
    if (early !== undefined) return this.shed(early, this.closeUnlessSmallBody(r));
    r.isReadingBody = true;
    const raw = await readClientBody(r.req, this.bodyLimits, this.deps.sweep);
    r.isReadingBody = false;
    if (!Buffer.isBuffer(raw)) return this.bodyRefused(r, raw);
    const checked = validateRequest(r.endpoint, raw, this.deps.requestRules);
    if (!checked.ok) return Ending.error('client_error', checked.status, checked.message);
    const input = checked.value;
    r.isStream = r.rec.isStream = input.isStream;
    r.wantsMetrics =
      this.deps.returnPerfMetrics && wantsRequestMetrics(r.req.headers[RETURN_METRICS_HEADER]);
    this.armTotalTimeout(r);
    const admitted = this.admit(r);
    const refused = admitted instanceof Promise ? await admitted : admitted;
    if (refused) return refused;
    const ready = this.deps.upstreams.readiness();
    if (!ready.ready) {
      return Ending.error('not_ready', 503, ready.reason, ready.reason, RETRY_AFTER);
    }
    const route = this.deps.upstreams.routeRequestFor(r.endpoint, input.body, input.prompt);
    const plan = this.planPhases(route);
    try {
      if (!plan.needsContext) {
        return await this.generate(
          r,
          route,
          directGenerationPayload(input, this.deps.isGenOnlyBenchmark),
          plan.reserved,
        );
      }
      const ctx = await this.contextCall(r, route, input);
      if (ctx instanceof Ending) return ctx;
      // Item 9: the client left during the context phase: never start the generation request.
      if (r.isCancelled) return r.cancelEnding();
      if (contextAlreadyFinished(ctx.ctx.finishReason)) return this.contextOnlyEnding(r, ctx);
      return await this.generate(
        r,
        route,
        generationPayload(input, ctx.ctx),
        plan.reserved,
        ctx,
        this.generationHeaders(r, ctx),
      );
    } finally {
      plan.reserved?.release();
    }
  }

  /** The one exit: answers (once), gives the slot back (once), records (once). */
  private finish(r: ProxyRequest, ending: Ending): void {
    try {
      this.answer(r, ending);
    } catch (err) {
      this.deps.log('error', `request ${r.rec.id}: answering failed: ${String(err)}`);
    }
    if (r.hasSlot) {
      r.hasSlot = false;
      this.deps.admission.release();
    }
    if (r.totalDeadline) this.deps.sweep.delete(r.totalDeadline);
    r.current = undefined;
    r.onCancel = undefined;
    this.inFlight.delete(r);
    // A body we did not read (refused early) is drained so the connection can serve the next request.
    if (!r.req.complete) r.req.resume();
    this.deps.records.finish(r.rec, ending.outcome, ending.status, ending.note);
  }

  private answer(r: ProxyRequest, ending: Ending): void {
    const { res } = r;
    const reply = ending.reply;
    if (reply.kind === 'written' || r.cancelReason === 'client_gone') return;
    setRouteHeaders(res, r.rec);
    if (reply.kind === 'body') {
      return sendBody(res, reply.status, reply.contentType, reply.body, reply.headers);
    }
    if (!res.headersSent) return sendError(res, reply.status, reply.message, reply.headers);
    endStreamWithError(r, reply.message, reply.status);
  }

  private unexpected(r: ProxyRequest, err: unknown): Ending {
    const isRouter = err instanceof RouterError;
    const message = isRouter ? `Internal server error ${err.message}` : 'Internal server error';
    if (!isRouter) {
      this.deps.log(
        'error',
        `request ${r.rec.id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
    return new Ending('upstream_error', 500, { kind: 'error', status: 500, message }, message);
  }

  // ---------------------------------------------------------------- before any worker call

  /** Why the body (read before the request may take a slot) was not accepted. */
  private bodyRefused(r: ProxyRequest, failure: BodyFailure): Ending {
    const limits = this.bodyLimits;
    switch (failure) {
      case 'aborted':
        return r.cancelEnding();
      case 'too_large':
        return Ending.error(
          'client_error',
          413,
          `Request body exceeds ${limits.maxBytes} bytes`,
          undefined,
          CLOSE,
        );
      case 'timeout':
        return Ending.error(
          'client_error',
          408,
          `Request body not received within ${limits.timeoutMs / 1000} s`,
          'body timeout',
          CLOSE,
        );
      case 'too_slow':
        return Ending.error(
          'client_error',
          408,
          `Request body arrived slower than ${limits.minBytesPerS} bytes/s`,
          'body too slow',
          CLOSE,
        );
    }
  }

  private armTotalTimeout(r: ProxyRequest): void {
    const ms = this.deps.limits.totalTimeoutMs;
    if (ms <= 0) return;
    r.totalDeadline = new TotalDeadline(this.deps.sweep.now() + ms, r);
    this.deps.sweep.add(r.totalDeadline);
  }

  /** Takes a slot at once (no promise: the common case), or waits in the queue, or is shed. */
  private admit(r: ProxyRequest): Ending | undefined | Promise<Ending | undefined> {
    const verdict = this.deps.admission.admit();
    if (verdict === 'admitted') {
      r.hasSlot = true;
      this.deps.metrics.admissionWait.observe(0);
      return undefined;
    }
    if (typeof verdict === 'string') return this.shed(verdict);
    return this.waitForSlot(r, verdict);
  }

  /** Waits in the queue; a cancelled request (client gone, timeout, shutdown) leaves it at once. */
  private async waitForSlot(
    r: ProxyRequest,
    verdict: QueuedAdmission,
  ): Promise<Ending | undefined> {
    r.onCancel = () => verdict.cancel();
    const queuedAt = performance.now();
    const waited = await verdict.result;
    r.onCancel = undefined;
    if (waited === 'admitted') {
      r.hasSlot = true;
      this.deps.metrics.admissionWait.observe((performance.now() - queuedAt) / 1000);
      return r.isCancelled ? r.cancelEnding() : undefined;
    }
    return waited === 'cancelled' ? r.cancelEnding() : this.shed(waited);
  }

  /** Whether a request refused before its body was read must close its connection (see EARLY_SHED_DRAIN_BYTES). */
  private closeUnlessSmallBody(r: ProxyRequest): boolean {
    const declared = r.req.headers['content-length'];
    return declared === undefined || !(Number(declared) <= EARLY_SHED_DRAIN_BYTES);
  }

  /**
   * 429 when the queue is full (this client is one too many); 503 when waiting would exceed the queue
   * target or timeout, or the proxy's own CPU is saturated (the service is saturated). All tell clients
   * when to come back; `isClosing` also closes the connection (an unread large body).
   */
  private shed(reason: ShedReason, isClosing = false): Ending {
    this.deps.metrics.countShed(reason);
    const headers = isClosing ? RETRY_AFTER_CLOSE : RETRY_AFTER;
    const [status, message] = SHED_ANSWERS[reason];
    return Ending.error('rejected', status, message, reason, headers);
  }

  /** 5.2: conditional disaggregation asks the gen router first and may skip the context phase. */
  private planPhases(route: RouteRequest): { needsContext: boolean; reserved?: Lease } {
    const needsContext = !this.deps.isGenOnlyBenchmark;
    const maxLocal = this.deps.conditionalMaxLocalPrefillLength;
    const pool = this.deps.upstreams.generation;
    if (maxLocal === undefined || pool.routerType !== 'kv_cache_aware') return { needsContext };
    const { worker, selection } = pool.select(route, new Set());
    const reserved = new Lease(pool, worker, selection);
    return {
      needsContext:
        selection.info === undefined ? true : needsContextPhase(selection.info, maxLocal),
      reserved,
    };
  }

  // ---------------------------------------------------------------- context phase

  /** The context call with retries, then the 5.3 checks on its answer (reliability.md items 3, 4, 6, 7). */
  private async contextCall(
    r: ProxyRequest,
    route: RouteRequest,
    input: ValidRequest,
  ): Promise<ContextAnswer | Ending> {
    const got = await callWithRetry(this.callDeps, {
      request: r,
      route,
      path: UPSTREAM_PATH[r.endpoint],
      payload: contextPayload(input),
      timeoutMs: this.deps.limits.contextTimeoutMs,
      ...(r.wantsMetrics ? { headers: METRICS_OPT_IN } : {}),
      spec: CONTEXT,
    });
    if (got instanceof Ending) return got;
    got.lease.release();
    r.rec.ctxAnsweredAt = epochNow();
    return this.checkContextAnswer(r, got.lease.worker, got.value);
  }

  private checkContextAnswer(
    r: ProxyRequest,
    worker: WorkerEndpoint,
    reply: WholeResponse,
  ): ContextAnswer | Ending {
    const pool = this.deps.upstreams.context;
    const { status } = reply;
    if (status >= 400 && status < 500) {
      // A worker 4xx is the client's problem: relayed (in the OpenAI shape), not retried, not a worker failure.
      pool.reportSuccess(worker);
      return this.workerErrorEnding(reply);
    }
    if (status !== 200) return this.badStatus('context', worker, status);
    const answer = rawJsonOf(reply.body);
    const checked = answer ? checkContextResponseText(answer) : undefined;
    if (!answer || !checked?.ok) {
      const message =
        checked && !checked.ok ? checked.message : 'Context server returned a non-object response';
      pool.reportFailure(worker, 'invalid');
      this.deps.metrics.countUpstreamError('context_invalid');
      return Ending.error('upstream_error', 502, message);
    }
    pool.reportSuccess(worker);
    if (checked.value.promptTokens !== undefined) r.rec.promptTokens = checked.value.promptTokens;
    return { ctx: checked.value, answer, worker, metricsHeaders: workerMetricsHeaders(reply) };
  }

  /** The generation call's extra headers: the metrics opt-in, and the signature its params need (section 2). */
  private generationHeaders(
    r: ProxyRequest,
    ctx: ContextAnswer,
  ): Record<string, string> | undefined {
    const paramsText = ctx.ctx.genParamsText;
    const params = paramsText === undefined ? undefined : readParams(paramsText);
    const headers = {
      ...(r.wantsMetrics ? METRICS_OPT_IN : {}),
      ...internalAuthHeaders(this.deps.internalAuthKey, params),
    };
    return Object.keys(headers).length > 0 ? headers : undefined;
  }

  /**
   * The merged per-request metrics of a whole answer (upstream combine_disagg_metrics): the proxy's own
   * phase, then the context and generation workers' phases renamed `ctx` / `gen`.
   */
  private mergedMetrics(
    r: ProxyRequest,
    ctx: ContextAnswer | undefined,
    gen: MetricsHeaders | undefined,
    firstTokenS: number,
  ): Record<string, string> {
    const ctxDispatchS =
      r.rec.ctxSentAt === undefined
        ? null
        : r.arrivalS + (r.rec.ctxSentAt - r.rec.receivedAt) / 1000;
    const phases = [
      disaggPhase({
        arrivalSec: r.arrivalS,
        ctxDispatchSec: ctxDispatchS,
        firstTokenSec: firstTokenS,
        lastTokenSec: steadySeconds(),
      }),
    ];
    const ctxPhase = ctx?.metricsHeaders
      ? phaseFromWorkerHeaders(ctx.metricsHeaders, 'ctx')
      : undefined;
    const genPhase = gen ? phaseFromWorkerHeaders(gen, 'gen') : undefined;
    if (ctxPhase) phases.push(ctxPhase);
    if (genPhase) phases.push(genPhase);
    return limitMetricsHeaders(buildMetricsHeaders(phases));
  }

  /** `ending` with the merged metrics headers added, when the client asked and the answer is a whole body. */
  private withMetrics(
    r: ProxyRequest,
    ending: Ending,
    ctx: ContextAnswer | undefined,
    gen: MetricsHeaders | undefined,
    firstTokenS: number,
  ): Ending {
    if (!r.wantsMetrics || ending.reply.kind !== 'body' || ending.status !== 200) return ending;
    const headers = this.mergedMetrics(r, ctx, gen, firstTokenS);
    return new Ending(ending.outcome, ending.status, { ...ending.reply, headers }, ending.note);
  }

  /** 5.5: the context phase finished the request; its answer (without the disaggregated params) is the answer. */
  private contextOnlyEnding(r: ProxyRequest, ctx: ContextAnswer): Ending {
    r.rec.tokenTimes.push(epochNow());
    const body = r.isStream ? 'data: [DONE]\n\n' : finishedContextBytes(ctx.answer);
    const contentType = r.isStream ? 'text/event-stream' : 'application/json';
    const ending = new Ending('ok_context_only', 200, {
      kind: 'body',
      status: 200,
      contentType,
      body,
    });
    return this.withMetrics(r, ending, ctx, undefined, steadySeconds());
  }

  // ---------------------------------------------------------------- generation phase

  /** The generation call with retries while nothing reached the client, then the answer or the stream (items 1, 2, 5, 18). */
  private async generate(
    r: ProxyRequest,
    route: RouteRequest,
    payload: Payload,
    reserved: Lease | undefined,
    ctx?: ContextAnswer,
    headers?: Readonly<Record<string, string>>,
  ): Promise<Ending> {
    const limits = this.deps.limits;
    const optIn = r.wantsMetrics && !ctx ? METRICS_OPT_IN : undefined;
    const call = {
      request: r,
      route,
      path: UPSTREAM_PATH[r.endpoint],
      payload,
      reserved,
      headers: headers ?? optIn,
    };
    if (!r.isStream) {
      const got = await callWithRetry(this.callDeps, {
        ...call,
        timeoutMs: limits.requestTimeoutMs,
        spec: GENERATION_WHOLE,
      });
      if (got instanceof Ending) return got;
      got.lease.release();
      r.rec.firstByteAt = epochNow();
      const firstTokenS = steadySeconds();
      const ending = this.wholeGenerationEnding(r, got.lease.worker, got.value);
      if (ending.outcome === 'ok') this.addPerf(r, ctx, got.lease.worker, firstTokenS);
      return this.withMetrics(r, ending, ctx, workerMetricsHeaders(got.value), firstTokenS);
    }
    const got = await callWithRetry(this.callDeps, {
      ...call,
      timeoutMs: limits.firstByteTimeoutMs,
      spec: GENERATION_STREAM,
    });
    if (got instanceof Ending) return got;
    try {
      r.rec.firstByteAt = epochNow();
      if (got.value.status !== 200) return await this.streamErrorEnding(r, got);
      r.current = got.call;
      if (r.wantsMetrics) {
        r.streamMetricsTail = (gen) =>
          metricsSseEvent(this.mergedMetrics(r, ctx, gen, this.firstTokenSeconds(r)));
      }
      const ending = await relayStream(this.relayDeps, r, got.lease.worker, got.value, got.call);
      if (ending.outcome === 'ok') {
        this.addPerf(r, ctx, got.lease.worker, this.firstTokenSeconds(r));
      }
      return ending;
    } finally {
      r.current = undefined;
      got.lease.release();
    }
  }

  /** A whole generation answer: 2xx relayed as bytes, 4xx relayed in the OpenAI shape, anything else a 502. */
  private wholeGenerationEnding(
    r: ProxyRequest,
    worker: WorkerEndpoint,
    answer: WholeResponse,
  ): Ending {
    const pool = this.deps.upstreams.generation;
    const { status, body } = answer;
    if (status >= 500 || status < 200 || (status >= 300 && status < 400)) {
      return this.badStatus('generation', worker, status);
    }
    pool.reportSuccess(worker);
    if (status !== 200) return this.workerErrorEnding(answer);
    const i = body.lastIndexOf('"completion_tokens"');
    if (i >= 0) {
      const m = /^"completion_tokens"\s*:\s*(\d+)/.exec(body.toString('latin1', i, i + 40));
      if (m) r.rec.completionTokens = Number(m[1]);
    }
    r.rec.tokenTimes.push(epochNow());
    return new Ending('ok', 200, { kind: 'body', status, contentType: answer.contentType, body });
  }

  /** A streaming request answered with an error body (e.g. a 400 JSON): relayed, never an empty 200 stream. */
  private async streamErrorEnding(
    r: ProxyRequest,
    got: Answered<StreamCall, StreamHead>,
  ): Promise<Ending> {
    r.current = got.call;
    try {
      const body = await got.call.readRest(this.deps.limits.requestTimeoutMs);
      return this.wholeGenerationEnding(r, got.lease.worker, {
        status: got.value.status,
        contentType: got.value.contentType,
        body,
      });
    } catch {
      if (r.isCancelled) return r.cancelEnding();
      this.deps.upstreams.generation.reportFailure(got.lease.worker, 'truncated');
      return Ending.error(
        'upstream_error',
        502,
        'Generation server failed while answering',
        'generation error body failed',
      );
    }
  }

  /** A worker answered with a status no client should see (5xx, or not 200 from a context worker): a 502, counted against it. */
  private badStatus(
    role: 'context' | 'generation',
    worker: WorkerEndpoint,
    status: number,
  ): Ending {
    this.deps.upstreams[role].reportFailure(worker, 'status');
    this.deps.metrics.countUpstreamError(role === 'context' ? 'context_5xx' : 'generation_5xx');
    const server = role === 'context' ? 'Context' : 'Generation';
    return Ending.error(
      'upstream_error',
      502,
      `${server} server returned HTTP ${status}`,
      `${role} status ${status}`,
    );
  }

  /** A worker's 4xx answer, relayed with its status in the OpenAI error shape. */
  private workerErrorEnding(reply: WholeResponse): Ending {
    return new Ending('client_error', reply.status, {
      kind: 'body',
      status: reply.status,
      contentType: 'application/json',
      body: workerErrorBody(reply.body, reply.status),
    });
  }

  private firstTokenSeconds(r: ProxyRequest): number {
    const first = r.rec.tokenTimes[0];
    return first === undefined ? steadySeconds() : r.arrivalS + (first - r.rec.receivedAt) / 1000;
  }

  private addPerf(
    r: ProxyRequest,
    ctx: ContextAnswer | undefined,
    genWorker: WorkerEndpoint,
    firstTokenS: number,
  ): void {
    if (ctx) {
      this.deps.upstreams.perf.add(
        ctx.worker.url,
        genWorker.url,
        ctx.ctx.params.ctx_request_id,
        r.arrivalS,
        firstTokenS,
      );
    }
  }
}

/** A worker answer's metric headers under upstream's names (request-metrics.ts), or undefined. */
function workerMetricsHeaders(reply: WholeResponse): MetricsHeaders | undefined {
  if (!reply.metricsHeaders) return undefined;
  const headers = metricsHeadersOf((name) => reply.metricsHeaders?.[name]);
  return Object.keys(headers).length > 0 ? headers : undefined;
}
