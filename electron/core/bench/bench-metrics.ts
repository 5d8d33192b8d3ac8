// Turns a load run into the result object, with benchmark_serving's definitions (trtllm-protocol.md 9.2):
// TTFT from the start to the first token; TPOT = (E2EL - TTFT) / (output tokens - 1), only for requests with
// more than one output token (it excludes the first token); ITL = every gap between successive token events;
// E2EL = start to last token; goodput = requests meeting every SLO per second (a request with one output
// token has TPOT 0 for the SLO check, as upstream). Means, medians, std and percentiles in ms.
// Layer: core (pure functions).
import { summarize } from './bench-stats';
import type {
  BenchEndpoint,
  BenchResult,
  GeneratorStats,
  GoodputSlos,
  PercentileMetric,
  RequestOutput,
  SampleRequest,
} from './bench-types';

export const PERCENTILE_METRICS: readonly PercentileMetric[] = ['ttft', 'tpot', 'itl', 'e2el'];

/** What the run was, for the result file's header fields. */
export interface RunDescription {
  model: string;
  baseUrl: string;
  endpoint: BenchEndpoint;
  requestRate: number;
  burstiness: number;
  maxConcurrency: number | null;
  isStreaming: boolean;
  percentileMetrics: readonly PercentileMetric[];
  metricPercentiles: readonly number[];
  goodput: GoodputSlos | null;
  /** Epoch ms of the run's start (the result's `date`). */
  startedAtMs: number;
}

/** The measured data of a run. */
export interface RunData {
  issued: readonly SampleRequest[];
  outputs: readonly RequestOutput[];
  durationS: number;
  generator: GeneratorStats;
}

function dateString(ms: number): string {
  // benchmark_serving's "%Y%m%d-%H%M%S" (local time).
  const d = new Date(ms);
  const p = (v: number): string => String(v).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Builds the result (pure: the same data gives the same object). */
export function computeResult(data: RunData, run: RunDescription): BenchResult {
  const outputLens: number[] = [];
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const allTpots: number[] = [];
  const itls: number[] = [];
  const e2els: number[] = [];
  const tputUser: number[] = [];
  const errorCounts: Record<string, number> = {};
  let totalInput = 0;
  let completed = 0;
  for (const out of data.outputs) {
    if (!out.isSuccess) {
      outputLens.push(0);
      errorCounts[out.errorKind] = (errorCounts[out.errorKind] ?? 0) + 1;
      continue;
    }
    const outputLen = out.outputTokens;
    outputLens.push(outputLen);
    totalInput += out.promptTokens;
    let tpot = 0;
    if (outputLen > 1) {
      tpot = (out.latencyS - out.ttftS) / (outputLen - 1);
      tpots.push(tpot);
    }
    allTpots.push(tpot);
    for (const gap of out.itlS) itls.push(gap);
    ttfts.push(out.ttftS);
    e2els.push(out.latencyS);
    if (out.latencyS > 0) tputUser.push(outputLen / out.latencyS);
    completed += 1;
  }
  let good = 0;
  const slos = run.goodput;
  if (slos !== null) {
    for (let i = 0; i < ttfts.length; i += 1) {
      const isGood =
        (slos.ttft === undefined || (ttfts[i] ?? 0) * 1000 <= slos.ttft) &&
        (slos.tpot === undefined || (allTpots[i] ?? 0) * 1000 <= slos.tpot) &&
        (slos.e2el === undefined || (e2els[i] ?? 0) * 1000 <= slos.e2el);
      if (isGood) good += 1;
    }
  }
  const dur = data.durationS > 0 ? data.durationS : Number.EPSILON;
  const totalOutput = outputLens.reduce((a, b) => a + b, 0);
  const goodput = slos !== null ? good / dur : null;
  const result: BenchResult = {
    date: dateString(run.startedAtMs),
    backend: run.endpoint === '/v1/chat/completions' ? 'openai-chat' : 'openai',
    model_id: run.model,
    base_url: run.baseUrl,
    endpoint: run.endpoint,
    num_prompts: data.outputs.length,
    request_rate: Number.isFinite(run.requestRate) ? run.requestRate : 'inf',
    burstiness: run.burstiness,
    max_concurrency: run.maxConcurrency,
    streaming: run.isStreaming,
    duration: data.durationS,
    completed,
    failed: data.outputs.length - completed,
    total_input_tokens: totalInput,
    total_output_tokens: totalOutput,
    request_throughput: completed / dur,
    request_goodput: goodput,
    'request_goodput:': goodput,
    goodput: slos,
    output_throughput: totalOutput / dur,
    total_token_throughput: (totalInput + totalOutput) / dur,
    user_throughput:
      tputUser.length > 0 ? tputUser.reduce((a, b) => a + b, 0) / tputUser.length : 0,
    percentile_metrics: [...run.percentileMetrics],
    metric_percentiles: [...run.metricPercentiles],
    input_lens: data.outputs.map((o) => o.promptTokens),
    output_lens: outputLens,
    ttfts: data.outputs.map((o) => (o.isSuccess ? o.ttftS : 0)),
    itls: data.outputs.map((o) => (o.isSuccess ? o.itlS : [])),
    e2els: data.outputs.map((o) => (o.isSuccess ? o.latencyS : 0)),
    errors: data.outputs.map((o) => o.error),
    error_counts: errorCounts,
    generator: data.generator,
  };
  const series: Record<PercentileMetric, number[]> = {
    ttft: ttfts,
    tpot: tpots,
    itl: itls,
    e2el: e2els,
  };
  for (const metric of run.percentileMetrics) {
    const s = summarize(series[metric], run.metricPercentiles);
    result[`mean_${metric}_ms`] = s.mean * 1000;
    result[`median_${metric}_ms`] = s.median * 1000;
    result[`std_${metric}_ms`] = s.std * 1000;
    for (const [q, v] of s.percentiles) result[`p${String(q)}_${metric}_ms`] = v * 1000;
  }
  return result;
}

/** Parses `--percentile-metrics ttft,tpot,itl,e2el`. */
export function parsePercentileMetrics(text: string): PercentileMetric[] {
  const out: PercentileMetric[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    if (!(PERCENTILE_METRICS as readonly string[]).includes(part)) {
      throw new Error(
        `unknown percentile metric '${part}' (allowed: ${PERCENTILE_METRICS.join(', ')})`,
      );
    }
    if (!out.includes(part as PercentileMetric)) out.push(part as PercentileMetric);
  }
  return out;
}

/** Parses `--metric-percentiles 50,90,99`. */
export function parseMetricPercentiles(text: string): number[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const q = Number(s);
      if (!(q > 0 && q < 100) && q !== 100) {
        throw new Error(`metric percentile '${s}' must be a number in (0, 100]`);
      }
      return q;
    });
}

/** Parses `--goodput ttft:200 tpot:20` (values in ms, non-negative). */
export function parseGoodput(pairs: readonly string[]): GoodputSlos {
  const out: GoodputSlos = {};
  for (const pair of pairs) {
    const [name, value, extra] = pair.split(':');
    const ms = Number(value);
    if (
      name === undefined ||
      value === undefined ||
      extra !== undefined ||
      value.trim() === '' ||
      !Number.isFinite(ms)
    ) {
      throw new Error(
        `invalid goodput SLO '${pair}': use KEY:VALUE pairs with a value in milliseconds, e.g. ttft:200`,
      );
    }
    if (name !== 'ttft' && name !== 'tpot' && name !== 'e2el') {
      throw new Error(`invalid goodput metric '${name}' (allowed: ttft, tpot, e2el)`);
    }
    if (ms < 0) throw new Error(`invalid goodput value for ${name}: ${ms} (must be non-negative)`);
    out[name] = ms;
  }
  return out;
}
