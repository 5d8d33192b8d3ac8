// Prometheus text for the proxy's /metrics: requests by outcome, TTFT, TPOT, inter-token and
// end-to-end histograms, per-worker in-flight and errors, retries, ejections, and the proxy's own
// added latency (`disagg_proxy_*`, ours), followed by the disaggregated server's own metrics under
// upstream's names (upstream-metrics.ts; upstream serves them on /prometheus/metrics, and so do we).
// Hand-written rather than prom-client: measured in docs/dependencies.md, held to prom-client's output by
// tests/unit/core/proxy/metrics-prom-client.test.ts. Layer: core.
import {
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  OVERHEAD_BUCKETS_SECONDS,
} from '../../../shared/logic/histogram';
import type { AdmissionSnapshot, ShedReason } from './admission';
import { RuntimeDiagnostics } from './runtime-diagnostics';
import type { ProxyRequestRecord, RecordOutcome } from './types';
import { feedUpstreamMetrics, feedUpstreamRetry, UpstreamNamedMetrics } from './upstream-metrics';
import { type PoolWaitStats, poolWaitStats } from './upstream-pool';
import type { WorkerSnapshot } from './worker-pool';

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export class ProxyMetrics {
  readonly requestsByOutcome = new Map<RecordOutcome, number>();
  retries = 0;
  /** Requests refused by admission control, by reason (queue_full: 429; overloaded, queue_timeout: 503). */
  readonly shedByReason = new Map<ShedReason, number>();
  upstreamErrorsByClass = new Map<string, number>();
  readonly ttft = new Histogram(LATENCY_BUCKETS_SECONDS);
  readonly tpot = new Histogram(LATENCY_BUCKETS_SECONDS);
  readonly itl = new Histogram(LATENCY_BUCKETS_SECONDS);
  readonly e2e = new Histogram(LATENCY_BUCKETS_SECONDS);
  readonly overhead = new Histogram(OVERHEAD_BUCKETS_SECONDS);
  /** Upstream's disaggregated-server metrics (perf_metrics.py names). */
  readonly upstream = new UpstreamNamedMetrics();
  /** Time an admitted request waited for its slot (0 when it got one at once). */
  readonly admissionWait = new Histogram(LATENCY_BUCKETS_SECONDS);
  /** Event-loop delay and GC pauses of this thread (started and stopped with the server). */
  readonly runtime = new RuntimeDiagnostics();

  /** `pools`: where the upstream pools report connection waits (this thread's, unless a test's own). */
  constructor(private readonly pools: PoolWaitStats = poolWaitStats) {}

  /** A retry on another worker: ours and upstream's per-role counter. */
  countRetry(rec: ProxyRequestRecord): void {
    this.retries++;
    feedUpstreamRetry(rec, this.upstream);
  }

  /** A finished request under upstream's metrics (every outcome; ours count it in countOutcome). */
  observeUpstream(rec: ProxyRequestRecord): void {
    feedUpstreamMetrics(rec, this.upstream);
  }

  countOutcome(o: RecordOutcome): void {
    increment(this.requestsByOutcome, o);
  }

  countShed(reason: ShedReason): void {
    increment(this.shedByReason, reason);
  }

  countUpstreamError(cls: string): void {
    increment(this.upstreamErrorsByClass, cls);
  }

  render(
    workers: WorkerSnapshot[],
    inFlight: number,
    isReady: boolean,
    admission: AdmissionSnapshot,
  ): string {
    const out: string[] = [];
    const p = 'disagg_proxy_';
    out.push(`# HELP ${p}requests_total Requests by outcome.`, `# TYPE ${p}requests_total counter`);
    for (const [o, n] of this.requestsByOutcome) {
      out.push(`${p}requests_total{outcome="${o}"} ${n}`);
    }
    out.push(
      `# HELP ${p}retries_total Upstream attempts retried on another worker.`,
      `# TYPE ${p}retries_total counter`,
    );
    out.push(`${p}retries_total ${this.retries}`);
    out.push(
      `# HELP ${p}shed_total Requests refused by admission control, by reason (queue_full 429; overloaded, queue_timeout 503).`,
      `# TYPE ${p}shed_total counter`,
    );
    for (const [r, n] of this.shedByReason) out.push(`${p}shed_total{reason="${r}"} ${n}`);
    out.push(
      `# HELP ${p}upstream_errors_total Upstream failures by class.`,
      `# TYPE ${p}upstream_errors_total counter`,
    );
    for (const [c, n] of this.upstreamErrorsByClass) {
      out.push(`${p}upstream_errors_total{class="${c}"} ${n}`);
    }
    out.push(
      `# HELP ${p}in_flight Requests being served.`,
      `# TYPE ${p}in_flight gauge`,
      `${p}in_flight ${inFlight}`,
    );
    out.push(
      `# HELP ${p}admission_active Requests holding an admission slot.`,
      `# TYPE ${p}admission_active gauge`,
      `${p}admission_active ${admission.active}`,
    );
    out.push(
      `# HELP ${p}admission_limit Concurrency limit (--max-concurrency).`,
      `# TYPE ${p}admission_limit gauge`,
      `${p}admission_limit ${admission.limit}`,
    );
    out.push(
      `# HELP ${p}admission_queued Requests waiting for a slot.`,
      `# TYPE ${p}admission_queued gauge`,
      `${p}admission_queued ${admission.queued}`,
    );
    out.push(
      `# HELP ${p}admission_overloaded 1 while the queue stands above its target (arrivals beyond it are shed).`,
      `# TYPE ${p}admission_overloaded gauge`,
      `${p}admission_overloaded ${admission.isOverloaded ? 1 : 0}`,
    );
    out.push(
      `# HELP ${p}ready 1 when the proxy is ready.`,
      `# TYPE ${p}ready gauge`,
      `${p}ready ${isReady ? 1 : 0}`,
    );
    const hist = (name: string, help: string, h: Histogram): void => {
      out.push(`# HELP ${p}${name} ${help}`, `# TYPE ${p}${name} histogram`, ...h.render(p + name));
    };
    hist(
      'time_to_first_token_seconds',
      'Time from request received to first token sent.',
      this.ttft,
    );
    hist('time_per_output_token_seconds', 'Mean time per output token after the first.', this.tpot);
    hist('inter_token_latency_seconds', 'Gap between consecutive streamed events.', this.itl);
    hist('e2e_request_latency_seconds', 'End-to-end request latency.', this.e2e);
    hist(
      'admission_wait_seconds',
      'Time an admitted request waited in the admission queue for a slot (0: admitted at once).',
      this.admissionWait,
    );
    hist(
      'upstream_pool_wait_seconds',
      'Time an upstream call waited for a connection (queued at the socket limit, or a new connection connecting; 0: an idle keep-alive one), all workers of this thread.',
      this.pools.wait,
    );
    out.push(
      `# HELP ${p}upstream_connections_opened_total Upstream connections opened, all workers of this thread.`,
      `# TYPE ${p}upstream_connections_opened_total counter`,
      `${p}upstream_connections_opened_total ${this.pools.opened}`,
    );
    out.push(...this.runtime.render(p));
    hist(
      'added_latency_seconds',
      "The proxy's own time before forwarding each phase.",
      this.overhead,
    );
    const w = (
      name: string,
      help: string,
      type: string,
      pick: (s: WorkerSnapshot) => number,
    ): void => {
      out.push(`# HELP ${p}worker_${name} ${help}`, `# TYPE ${p}worker_${name} ${type}`);
      for (const s of workers) {
        out.push(`${p}worker_${name}{role="${s.role}",worker="${s.url}"} ${pick(s)}`);
      }
    };
    w('in_flight', 'Requests in flight per worker.', 'gauge', (s) => s.inFlight);
    w('requests_total', 'Requests sent per worker.', 'counter', (s) => s.requests);
    w('errors_total', 'Failures per worker.', 'counter', (s) => s.errors);
    w('ejections_total', 'Passive ejections per worker.', 'counter', (s) => s.ejections);
    w('ejected', '1 while the worker is ejected.', 'gauge', (s) => (s.isEjected ? 1 : 0));
    out.push(...this.upstream.render());
    return out.join('\n') + '\n';
  }
}
