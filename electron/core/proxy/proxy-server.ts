// The disaggregated proxy's HTTP server, a drop-in for `trtllm-serve disaggregated`: the assembly of
// its parts (issue #14). Listener (socket, header timeout, per-client connection cap) -> endpoints
// (the router) -> the inference request lifecycle (body bounds, validation, admission, context and
// generation calls with retries, streaming, one finish per request) over the upstream worker pools,
// with metrics and request records beside them. Layer: core.
import type { TrtllmVersion } from '../../../shared/logic/trtllm-dialect';
import { AdmissionController } from './admission';
import { createApiKeyCheck } from './api-key';
import { sharedDeadlines } from './deadline-sweep';
import { ProxyEndpoints } from './endpoints';
import { ProxyListener } from './listener';
import { type LoopSampler, startLoopShedding } from './loop-pressure';
import { ProxyMetrics } from './metrics';
import type { ProxyServerOptions } from './proxy-options';
import { createProxyLog, requestRulesOf, resolveLimits } from './proxy-options';
import { InferenceHandler, type LifecycleDeps } from './request-lifecycle';
import { RequestRecords } from './request-records';
import type { MembershipUpdate, ProxyRequestRecord, RoutingUpdate } from './types';
import { Upstreams } from './upstreams';
import type { WorkerSnapshot } from './worker-pool';

export { DISAGG_HEADER } from './client-reply';
export { PROXY_VERSION } from './endpoints';
export type { ProxyServerOptions } from './proxy-options';

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
  /** The workers' release changed: requests from now on are checked, signed and measured in its dialect. */
  setTrtllmVersion(version: TrtllmVersion): void;
  /** Subscribes to batches of request records; returns the unsubscribe function. */
  onRecords(cb: (records: ProxyRequestRecord[]) => void): () => void;
  isReady(): boolean;
  /** Ends the startup gate of `isStartingGated`. */
  markStarted(): void;
  workers(): WorkerSnapshot[];
  metricsText(): string;
  readonly port: number;
}

export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const limits = resolveLimits(options);
  const log = createProxyLog(options);
  const isAuthorized = createApiKeyCheck(options.apiKey);
  const metrics = new ProxyMetrics();
  const upstreams = new Upstreams(options, limits, log);
  const admission = new AdmissionController(limits);
  const records = new RequestRecords(metrics, limits.recordBatchMs, log);
  const requestRules = requestRulesOf(options);
  const inferenceDeps: LifecycleDeps = {
    limits,
    upstreams,
    admission,
    records,
    metrics,
    log,
    isAuthorized,
    sweep: sharedDeadlines,
    isGenOnlyBenchmark: options.isGenOnlyBenchmark === true,
    conditionalMaxLocalPrefillLength: options.conditionalMaxLocalPrefillLength,
    requestRules,
    internalAuthKey: options.internalRequestAuthKey,
    // Per-request metrics exist from 1.3 on; an older release's workers would not answer the opt-in.
    returnPerfMetrics: options.returnPerfMetrics === true && requestRules.dialect.hasRequestMetrics,
  };
  const inference = new InferenceHandler(inferenceDeps);
  let loopSampler: LoopSampler | undefined;
  const metricsText = (): string =>
    metrics.render(
      upstreams.snapshot(),
      inference.inFlight.size,
      upstreams.readiness().ready,
      admission.snapshot(),
    );
  const endpoints = new ProxyEndpoints({
    upstreams,
    isAuthorized,
    log,
    metricsText,
    options,
    infer: (req, res, e) => inference.handle(req, res, e),
  });
  const listener = new ProxyListener(
    {
      host: options.host,
      port: options.port,
      headersTimeoutMs: limits.headersTimeoutMs,
      requestTimeoutMs: limits.headersTimeoutMs + limits.bodyTimeoutMs + 5_000,
      maxConnectionsPerClient: limits.maxConnectionsPerClient,
      log,
    },
    (req, res) => endpoints.handle(req, res),
  );

  /** After the server closed: the pools' sockets and probes, pending records. */
  const releaseResources = (): void => {
    loopSampler?.stop();
    upstreams.close();
    records.close();
    metrics.runtime.stop();
  };

  return {
    get port() {
      return listener.port;
    },
    async listen(): Promise<number> {
      const port = await listener.listen();
      upstreams.start();
      metrics.runtime.start();
      loopSampler = startLoopShedding(limits, admission, () => inference.inFlight.size, log);
      return port;
    },
    async close(): Promise<void> {
      upstreams.stopPolling();
      const closed = listener.stopAccepting();
      await inference.cancelAll('shutdown');
      listener.closeAllConnections();
      await closed;
      releaseResources();
    },
    async drain(deadlineMs: number): Promise<void> {
      upstreams.isDraining = true;
      const closed = listener.stopAccepting();
      listener.closeIdleConnections();
      const until = Date.now() + deadlineMs;
      while (inference.inFlight.size > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
        listener.closeIdleConnections();
      }
      await inference.cancelAll('shutdown');
      listener.closeAllConnections();
      await closed;
      releaseResources();
    },
    updateMembership: (m) => upstreams.updateMembership(m),
    addWorker: (role, url) => upstreams.addWorker(role, url),
    removeWorker: (role, url) => upstreams.removeWorker(role, url),
    setRouting: (r) => upstreams.setRouting(r),
    setTrtllmVersion(version) {
      // The handler reads these per request: a request under way keeps the rules it was checked with.
      inferenceDeps.requestRules = requestRulesOf({ ...options, trtllmVersion: version });
      inferenceDeps.returnPerfMetrics =
        options.returnPerfMetrics === true && inferenceDeps.requestRules.dialect.hasRequestMetrics;
    },
    onRecords: (cb) => records.subscribe(cb),
    isReady: () => upstreams.readiness().ready,
    markStarted: () => upstreams.markStarted(),
    workers: () => upstreams.snapshot(),
    metricsText,
  };
}
