// The disaggregated server's own Prometheus metrics under upstream's names, so a dashboard built for
// `trtllm-serve disaggregated` (`/prometheus/metrics`) reads this proxy too. Names, help texts and buckets
// are upstream's (tensorrt_llm/serve/perf_metrics.py: SERVER_METRICS_DEFINITIONS, CLIENT_METRICS_DEFINITIONS
// with the `ctx_` / `gen_` role prefix, SHORT_TIME_BUCKETS, LONG_TIME_BUCKETS). Upstream counts inside its
// request handlers; we derive the same events from a finished request record (`feedUpstreamMetrics`, the
// one mapping, written out in docs/dependencies.md). Counters render as prometheus_client does
// (`<name>_total` samples); the `_created` samples prometheus_client adds are left out. Layer: core.
import { Histogram } from '../../../shared/logic/histogram';
import type { ProxyRequestRecord } from './types';

/** perf_metrics.py SHORT_TIME_BUCKETS (first-token, per-token and queue latencies). */
export const UPSTREAM_SHORT_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
];
/** perf_metrics.py LONG_TIME_BUCKETS (complete latency). */
export const UPSTREAM_LONG_BUCKETS_SECONDS: readonly number[] = [
  0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
  240.0, 480.0, 960.0, 1920.0,
];

/** One metric as upstream defines it (MetricsDefinition), with the role prefix already applied. */
export interface UpstreamMetricDefinition {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  buckets?: readonly number[];
}

const counterDef = (name: string, help: string): UpstreamMetricDefinition => ({
  name,
  help,
  type: 'counter',
});
const histogramDef = (
  name: string,
  help: string,
  buckets: readonly number[],
): UpstreamMetricDefinition => ({ name, help, type: 'histogram', buckets });

/** Upstream's client metrics of one role (help texts as written there, imprecise ones included). */
function clientDefinitions(prefix: 'ctx_' | 'gen_'): UpstreamMetricDefinition[] {
  return [
    counterDef(`${prefix}total_requests`, 'Total number of requests'),
    counterDef(`${prefix}error_requests`, 'Total number of error requests'),
    counterDef(`${prefix}retry_requests`, 'Total number of retry requests'),
    counterDef(`${prefix}completed_requests`, 'Total number of completed requests'),
    histogramDef(
      `${prefix}first_token_latency_seconds`,
      'Histogram of latency from first token to completion in seconds',
      UPSTREAM_SHORT_BUCKETS_SECONDS,
    ),
    histogramDef(
      `${prefix}complete_latency_seconds`,
      'Histogram of latency from request arrival to last token in seconds',
      UPSTREAM_LONG_BUCKETS_SECONDS,
    ),
    histogramDef(
      `${prefix}per_token_latency_seconds`,
      'Histogram of latency from request arrival to completion in seconds',
      UPSTREAM_SHORT_BUCKETS_SECONDS,
    ),
  ];
}

/** Every upstream metric the proxy serves, in upstream's order: the server's, then ctx_, then gen_. */
export const UPSTREAM_METRICS: readonly UpstreamMetricDefinition[] = [
  counterDef('total_requests', 'Total number of requests'),
  counterDef('stream_requests', 'Total number of stream requests'),
  counterDef('nonstream_requests', 'Total number of non-stream requests'),
  counterDef('validation_exceptions', 'Total number of validation exceptions'),
  counterDef('http_exceptions', 'Total number of HTTP exceptions'),
  counterDef('internal_errors', 'Total number of internal errors'),
  counterDef('total_responses', 'Total number of responses'),
  histogramDef(
    'queue_latency_seconds',
    'Histogram of latency from request arrival to being processed in seconds',
    UPSTREAM_SHORT_BUCKETS_SECONDS,
  ),
  ...clientDefinitions('ctx_'),
  ...clientDefinitions('gen_'),
];

/** Where the mapping sends its events: our metrics below, or prom-client's in the test that holds us to it. */
export interface UpstreamMetricSink {
  inc(name: string): void;
  observe(name: string, seconds: number): void;
}

/**
 * A retry of the phase the record is in (upstream counts it on the role's client): the context phase until
 * the context answered or the generation request went out.
 */
export function feedUpstreamRetry(rec: ProxyRequestRecord, sink: UpstreamMetricSink): void {
  const isGeneration = rec.ctxAnsweredAt !== undefined || rec.genSentAt !== undefined;
  sink.inc(isGeneration ? 'gen_retry_requests' : 'ctx_retry_requests');
}

/** The events one finished request makes, where upstream's handlers would have counted them. */
export function feedUpstreamMetrics(rec: ProxyRequestRecord, sink: UpstreamMetricSink): void {
  // A body our validation refused (400) is upstream's RequestValidationError: counted only there.
  if (rec.outcome === 'client_error') return sink.inc('validation_exceptions');
  sink.inc('total_requests');
  sink.inc(rec.isStream ? 'stream_requests' : 'nonstream_requests');
  if (rec.status === 200) sink.inc('total_responses');
  // Refusals answered with a status (shed 429/503, not ready, timeout 504) are upstream's HTTPExceptions; a
  // failed worker (our 502) is its internal error (a worker's error is not an HTTPException there).
  if (rec.outcome === 'rejected' || rec.outcome === 'not_ready' || rec.outcome === 'timeout') {
    sink.inc('http_exceptions');
  } else if (rec.outcome === 'upstream_error') sink.inc('internal_errors');
  const begunAt = rec.ctxSentAt ?? rec.genSentAt;
  if (begunAt !== undefined) {
    sink.observe('queue_latency_seconds', (begunAt - rec.receivedAt) / 1000);
  }
  feedContext(rec, sink);
  feedGeneration(rec, sink);
}

function feedContext(rec: ProxyRequestRecord, sink: UpstreamMetricSink): void {
  const { ctxSentAt, ctxAnsweredAt } = rec;
  if (ctxSentAt === undefined) return;
  sink.inc('ctx_total_requests');
  sink.inc('ctx_completed_requests'); // upstream's _finish_request runs for failed requests too
  // The context call is never streamed: upstream observes only its complete latency.
  if (ctxAnsweredAt === undefined) sink.inc('ctx_error_requests');
  else sink.observe('ctx_complete_latency_seconds', (ctxAnsweredAt - ctxSentAt) / 1000);
}

function feedGeneration(rec: ProxyRequestRecord, sink: UpstreamMetricSink): void {
  const sentAt = rec.genSentAt;
  if (sentAt === undefined) return;
  sink.inc('gen_total_requests');
  sink.inc('gen_completed_requests');
  if (rec.outcome !== 'ok') return sink.inc('gen_error_requests');
  const t = rec.tokenTimes;
  if (rec.isStream && t.length > 0) {
    sink.observe('gen_first_token_latency_seconds', ((t[0] as number) - sentAt) / 1000);
    for (let i = 1; i < t.length; i++) {
      sink.observe(
        'gen_per_token_latency_seconds',
        ((t[i] as number) - (t[i - 1] as number)) / 1000,
      );
    }
  }
  sink.observe('gen_complete_latency_seconds', (rec.doneAt - sentAt) / 1000);
}

/** Our side: plain counters and the hand-written histograms (shared/logic/histogram.ts). */
export class UpstreamNamedMetrics implements UpstreamMetricSink {
  private readonly counters = new Map<string, number>();
  private readonly histograms = new Map<string, Histogram>();

  constructor() {
    for (const d of UPSTREAM_METRICS) {
      if (d.type === 'counter') this.counters.set(d.name, 0);
      else this.histograms.set(d.name, new Histogram(d.buckets));
    }
  }

  inc(name: string): void {
    this.counters.set(name, (this.counters.get(name) as number) + 1);
  }

  observe(name: string, seconds: number): void {
    (this.histograms.get(name) as Histogram).observe(seconds);
  }

  /** Prometheus text lines, as prometheus_client writes them (counters as `<name>_total`). */
  render(): string[] {
    const out: string[] = [];
    for (const d of UPSTREAM_METRICS) {
      if (d.type === 'counter') {
        const n = `${d.name}_total`;
        out.push(
          `# HELP ${n} ${d.help}`,
          `# TYPE ${n} counter`,
          `${n} ${this.counters.get(d.name)}`,
        );
      } else {
        out.push(`# HELP ${d.name} ${d.help}`, `# TYPE ${d.name} histogram`);
        out.push(...(this.histograms.get(d.name) as Histogram).render(d.name));
      }
    }
    return out;
  }
}
