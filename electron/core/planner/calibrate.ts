// Calibration: a short measurement of one running worker through its OpenAI API (plain, non-disaggregated
// requests sent straight to it) — prefill time at a few prompt lengths (TTFT of one-token answers, one at
// a time, the fastest of a few, minus the client/HTTP overhead seen on one-token prompts) and the decode step time at a few
// batch sizes (the steady inter-token gap of B concurrent streams) — then a fit of the simulated engine's
// GPU profile (profile-fit.ts). Every request uses fresh random prompts so prefix caching cannot make
// prefill look free. Layer: core.
import type { GpuProfile } from '../../../shared/logic/gpu-profiles';
import {
  DEFAULT_DECODE_CONTEXT_TOKENS,
  type ModelProfile,
  modelProfileFromName,
  PREFILL_OVERHEAD_MS,
} from '../../../shared/logic/timing-model';
import { median } from '../bench/bench-stats';
import type { BenchEndpoint } from '../bench/bench-types';
import { runBenchmark } from '../bench/run-benchmark';
import {
  type DecodeSample,
  fitGpuProfile,
  type PrefillSample,
  type ProfileFit,
} from './profile-fit';

export interface CalibrationOptions {
  /** The worker's base URL (http://host:port). */
  baseUrl: string;
  /** Model name as the worker serves it (also used to guess the model's size for the timing model). */
  model: string;
  /** The profile whose memory, compute and links are kept (nvidia-smi's GPU, or the simulated one). */
  baseGpu: GpuProfile;
  /** Model profile override (default: guessed from the model name). */
  modelProfile?: ModelProfile;
  endpoint?: BenchEndpoint;
  /** Prompt lengths for prefill (default 128, 512, 2048). */
  inputLens?: number[];
  /** Batch sizes for decode (default 1, 8, 32). */
  batchSizes?: number[];
  /** Tokens generated per decode stream (default 48). */
  decodeTokens?: number;
  /** Prefill measurements per length (default 3). */
  repeats?: number;
  apiKey?: string;
  signal?: AbortSignal;
  onProgress?: (p: CalibrationProgress) => void;
}

export interface CalibrationProgress {
  phase: 'overhead' | 'prefill' | 'decode';
  step: number;
  steps: number;
  message: string;
}

export interface CalibrationSamples {
  /** Client + HTTP time of a one-token request beyond the engine's fixed prefill overhead, ms. */
  clientOverheadMs: number;
  prefill: PrefillSample[];
  decode: DecodeSample[];
}

export interface Calibration {
  model: ModelProfile;
  samples: CalibrationSamples;
  fit: ProfileFit;
  elapsedMs: number;
}

/** Share of each stream's gaps used as the steady decode window (after every prompt is prefilled, before any stream ends). */
const STEADY_FROM = 0.4;
const STEADY_TO = 0.75;

/**
 * The fastest of repeated single-request times, ms. Scheduling noise on a busy host only ever adds time, so
 * the minimum estimates the engine's own time better than the median does.
 */
function fastest(secondsList: readonly number[]): number {
  return Math.min(...secondsList) * 1000;
}

/** Measures the worker; resolves with the raw samples. */
export async function measureWorker(o: CalibrationOptions): Promise<CalibrationSamples> {
  const endpoint = o.endpoint ?? '/v1/completions';
  const inputLens = o.inputLens ?? [128, 512, 2048];
  const batchSizes = o.batchSizes ?? [1, 8, 32];
  const decodeTokens = o.decodeTokens ?? 48;
  const repeats = o.repeats ?? 3;
  if (decodeTokens < 8) {
    throw new RangeError(`decodeTokens must be at least 8, got ${decodeTokens}`);
  }
  const steps = 1 + inputLens.length + batchSizes.length;
  let step = 0;
  let seed = 1000;
  const common = {
    baseUrl: o.baseUrl,
    endpoint,
    model: o.model,
    shouldIgnoreEos: true,
    apiKey: o.apiKey,
    signal: o.signal,
    percentileMetrics: ['ttft' as const],
  };
  const progress = (phase: CalibrationProgress['phase'], message: string): void => {
    step += 1;
    o.onProgress?.({ phase, step, steps, message });
  };
  const check = (
    completed: number,
    expected: number,
    what: string,
    firstError: string | undefined,
  ): void => {
    if (o.signal?.aborted === true) throw new Error('calibration cancelled');
    if (completed < expected) {
      throw new Error(
        `calibration: ${what}: ${expected - completed} of ${expected} requests failed${firstError ? `: ${firstError}` : ''}`,
      );
    }
  };

  // A one-token prompt: the engine's fixed prefill overhead plus everything outside the engine.
  progress('overhead', 'client overhead');
  const tinyCount = Math.max(5, repeats);
  const tiny = await runBenchmark({
    ...common,
    dataset: { kind: 'random', inputLen: 1, outputLen: 1 },
    numPrompts: tinyCount,
    maxConcurrency: 1,
    seed: seed++,
    shouldTestFirst: true,
  });
  check(
    tiny.completed,
    tinyCount,
    'one-token prompt',
    tiny.errors.find((e) => e !== ''),
  );
  const clientOverheadMs = Math.max(0, fastest(tiny.ttfts) - PREFILL_OVERHEAD_MS);

  const prefill: PrefillSample[] = [];
  for (const inputLen of inputLens) {
    progress('prefill', `prefill of ${inputLen} tokens`);
    const r = await runBenchmark({
      ...common,
      dataset: { kind: 'random', inputLen, outputLen: 1 },
      numPrompts: repeats,
      maxConcurrency: 1,
      seed: seed++,
    });
    check(
      r.completed,
      repeats,
      `prefill of ${inputLen} tokens`,
      r.errors.find((e) => e !== ''),
    );
    prefill.push({ inputLen, ms: Math.max(0, fastest(r.ttfts) - clientOverheadMs) });
  }

  // Prompts sized so the steady window's context is about the timing model's default decode context.
  const lo = Math.floor(decodeTokens * STEADY_FROM);
  const hi = Math.max(lo + 1, Math.floor(decodeTokens * STEADY_TO));
  const promptLen = Math.max(1, DEFAULT_DECODE_CONTEXT_TOKENS - Math.round((lo + hi) / 2));
  const decode: DecodeSample[] = [];
  for (const batchSize of batchSizes) {
    progress('decode', `decode with ${batchSize} streams`);
    const r = await runBenchmark({
      ...common,
      percentileMetrics: ['itl'],
      dataset: { kind: 'random', inputLen: promptLen, outputLen: decodeTokens },
      numPrompts: batchSize,
      maxConcurrency: batchSize,
      seed: seed++,
    });
    check(
      r.completed,
      batchSize,
      `decode with ${batchSize} streams`,
      r.errors.find((e) => e !== ''),
    );
    const gaps: number[] = [];
    for (const itl of r.itls) for (const g of itl.slice(lo, hi)) gaps.push(g * 1000);
    decode.push({
      batchSize,
      contextTokens: promptLen + Math.round((lo + hi) / 2),
      stepMs: median(gaps),
    });
  }
  return { clientOverheadMs, prefill, decode };
}

/** Measures the worker and fits a custom GPU profile for the simulated engine. */
export async function calibrate(o: CalibrationOptions): Promise<Calibration> {
  const started = performance.now();
  const model = o.modelProfile ?? modelProfileFromName(o.model);
  const samples = await measureWorker(o);
  const fit = fitGpuProfile(model, o.baseGpu, samples.prefill, samples.decode);
  return { model, samples, fit, elapsedMs: performance.now() - started };
}
