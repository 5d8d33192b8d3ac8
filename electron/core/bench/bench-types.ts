// Types of the load test (`disagg-console bench` and the console's sweeps): one sampled request, one
// request's measured outcome, the options of a run, and the result object whose field names are
// benchmark_serving's (trtllm-protocol.md 9.2) so existing scripts read our result files. The parts the
// console's channels carry (endpoint, SLOs, headline keys) are shared/model/bench.ts's. Layer: core (types).
import type { BenchEndpointPath, BenchResultFields, BenchSlos } from '../../../shared/model/bench';

/** The API a run targets: completions (benchmark_serving's `openai` backend) or chat (`openai-chat`). */
export type BenchEndpoint = BenchEndpointPath;

/** Request-level metrics that goodput SLOs can name (benchmark_serving `--goodput KEY:MS`). */
export type SloMetric = 'ttft' | 'tpot' | 'e2el';

/** Metrics that get mean/median/std/percentile keys (`--percentile-metrics`). */
export type PercentileMetric = 'ttft' | 'tpot' | 'itl' | 'e2el';

/** Goodput SLOs in milliseconds (one optional key per SloMetric); a request is good when it meets every one given. */
export type GoodputSlos = BenchSlos;

/** One request to send: a text prompt (or token ids), its length in tokens and the tokens to generate. */
export interface SampleRequest {
  prompt: string | number[];
  /** Prompt tokens as the dataset counts them (the sim tokenizer's count; exact for the simulated worker). */
  promptLen: number;
  outputLen: number;
}

/** What one request measured. Times in seconds, like benchmark_serving's RequestFuncOutput. */
export interface RequestOutput {
  isSuccess: boolean;
  /** Time to the first token (streaming) or to the whole answer (non-streaming), from the start time. */
  ttftS: number;
  /** Gaps between successive token events after the first. */
  itlS: number[];
  /** From the start time to the last token event (streaming) or the end of the answer. */
  latencyS: number;
  /** Completion tokens: the server's usage, else the number of token events (streaming) or 0. */
  outputTokens: number;
  /** Prompt tokens: the server's usage, else the dataset's count. */
  promptTokens: number;
  /** Empty when it succeeded. */
  error: string;
  /** Short class of the error for counting (`HTTP 503`, `ECONNREFUSED`, `timeout`, `stream cut`...). */
  errorKind: string;
  /**
   * Ms since the run began: when the request was due (its arrival time), when latency starts counting
   * (the due time, or when a concurrency slot freed) and when it was actually written to the socket.
   */
  scheduledMs: number;
  startMs: number;
  sentMs: number;
}

/** Cost and timeliness of the load generator itself (reported so a run can prove it measured the server). */
export interface GeneratorStats {
  /** CPU time of this process (user + system) over the run, ms. */
  cpu_ms: number;
  cpu_us_per_request: number;
  /** CPU per streamed token event received. */
  cpu_us_per_token: number;
  /** How late requests were written compared with when their latency started (timer and event-loop lag), ms. */
  mean_send_lag_ms: number;
  p99_send_lag_ms: number;
  max_send_lag_ms: number;
}

/** The result file: benchmark_serving's keys (plus a few of ours, named in the same style). */
export interface BenchResultCore extends BenchResultFields {
  backend: 'openai' | 'openai-chat';
  burstiness: number;
  /** Upstream writes this key with a stray colon; kept so scripts reading it keep working. */
  'request_goodput:': number | null;
  /** The SLOs goodput was measured against (ms), null without. */
  goodput: GoodputSlos | null;
  user_throughput: number;
  percentile_metrics: PercentileMetric[];
  metric_percentiles: number[];
  input_lens: number[];
  output_lens: number[];
  /** Seconds, one per request (0 for failed ones), like upstream. */
  ttfts: number[];
  itls: number[][];
  e2els: number[];
  errors: string[];
  generator: GeneratorStats;
}

/** The result with `mean_ttft_ms`, `median_tpot_ms`, `std_itl_ms`, `p99_e2el_ms`... for the selected metrics. */
export type BenchResult = BenchResultCore & { [key: `${string}_ms`]: number };
