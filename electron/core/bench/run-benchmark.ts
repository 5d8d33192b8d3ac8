// One load test from options to result (dataset, optional single test request, load, metrics), and sweeps
// over concurrency or rate steps returning one result per step. This is the function a console channel
// calls (`bench:run`, `bench:sweep`) and what `disagg-console bench` wraps. Layer: core.
import http from 'node:http';

import { computeResult } from './bench-metrics';
import type {
  BenchEndpoint,
  BenchResult,
  GoodputSlos,
  PercentileMetric,
  SampleRequest,
} from './bench-types';
import { loadDatasetFile, parseDatasetText } from './dataset-file';
import { type LoadProgress, runLoad } from './load-generator';
import { randomRequests } from './random-dataset';
import { endpointUrl, requestBody, sendRequest } from './request-sender';

/** Where prompts come from. */
export type DatasetSpec =
  | { kind: 'random'; inputLen: number; outputLen: number; rangeRatio?: number; prefixLen?: number }
  | { kind: 'file'; path: string; outputLen: number; shouldOverrideOutputLen?: boolean }
  /** The text of a dataset file (what the console uploads), in any shape dataset-file.ts accepts. */
  | { kind: 'text'; text: string; outputLen: number; shouldOverrideOutputLen?: boolean }
  | { kind: 'requests'; requests: SampleRequest[] };

export interface BenchOptions {
  /** `http://host:port` of the proxy (or a worker); several are used round-robin. */
  baseUrl: string | string[];
  endpoint: BenchEndpoint;
  model: string;
  dataset: DatasetSpec;
  numPrompts: number;
  /** Requests per second; Infinity (default) sends all at once, bounded by maxConcurrency. */
  requestRate?: number;
  burstiness?: number;
  maxConcurrency?: number | null;
  isStreaming?: boolean;
  shouldIgnoreEos?: boolean;
  seed?: number;
  percentileMetrics?: PercentileMetric[];
  metricPercentiles?: number[];
  goodput?: GoodputSlos | null;
  apiKey?: string;
  extraBody?: Record<string, unknown>;
  requestTimeoutMs?: number;
  /** Stop issuing new requests after this long. */
  maxDurationMs?: number;
  /** Send the first prompt alone before the run and fail fast if it fails (benchmark_serving's default). */
  shouldTestFirst?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

export const DEFAULT_PERCENTILE_METRICS: PercentileMetric[] = ['ttft', 'tpot', 'itl', 'e2el'];
export const DEFAULT_METRIC_PERCENTILES = [99];

/** The requests of a run (random prompts are seeded, so a seed gives the same prompts every time). */
export async function buildRequests(
  dataset: DatasetSpec,
  numPrompts: number,
  seed: number,
): Promise<SampleRequest[]> {
  switch (dataset.kind) {
    case 'random':
      return randomRequests({
        numPrompts,
        inputLen: dataset.inputLen,
        outputLen: dataset.outputLen,
        rangeRatio: dataset.rangeRatio,
        prefixLen: dataset.prefixLen,
        seed,
      });
    case 'file':
      return loadDatasetFile(dataset.path, {
        defaultOutputLen: dataset.outputLen,
        shouldOverrideOutputLen: dataset.shouldOverrideOutputLen,
        numPrompts,
      });
    case 'text':
      return parseDatasetText(dataset.text, {
        defaultOutputLen: dataset.outputLen,
        shouldOverrideOutputLen: dataset.shouldOverrideOutputLen,
        numPrompts,
      });
    case 'requests':
      return Array.from(
        { length: numPrompts },
        (_, i) => dataset.requests[i % dataset.requests.length] as SampleRequest,
      );
  }
}

function baseUrls(o: BenchOptions): string[] {
  return Array.isArray(o.baseUrl) ? o.baseUrl : [o.baseUrl];
}

/** Sends one request alone; throws with the server's answer when it fails. */
async function testRequest(o: BenchOptions, sample: SampleRequest): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  const base = baseUrls(o)[0] ?? '';
  const target = {
    url: endpointUrl(base, o.endpoint),
    endpoint: o.endpoint,
    model: o.model,
    agent,
    isStreaming: o.isStreaming ?? true,
    shouldIgnoreEos: o.shouldIgnoreEos ?? false,
    apiKey: o.apiKey,
    extraBody: o.extraBody,
    timeoutMs: o.requestTimeoutMs ?? 600_000,
  };
  const out = await sendRequest(
    target,
    sample,
    requestBody(target, sample),
    performance.now(),
    0,
    o.signal,
  );
  agent.destroy();
  if (!out.isSuccess) {
    throw new Error(
      `Initial test run failed - check the base URL, endpoint and model (${target.url.href}, model '${o.model}'): ${out.error}`,
    );
  }
}

/** Runs one load test and returns its result. */
export async function runBenchmark(o: BenchOptions): Promise<BenchResult> {
  const seed = o.seed ?? 0;
  const requests = await buildRequests(o.dataset, o.numPrompts, seed);
  if (o.shouldTestFirst === true && requests[0] !== undefined) await testRequest(o, requests[0]);
  const requestRate = o.requestRate ?? Infinity;
  const startedAtMs = Date.now();
  const run = await runLoad({
    baseUrls: baseUrls(o),
    endpoint: o.endpoint,
    model: o.model,
    requests,
    isStreaming: o.isStreaming ?? true,
    shouldIgnoreEos: o.shouldIgnoreEos ?? false,
    requestRate,
    burstiness: o.burstiness ?? 1,
    maxConcurrency: o.maxConcurrency ?? null,
    seed,
    apiKey: o.apiKey,
    extraBody: o.extraBody,
    requestTimeoutMs: o.requestTimeoutMs,
    maxDurationMs: o.maxDurationMs,
    signal: o.signal,
    onProgress: o.onProgress,
  });
  return computeResult(run, {
    model: o.model,
    baseUrl: baseUrls(o).join(','),
    endpoint: o.endpoint,
    requestRate,
    burstiness: o.burstiness ?? 1,
    maxConcurrency: o.maxConcurrency ?? null,
    isStreaming: o.isStreaming ?? true,
    percentileMetrics: o.percentileMetrics ?? DEFAULT_PERCENTILE_METRICS,
    metricPercentiles: o.metricPercentiles ?? DEFAULT_METRIC_PERCENTILES,
    goodput: o.goodput ?? null,
    startedAtMs,
  });
}

/** The steps of a sweep: the value each step sets. */
export interface SweepSpec {
  kind: 'concurrency' | 'rate';
  values: number[];
  /**
   * Concurrency sweeps: prompts per step = value x multiRound (the upstream slurm scripts' rule);
   * without it every step sends `numPrompts`.
   */
  multiRound?: number;
}

export interface SweepStep {
  kind: SweepSpec['kind'];
  value: number;
  result: BenchResult;
}

/** Runs one load test per step, in order; each step gets fresh prompts (seed + step index). */
export async function runSweep(
  o: BenchOptions,
  sweep: SweepSpec,
  onStep?: (step: SweepStep, index: number) => void,
): Promise<SweepStep[]> {
  if (sweep.values.length === 0) throw new Error('a sweep needs at least one value');
  for (const v of sweep.values) {
    if (!(v > 0)) throw new RangeError(`sweep values must be positive, got ${v}`);
    if (sweep.kind === 'concurrency' && !Number.isInteger(v)) {
      throw new RangeError(`concurrency steps must be integers, got ${v}`);
    }
  }
  const steps: SweepStep[] = [];
  for (const [index, value] of sweep.values.entries()) {
    if (o.signal?.aborted === true) break;
    const numPrompts =
      sweep.kind === 'concurrency' && sweep.multiRound !== undefined
        ? value * sweep.multiRound
        : o.numPrompts;
    const stepOptions: BenchOptions = {
      ...o,
      numPrompts,
      seed: (o.seed ?? 0) + index,
      shouldTestFirst: o.shouldTestFirst === true && index === 0,
      ...(sweep.kind === 'concurrency' ? { maxConcurrency: value } : { requestRate: value }),
    };
    const step: SweepStep = { kind: sweep.kind, value, result: await runBenchmark(stepOptions) };
    steps.push(step);
    onStep?.(step, index);
  }
  return steps;
}

/** Parses a step list such as "1,2,4,8". */
export function parseSweepValues(text: string): number[] {
  const values = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (values.length === 0 || values.some((v) => !(Number.isFinite(v) && v > 0))) {
    throw new Error(
      `invalid sweep steps '${text}': use positive numbers separated by commas, e.g. 1,2,4,8`,
    );
  }
  return values;
}
