// The simulated worker's `/prometheus/metrics` (releases 1.1+, with `return_perf_metrics: true`): a subset of
// upstream's MetricsCollector (tensorrt_llm/metrics/collector.py; docs/upstream-versions.md section 4) with
// upstream's names, help texts, label names and default buckets, exposed through prom-client so the text is
// real Prometheus exposition. Layer: electron/sim (plain Node).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
  480.0, 960.0, 1920.0, 7680.0,
];
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
];
const TPOT_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0,
];

/** One finished request, in seconds. */
export interface FinishedRequest {
  finishReason: string;
  e2eSec: number;
  ttftSec: number;
  /** null for single-token answers (no inter-token time). */
  tpotSec: number | null;
  promptTokens: number;
  generationTokens: number;
}

/** The worker's metric families on a registry of its own (never prom-client's global one). */
export class SimPrometheus {
  private readonly registry = new Registry();
  private readonly labels: { model_name: string; engine_type: string };
  private readonly success: Counter<'model_name' | 'engine_type' | 'finished_reason'>;
  private readonly e2e: Histogram<'model_name' | 'engine_type'>;
  private readonly ttft: Histogram<'model_name' | 'engine_type'>;
  private readonly tpot: Histogram<'model_name' | 'engine_type'>;
  private readonly promptTokens: Counter<'model_name' | 'engine_type'>;
  private readonly generationTokens: Counter<'model_name' | 'engine_type'>;
  private readonly running: Gauge<'model_name' | 'engine_type'>;
  private readonly waiting: Gauge<'model_name' | 'engine_type'>;
  private readonly kvUtilization: Gauge<'model_name' | 'engine_type'>;

  constructor(modelName: string) {
    this.labels = { model_name: modelName, engine_type: 'trtllm' };
    const registers = [this.registry];
    const labelNames = ['model_name', 'engine_type'] as const;
    this.success = new Counter({
      name: 'trtllm_request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: [...labelNames, 'finished_reason'],
      registers,
    });
    this.e2e = new Histogram({
      name: 'trtllm_e2e_request_latency_seconds',
      help: 'Histogram of end to end request latency in seconds.',
      buckets: E2E_BUCKETS,
      labelNames,
      registers,
    });
    this.ttft = new Histogram({
      name: 'trtllm_time_to_first_token_seconds',
      help: 'Histogram of time to first token in seconds.',
      buckets: TTFT_BUCKETS,
      labelNames,
      registers,
    });
    this.tpot = new Histogram({
      name: 'trtllm_time_per_output_token_seconds',
      help: 'Histogram of time per output token in seconds.',
      buckets: TPOT_BUCKETS,
      labelNames,
      registers,
    });
    this.promptTokens = new Counter({
      name: 'trtllm_prompt_tokens_total',
      help: 'Cumulative number of prompt (input) tokens processed.',
      labelNames,
      registers,
    });
    this.generationTokens = new Counter({
      name: 'trtllm_generation_tokens_total',
      help: 'Cumulative number of generation (output) tokens produced.',
      labelNames,
      registers,
    });
    this.running = new Gauge({
      name: 'trtllm_num_requests_running',
      help: 'Number of active requests',
      labelNames,
      registers,
    });
    this.waiting = new Gauge({
      name: 'trtllm_num_requests_waiting',
      help: 'Number of queued requests',
      labelNames,
      registers,
    });
    this.kvUtilization = new Gauge({
      name: 'trtllm_kv_cache_utilization',
      help: 'KV cache utilization',
      labelNames,
      registers,
    });
  }

  recordFinished(r: FinishedRequest): void {
    this.success.inc({ ...this.labels, finished_reason: r.finishReason });
    this.e2e.observe(this.labels, r.e2eSec);
    this.ttft.observe(this.labels, r.ttftSec);
    if (r.tpotSec !== null) this.tpot.observe(this.labels, r.tpotSec);
    this.promptTokens.inc(this.labels, r.promptTokens);
    this.generationTokens.inc(this.labels, r.generationTokens);
  }

  /** Scheduler gauges, refreshed from the engine before each scrape. */
  setLoad(running: number, waiting: number, kvUtilization: number): void {
    this.running.set(this.labels, running);
    this.waiting.set(this.labels, waiting);
    this.kvUtilization.set(this.labels, kvUtilization);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
