// JSON-safe payloads of the load-test (`bench:*`) and what-if planner (`planner:*`) channels (features B1, B2):
// run requests, progress events, saved runs with benchmark_serving's result keys, comparisons, calibration,
// predictions and the planner's check against a fresh load test. Layer: shared (pure types).

import type { GpuProfile } from '../logic/gpu-profiles';

/** The API a run targets (benchmark_serving's `openai` and `openai-chat` backends). */
export type BenchEndpointPath = '/v1/completions' | '/v1/chat/completions';

/** Goodput SLOs in milliseconds (benchmark_serving `--goodput ttft:MS tpot:MS e2el:MS`). */
export interface BenchSlos {
  ttft?: number;
  tpot?: number;
  e2el?: number;
}

/** One load test from the console: random prompts of fixed lengths, or the text of a dataset file. */
export interface BenchRunRequest {
  /** Default: the console's proxy (the current topology). */
  baseUrl?: string;
  endpoint: BenchEndpointPath;
  /** Default: the first local worker's model. */
  model?: string;
  isStreaming: boolean;
  inputLen: number;
  outputLen: number;
  numPrompts: number;
  /** A dataset file's text (JSONL / ShareGPT / prompt lines); when given, inputLen is what the file holds. */
  datasetText?: string;
  /** Requests per second (Poisson); absent = all at once, bounded by maxConcurrency. */
  requestRate?: number;
  maxConcurrency?: number;
  shouldIgnoreEos?: boolean;
  slos?: BenchSlos;
  /** Name of the saved run (default: a label of the settings). */
  name?: string;
}

/** A sweep: one load test per step value (concurrency or request rate). */
export interface BenchSweepRequest extends BenchRunRequest {
  sweep: { kind: 'concurrency' | 'rate'; values: number[] };
}

/**
 * The headline keys of a result, with benchmark_serving's names (`completed`, `duration`,
 * `request_throughput`...): what the channels return of a step, and the part core's full result file
 * (electron/core/bench/bench-types.ts) shares with it.
 */
export interface BenchResultFields {
  date: string;
  model_id: string;
  base_url: string;
  endpoint: BenchEndpointPath;
  num_prompts: number;
  /** Requests per second, or "inf" (closed loop / all at once), as upstream writes it. */
  request_rate: number | 'inf';
  max_concurrency: number | null;
  streaming: boolean;
  duration: number;
  completed: number;
  failed: number;
  total_input_tokens: number;
  total_output_tokens: number;
  request_throughput: number;
  /** Good requests per second; null without SLOs. */
  request_goodput: number | null;
  output_throughput: number;
  total_token_throughput: number;
  /** Failed requests by kind. */
  error_counts: Record<string, number>;
}

/**
 * One step's result: the headline keys plus `mean_ttft_ms`, `p99_tpot_ms`... Per-request lists are left
 * out of what the channels return.
 */
export interface BenchResultView extends BenchResultFields {
  [key: `${string}_ms`]: number;
}

/** A step of a saved run: its sweep value (null for a single run) and result. */
export interface BenchSavedStep {
  step: { kind: 'concurrency' | 'rate'; value: number } | null;
  result: BenchResultView;
}

/** A saved run under <dataDir>/bench-runs. */
export interface BenchSavedRun {
  id: string;
  name: string;
  createdAtMs: number;
  topology: string | null;
  steps: BenchSavedStep[];
}

/** A line of the saved-runs list (core's RunStore.list returns these). */
export interface BenchRunSummary {
  id: string;
  name: string;
  createdAtMs: number;
  topology: string | null;
  stepCount: number;
  bestOutputThroughput: number;
}

/** One chart point per sweep step: latency percentiles against throughput. */
export interface BenchSweepPoint {
  kind: 'concurrency' | 'rate';
  /** The step's setting (concurrency or offered requests/s). */
  value: number;
  requestThroughput: number;
  outputThroughput: number;
  goodput: number | null;
  ttftP50Ms: number;
  ttftP99Ms: number;
  tpotP50Ms: number;
  tpotP99Ms: number;
  itlP99Ms: number;
  e2elP50Ms: number;
  e2elP99Ms: number;
  failed: number;
}

/** What bench:run and bench:sweep resolve with: the saved run and its chart points. */
export interface BenchRunOutcome {
  run: BenchSavedRun;
  points: BenchSweepPoint[];
  /** True when it was cancelled (the steps finished before the cancel are kept). */
  wasCancelled: boolean;
}

/** One row of two runs side by side (steps paired by value). */
export interface BenchComparisonRow {
  stepValue: number | null;
  metric: string;
  label: string;
  a: number | null;
  b: number | null;
  /** b - a, and relative to a (null when a is 0 or a value is missing). */
  delta: number | null;
  deltaPct: number | null;
  better: 'a' | 'b' | 'same' | null;
}

/** bench:progressed payload (a few per second at most). */
export interface BenchProgressedEvent {
  /** 0-based step of the sweep and how many there are (1 for a single run). */
  stepIndex: number;
  stepCount: number;
  stepValue: number | null;
  done: number;
  failed: number;
  total: number;
  elapsedMs: number;
  /** The last event of a run. */
  isFinished: boolean;
}

/** planner:calibrate request: which worker to measure (default: the first ready local generation worker). */
export interface PlannerCalibrateRequest {
  baseUrl?: string;
  model?: string;
  /** Short (default) keeps it to seconds; 'thorough' measures more lengths and batch sizes. */
  depth?: 'short' | 'thorough';
}

/** The fitted profile and how well it fits. */
export interface PlannerCalibration {
  model: string;
  baseUrl: string;
  gpu: GpuProfile;
  prefillTokensPerSec8B: number;
  memoryBandwidthGBps: number;
  prefillErrorPct: number;
  decodeErrorPct: number;
  notes: string[];
  prefill: { inputLen: number; ms: number }[];
  decode: { batchSize: number; contextTokens: number; stepMs: number }[];
  elapsedMs: number;
}

/** The workload to plan for. Exactly one of requestRate and maxConcurrency is usually set. */
export interface PlannerWorkload {
  inputLen: number;
  outputLen: number;
  /** Poisson arrivals per second (open loop). */
  requestRate?: number | null;
  /** Concurrent users (closed loop; also caps an open loop). */
  maxConcurrency?: number | null;
  slos: BenchSlos;
}

/** planner:predict request. */
export interface PlannerPredictRequest {
  workload: PlannerWorkload;
  gpus: number;
  /** Default: the last calibration's profile, else the simulated GPU of the settings. */
  gpu?: GpuProfile;
  model?: string;
  /** Load-test length per layout, seconds (default 5). */
  durationS?: number;
  maxLayouts?: number;
}

/** A layout: c context + g generation workers, or g aggregated workers (one GPU each, tensor parallelism 1). */
export interface PlannerLayout {
  kind: 'disaggregated' | 'aggregated';
  /** Disaggregated: context and generation workers. Aggregated: `generationWorkers` plain workers, 0 context. */
  contextWorkers: number;
  generationWorkers: number;
  gpus: number;
}

/** One layout's predicted numbers. */
export interface PlannerLayoutPrediction {
  layout: PlannerLayout;
  label: string;
  completed: number;
  failed: number;
  requestThroughput: number;
  /** Good requests per second under the SLOs; null without SLOs. */
  goodput: number | null;
  /** Share of completed requests that met the SLOs; null without SLOs. */
  goodputFraction: number | null;
  meanTtftMs: number;
  p99TtftMs: number;
  meanTpotMs: number;
  p99TpotMs: number;
  outputTokensPerSec: number;
  outputTokensPerSecPerGpu: number;
  goodputPerGpu: number | null;
}

/** planner:predict result. */
export interface PlannerPrediction {
  model: string;
  gpuName: string;
  gpus: number;
  workload: PlannerWorkload;
  layouts: PlannerLayoutPrediction[];
  recommended: { index: number; reason: string };
  elapsedMs: number;
}

/** planner:progressed payload. */
export interface PlannerProgressedEvent {
  task: 'calibrate' | 'predict' | 'check';
  message: string;
  /** 0..1 */
  fraction: number;
  isFinished: boolean;
}

/** planner:check result: the prediction of the applied layout against a fresh load test. */
export interface PlannerCheckResult {
  label: string;
  rows: { metric: string; predicted: number; measured: number; errorPct: number | null }[];
  meanAbsErrorPct: number | null;
  run: BenchSavedRun;
}
