// The what-if prediction: for a workload and N GPUs, start N simulated workers running the (calibrated)
// GPU profile with real delays, then for each layout run a short load test — disaggregated layouts through
// the real proxy over c context and g generation workers, the aggregated layout straight to all N workers
// round-robin (upstream's proxy has no aggregated mode; aggregated deployments sit behind a plain load
// balancer) — and summarise goodput, TTFT, TPOT and tokens/s per GPU with a recommendation. Runtime is
// bounded by `durationS` per layout (plus process start-up) and reported through `onProgress`.
// Simulated time is real time: on a small box many busy workers compete for CPU, so keep N and the load
// modest there. Layer: core.
import type { GpuProfile } from '../../../shared/logic/gpu-profiles';
import {
  decodeStepMs,
  modelProfileFromName,
  prefillTimeMs,
} from '../../../shared/logic/timing-model';
import type {
  PlannerLayout,
  PlannerLayoutPrediction,
  PlannerWorkload,
} from '../../../shared/model/bench';
import type { BenchResult } from '../bench/bench-types';
import { runBenchmark } from '../bench/run-benchmark';
import {
  enumerateLayouts,
  layoutLabel,
  type Recommendation,
  recommendLayout,
  summarizeLayout,
} from './planner-layouts';
import {
  type RunningProcess,
  type SimWorkerSettings,
  startProxyProcess,
  startSimWorker,
} from './sim-cluster';

export interface PredictOptions {
  model: string;
  gpus: number;
  /** The calibrated profile (or a named one). */
  gpu: GpuProfile;
  workload: PlannerWorkload;
  /** Default: enumerateLayouts(gpus, maxLayouts). */
  layouts?: PlannerLayout[];
  maxLayouts?: number;
  /** Load-test length per layout, seconds (default 10). */
  durationS?: number;
  settings?: SimWorkerSettings;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: PlannerProgress) => void;
}

export interface PlannerProgress {
  phase: 'starting' | 'layout' | 'done';
  /** 0-based index of the layout being run (phase 'layout'). */
  index: number;
  total: number;
  label: string;
  /** Rough share of the whole prediction done, 0..1. */
  fraction: number;
}

export interface Prediction {
  model: string;
  gpuName: string;
  gpus: number;
  workload: PlannerWorkload;
  layouts: PlannerLayoutPrediction[];
  /** Full load-test results, parallel to `layouts` (per-request lists dropped). */
  results: BenchResult[];
  recommended: Recommendation;
  elapsedMs: number;
}

/** Max prompts per layout (bounds memory: each holds its prompt text). */
const MAX_PROMPTS = 5_000;

/** Prompts for one layout: rate x duration, or for a closed loop what `concurrency` users finish in the duration. */
export function promptsForWorkload(
  o: Pick<PredictOptions, 'model' | 'gpu' | 'workload' | 'settings'>,
  durationS: number,
): number {
  const w = o.workload;
  if (w.requestRate != null && w.requestRate > 0) {
    return Math.max(1, Math.min(MAX_PROMPTS, Math.ceil(w.requestRate * durationS)));
  }
  const c = w.maxConcurrency ?? 0;
  if (!(c >= 1)) throw new Error('the workload needs a request rate or a concurrency');
  const model = modelProfileFromName(o.model);
  const batch = Math.min(c, o.settings?.maxBatchSize ?? c);
  const e2elMs =
    prefillTimeMs(w.inputLen, model, o.gpu) + w.outputLen * decodeStepMs(batch, model, o.gpu);
  return Math.max(
    2 * c,
    Math.min(MAX_PROMPTS, Math.ceil((c * durationS * 1000) / Math.max(1, e2elMs))),
  );
}

function light(r: BenchResult): BenchResult {
  return { ...r, input_lens: [], output_lens: [], ttfts: [], itls: [], e2els: [], errors: [] };
}

/** Runs the prediction; every process it started is stopped before it resolves or rejects. */
export async function predict(o: PredictOptions): Promise<Prediction> {
  const started = performance.now();
  const layouts = o.layouts ?? enumerateLayouts(o.gpus, o.maxLayouts);
  const needed = Math.max(...layouts.map((l) => l.contextWorkers + l.generationWorkers));
  if (needed > o.gpus) {
    throw new Error(`a layout needs ${needed} GPUs but only ${o.gpus} are available`);
  }
  const durationS = o.durationS ?? 10;
  const numPrompts = promptsForWorkload(o, durationS);
  const total = layouts.length;
  o.onProgress?.({
    phase: 'starting',
    index: 0,
    total,
    label: `starting ${needed} simulated workers`,
    fraction: 0,
  });
  const workers: RunningProcess[] = [];
  const settled = await Promise.allSettled(
    Array.from({ length: needed }, () =>
      startSimWorker({ model: o.model, gpu: o.gpu, settings: o.settings }),
    ),
  );
  for (const s of settled) if (s.status === 'fulfilled') workers.push(s.value);
  try {
    const failedStart = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failedStart) {
      throw new Error(`a simulated worker did not start: ${String(failedStart.reason)}`);
    }
    const preds: PlannerLayoutPrediction[] = [];
    const results: BenchResult[] = [];
    for (const [index, layout] of layouts.entries()) {
      if (o.signal?.aborted === true) throw new Error('prediction cancelled');
      const label = layoutLabel(layout);
      o.onProgress?.({ phase: 'layout', index, total, label, fraction: index / total });
      let proxy: RunningProcess | undefined;
      try {
        let baseUrl: string | string[];
        if (layout.kind === 'aggregated') {
          baseUrl = workers.slice(0, layout.generationWorkers).map((w) => w.url);
        } else {
          const ctx = workers.slice(0, layout.contextWorkers);
          const gen = workers.slice(
            layout.contextWorkers,
            layout.contextWorkers + layout.generationWorkers,
          );
          proxy = await startProxyProcess({
            contextUrls: ctx.map((w) => w.hostPort),
            generationUrls: gen.map((w) => w.hostPort),
          });
          baseUrl = proxy.url;
        }
        // Warm-up (not measured): a few short requests so the proxy and workers are past their cold start.
        const warmCount = 2 * (layout.contextWorkers + layout.generationWorkers);
        await runBenchmark({
          baseUrl,
          endpoint: '/v1/completions',
          model: o.model,
          dataset: { kind: 'random', inputLen: 16, outputLen: 4 },
          numPrompts: warmCount,
          maxConcurrency: warmCount,
          shouldIgnoreEos: true,
          seed: 10_000 + index,
          signal: o.signal,
        });
        const r = await runBenchmark({
          baseUrl,
          endpoint: '/v1/completions',
          model: o.model,
          dataset: {
            kind: 'random',
            inputLen: o.workload.inputLen,
            outputLen: o.workload.outputLen,
          },
          numPrompts,
          requestRate: o.workload.requestRate ?? Infinity,
          maxConcurrency: o.workload.maxConcurrency ?? null,
          shouldIgnoreEos: true,
          goodput: Object.keys(o.workload.slos).length > 0 ? o.workload.slos : null,
          seed: (o.seed ?? 0) + index,
          // A layout far below the load would otherwise run long past its slot: stop issuing at 1.5x.
          maxDurationMs: durationS * 1500,
          signal: o.signal,
        });
        results.push(light(r));
        preds.push(summarizeLayout(layout, r));
      } finally {
        await proxy?.stop();
      }
    }
    o.onProgress?.({ phase: 'done', index: total, total, label: 'done', fraction: 1 });
    return {
      model: o.model,
      gpuName: o.gpu.name,
      gpus: o.gpus,
      workload: o.workload,
      layouts: preds,
      results,
      recommended: recommendLayout(preds, o.workload.slos),
      elapsedMs: performance.now() - started,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}
