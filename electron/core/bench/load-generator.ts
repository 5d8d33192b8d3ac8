// The load generator: sends a list of requests either in a closed loop (at most `maxConcurrency` in
// flight, the next one as soon as one ends) or in an open loop (Poisson or gamma arrivals at
// `requestRate`, optionally capped by `maxConcurrency`, as benchmark_serving combines them). In the open
// loop latency is counted from each request's scheduled time, so a late send (timer or event-loop lag)
// is charged to the request instead of hidden: no coordinated omission. When a concurrency cap makes a
// request wait for a slot, the wait is the client's (upstream's semantics) and counting starts when the
// slot frees. The generator measures its own CPU and send lag. Layer: core.
import http from 'node:http';

import { percentile } from './bench-stats';
import type { BenchEndpoint, GeneratorStats, RequestOutput, SampleRequest } from './bench-types';
import { arrivalTimesS, createRandom } from './random-dataset';
import { endpointUrl, requestBody, type RequestTarget, sendRequest } from './request-sender';

export interface LoadOptions {
  /** Base URL(s) (`http://host:port`); several are used round-robin (the planner's aggregated layout). */
  baseUrls: string[];
  endpoint: BenchEndpoint;
  model: string;
  requests: SampleRequest[];
  isStreaming: boolean;
  shouldIgnoreEos: boolean;
  /** Requests per second; Infinity sends everything at once (bounded by maxConcurrency). */
  requestRate: number;
  /** 1 = Poisson; other values give gamma-distributed gaps (benchmark_serving's --burstiness). */
  burstiness?: number;
  maxConcurrency: number | null;
  seed?: number;
  apiKey?: string;
  extraBody?: Record<string, unknown>;
  /** Bound for one request, whole stream included (default 10 minutes). */
  requestTimeoutMs?: number;
  /** Stop issuing new requests after this long (the rest are not sent); in-flight ones finish. */
  maxDurationMs?: number;
  signal?: AbortSignal;
  /** Called after every finished request. */
  onProgress?: (p: LoadProgress) => void;
}

export interface LoadProgress {
  done: number;
  failed: number;
  total: number;
  elapsedMs: number;
}

export interface LoadRun {
  /** One per request that was issued, in issue order. */
  outputs: RequestOutput[];
  /** The requests that were issued (a prefix of the input when maxDurationMs stopped early). */
  issued: SampleRequest[];
  durationS: number;
  generator: GeneratorStats;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;

/** Runs the load and resolves when every issued request has finished (or failed). */
export async function runLoad(o: LoadOptions): Promise<LoadRun> {
  if (o.baseUrls.length === 0) throw new Error('runLoad: no base URL');
  if (o.maxConcurrency !== null && !(Number.isInteger(o.maxConcurrency) && o.maxConcurrency >= 1)) {
    throw new RangeError(`max concurrency must be a positive integer, got ${o.maxConcurrency}`);
  }
  if (!(o.requestRate > 0)) {
    throw new RangeError(`request rate must be positive or Infinity, got ${o.requestRate}`);
  }
  const burstiness = o.burstiness ?? 1;
  const isOpenLoop = Number.isFinite(o.requestRate);
  const cap = o.maxConcurrency ?? Infinity;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 });
  const targets: RequestTarget[] = o.baseUrls.map((base) => ({
    url: endpointUrl(base, o.endpoint),
    endpoint: o.endpoint,
    model: o.model,
    agent,
    isStreaming: o.isStreaming,
    shouldIgnoreEos: o.shouldIgnoreEos,
    apiKey: o.apiKey,
    extraBody: o.extraBody,
    timeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  }));
  const n = o.requests.length;
  const dueMs = arrivalTimesS(n, o.requestRate, burstiness, createRandom(o.seed ?? 0)).map(
    (s) => s * 1000,
  );
  // Bodies are built before the clock starts so serialising them is not part of the measured window.
  const bodies = o.requests.map((r, i) =>
    requestBody(targets[i % targets.length] as RequestTarget, r),
  );

  const outputs: RequestOutput[] = [];
  const waiting: number[] = [];
  let inFlight = 0;
  let next = 0;
  let done = 0;
  let failed = 0;
  let isStopped = false;
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();

  return new Promise<LoadRun>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let isFinished = false;
    const finishRun = (): void => {
      if (isFinished) return;
      isFinished = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      const durationS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      agent.destroy();
      const issued = o.requests.slice(0, outputs.length);
      resolve({
        outputs,
        issued,
        durationS,
        generator: generatorStats(outputs, (cpu.user + cpu.system) / 1000),
      });
    };
    const onAbort = (): void => {
      isStopped = true;
      waiting.length = 0;
      if (inFlight === 0) finishRun();
    };
    o.signal?.addEventListener('abort', onAbort);

    const start = (i: number, startMs: number): void => {
      inFlight += 1;
      const target = targets[i % targets.length] as RequestTarget;
      const sample = o.requests[i] as SampleRequest;
      const scheduledMs = dueMs[i] ?? 0;
      void sendRequest(target, sample, bodies[i] ?? '', startMs, scheduledMs, o.signal).then(
        (out) => {
          out.sentMs -= t0;
          out.startMs -= t0;
          outputs[i] = out;
          inFlight -= 1;
          done += 1;
          if (!out.isSuccess) failed += 1;
          o.onProgress?.({ done, failed, total: n, elapsedMs: performance.now() - t0 });
          const queued = waiting.shift();
          if (queued !== undefined && !isStopped) start(queued, performance.now());
          if (inFlight === 0 && waiting.length === 0 && (next >= n || isStopped)) finishRun();
        },
      );
    };

    // Issues every request that is due; re-arms a timer for the next one.
    const pump = (): void => {
      timer = undefined;
      if (isStopped) return;
      const now = performance.now() - t0;
      if (o.maxDurationMs !== undefined && now >= o.maxDurationMs) {
        isStopped = true;
        waiting.length = 0;
        if (inFlight === 0) finishRun();
        return;
      }
      while (next < n && (dueMs[next] ?? 0) <= now) {
        const i = next;
        next += 1;
        if (inFlight < cap) start(i, t0 + (isOpenLoop ? (dueMs[i] ?? 0) : 0));
        else waiting.push(i);
      }
      if (next < n) {
        const wait = Math.max(0, (dueMs[next] ?? 0) - (performance.now() - t0));
        const untilStop =
          o.maxDurationMs !== undefined ? Math.max(0, o.maxDurationMs - now) : Infinity;
        timer = setTimeout(pump, Math.min(wait, untilStop));
      } else if (o.maxDurationMs !== undefined && inFlight > 0) {
        // Everything is issued; waiting requests still obey the deadline.
        timer = setTimeout(pump, Math.max(0, o.maxDurationMs - now));
      }
      if (inFlight === 0 && waiting.length === 0 && next >= n) finishRun();
    };
    if (n === 0) {
      finishRun();
      return;
    }
    pump();
  });
}

function generatorStats(outputs: RequestOutput[], cpuMs: number): GeneratorStats {
  const lags: number[] = [];
  let tokenEvents = 0;
  for (const out of outputs) {
    if (out.sentMs > 0) lags.push(Math.max(0, out.sentMs - out.startMs));
    tokenEvents += out.isSuccess ? out.itlS.length + 1 : 0;
  }
  const count = outputs.length;
  return {
    cpu_ms: cpuMs,
    cpu_us_per_request: count > 0 ? (cpuMs * 1000) / count : 0,
    cpu_us_per_token: tokenEvents > 0 ? (cpuMs * 1000) / tokenEvents : 0,
    mean_send_lag_ms: lags.length > 0 ? lags.reduce((a, b) => a + b, 0) / lags.length : 0,
    p99_send_lag_ms: percentile(lags, 99),
    max_send_lag_ms: lags.length > 0 ? Math.max(...lags) : 0,
  };
}
