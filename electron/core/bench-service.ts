// The console's load-test and what-if planner handlers (`bench:*`, `planner:*`, features B1, B2) over the
// cores in bench/ and planner/: one load test at a time and one planner task at a time (a second gets BUSY),
// progress events throttled to a few per second, cancel through an AbortController, saved runs under
// <dataDir>/bench-runs. The backend passes what it knows (proxy URL, workers, apply). Layer: core.

import { join } from 'node:path';

import type { ApiEventMap, ApiHandlers } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import { GPU_PROFILES, type GpuProfile } from '../../shared/logic/gpu-profiles';
import type {
  BenchProgressedEvent,
  BenchResultView,
  BenchRunOutcome,
  BenchRunRequest,
  BenchSavedRun,
  BenchSweepRequest,
  PlannerCalibration,
  PlannerLayout,
  PlannerProgressedEvent,
  PlannerWorkload,
} from '../../shared/model/bench';
import type { ApplyResult } from '../../shared/model/topology';
import type { BenchResult, GoodputSlos } from './bench/bench-types';
import type { LoadProgress } from './bench/load-generator';
import { type BenchOptions, runBenchmark, runSweep, type SweepStep } from './bench/run-benchmark';
import { compareRuns, RunStore, runToCsv, type SavedRun, type SavedStep } from './bench/run-store';
import { sweepPoints } from './bench/sweep-points';
import { calibrate } from './planner/calibrate';
import { predictionError } from './planner/planner-layouts';
import { predict, promptsForWorkload } from './planner/predict';

/** The bench and planner channels. */
export type BenchChannel = Extract<keyof ApiHandlers, `bench:${string}` | `planner:${string}`>;
export type BenchHandlers = Pick<ApiHandlers, BenchChannel>;

/** What the service needs from the backend. */
export interface BenchServiceDeps {
  dataDir: string;
  emit: <E extends 'bench:progressed' | 'planner:progressed'>(
    name: E,
    payload: ApiEventMap[E],
  ) => void;
  /** The proxy of the current topology (`http://127.0.0.1:<port>`). */
  proxyUrl: () => string;
  /** The model the current topology serves, null without workers. */
  currentModel: () => string | null;
  /** A label of the running topology for saved runs, e.g. "1 ctx + 2 gen (simulated)". */
  topologyLabel: () => string | null;
  /** A running local worker to calibrate against (generation workers first), null when none runs. */
  calibrationTarget: () => { url: string; model: string } | null;
  /** The GPU profile predictions use without a calibration (the simulated GPU of the settings). */
  defaultGpu: () => GpuProfile;
  /** Applies c context + g generation workers as the topology. */
  applyLayout: (layout: PlannerLayout) => Promise<ApplyResult>;
  /** Progress events at most this often, ms (default 250). */
  progressIntervalMs?: number;
}

/** The handlers plus what dispose needs. */
export interface BenchService {
  handlers: BenchHandlers;
  /** Cancels whatever runs and waits for it to end (bounded). */
  dispose(): Promise<void>;
}

/** Requests a console run may last at most (bounded, cancellable work). */
const MAX_RUN_MS = 30 * 60_000;

/** Calls `fn` at most once per interval; `flush` sends the last pending value at once. */
function throttle<T>(intervalMs: number, fn: (v: T) => void): { push(v: T): void; flush(): void } {
  let last = 0;
  let pending: T | undefined;
  let timer: NodeJS.Timeout | null = null;
  const send = (): void => {
    timer = null;
    if (pending === undefined) return;
    last = Date.now();
    const v = pending;
    pending = undefined;
    fn(v);
  };
  return {
    push(v) {
      pending = v;
      if (timer !== null) return;
      const wait = Math.max(0, last + intervalMs - Date.now());
      timer = setTimeout(send, wait);
    },
    flush() {
      if (timer !== null) clearTimeout(timer);
      send();
    },
  };
}

/** A result without its per-request lists (they stay in the saved file). */
export function resultView(r: BenchResult): BenchResultView {
  const {
    input_lens: _i,
    output_lens: _o,
    ttfts: _t,
    itls: _l,
    e2els: _e,
    errors: _x,
    generator: _g,
    ...rest
  } = r;
  return rest;
}

function runView(run: SavedRun): BenchSavedRun {
  return { ...run, steps: run.steps.map((s) => ({ step: s.step, result: resultView(s.result) })) };
}

function outcomeOf(run: SavedRun, wasCancelled: boolean): BenchRunOutcome {
  const steps: SweepStep[] = run.steps.map((s) => ({
    kind: s.step?.kind ?? 'concurrency',
    value: s.step?.value ?? s.result.max_concurrency ?? 0,
    result: s.result,
  }));
  return { run: runView(run), points: sweepPoints(steps), wasCancelled };
}

function slosOf(slos: BenchRunRequest['slos']): GoodputSlos | null {
  if (!slos) return null;
  const out: GoodputSlos = {};
  if (slos.ttft !== undefined) out.ttft = slos.ttft;
  if (slos.tpot !== undefined) out.tpot = slos.tpot;
  if (slos.e2el !== undefined) out.e2el = slos.e2el;
  return Object.keys(out).length > 0 ? out : null;
}

function defaultName(r: BenchRunRequest, sweep?: BenchSweepRequest['sweep']): string {
  const load = sweep
    ? `${sweep.kind} ${sweep.values.join(',')}`
    : r.requestRate !== undefined
      ? `rate ${r.requestRate}/s`
      : `concurrency ${r.maxConcurrency ?? 'all'}`;
  return `ISL ${r.inputLen} / OSL ${r.outputLen}, ${load}, ${r.numPrompts} prompts`;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The bench and planner handlers. */
export function createBenchService(deps: BenchServiceDeps): BenchService {
  const store = new RunStore(join(deps.dataDir, 'bench-runs'));
  const interval = deps.progressIntervalMs ?? 250;
  let benchAbort: AbortController | null = null;
  let benchTask: Promise<unknown> | null = null;
  let plannerAbort: AbortController | null = null;
  let plannerTask: Promise<unknown> | null = null;
  let lastCalibration: PlannerCalibration | null = null;

  /** Runs `fn` as the one load test; a second at the same time is BUSY. */
  const exclusiveBench = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    if (benchAbort) {
      return Promise.reject(
        new AppError('BUSY', 'a load test is already running; wait for it or cancel it'),
      );
    }
    const abort = new AbortController();
    benchAbort = abort;
    const timer = setTimeout(() => abort.abort(), MAX_RUN_MS);
    const task = fn(abort.signal).finally(() => {
      clearTimeout(timer);
      benchAbort = null;
      benchTask = null;
    });
    benchTask = task.catch(() => undefined);
    return task;
  };

  const exclusivePlanner = <T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    if (plannerAbort) {
      return Promise.reject(
        new AppError('BUSY', `the planner is busy; wait for it or cancel it before the ${what}`),
      );
    }
    const abort = new AbortController();
    plannerAbort = abort;
    const timer = setTimeout(() => abort.abort(), MAX_RUN_MS);
    const task = fn(abort.signal).finally(() => {
      clearTimeout(timer);
      plannerAbort = null;
      plannerTask = null;
    });
    plannerTask = task.catch(() => undefined);
    return task;
  };

  const benchOptions = (
    r: BenchRunRequest,
    signal: AbortSignal,
    onProgress: (p: LoadProgress) => void,
  ): BenchOptions => {
    const model = r.model ?? deps.currentModel();
    if (model === null) {
      throw new AppError(
        'CONFIG_INVALID',
        'no model to test: start a worker in the Cluster view, or name the model',
      );
    }
    return {
      baseUrl: r.baseUrl ?? deps.proxyUrl(),
      endpoint: r.endpoint,
      model,
      dataset:
        r.datasetText !== undefined
          ? { kind: 'text', text: r.datasetText, outputLen: r.outputLen }
          : { kind: 'random', inputLen: r.inputLen, outputLen: r.outputLen },
      numPrompts: r.numPrompts,
      requestRate: r.requestRate ?? Infinity,
      maxConcurrency: r.maxConcurrency ?? null,
      isStreaming: r.isStreaming,
      shouldIgnoreEos: r.shouldIgnoreEos ?? true,
      goodput: slosOf(r.slos),
      // benchmark_serving's initial test request: a wrong URL or model fails in a second, not after N errors.
      shouldTestFirst: true,
      requestTimeoutMs: 120_000,
      signal,
      onProgress,
    };
  };

  /** Runs the steps, saves what finished, and emits progress; cancelled runs keep their finished steps. */
  const runSteps = (
    r: BenchRunRequest,
    sweep: BenchSweepRequest['sweep'] | null,
  ): Promise<BenchRunOutcome> =>
    exclusiveBench(async (signal) => {
      const stepCount = sweep ? sweep.values.length : 1;
      let stepIndex = 0;
      const progress = throttle<BenchProgressedEvent>(interval, (e) =>
        deps.emit('bench:progressed', e),
      );
      const onProgress = (p: LoadProgress): void =>
        progress.push({
          stepIndex,
          stepCount,
          stepValue: sweep?.values[stepIndex] ?? null,
          ...p,
          isFinished: false,
        });
      const o = benchOptions(r, signal, onProgress);
      const steps: SavedStep[] = [];
      try {
        if (sweep) {
          await runSweep(o, sweep, (step, index) => {
            steps.push({ step: { kind: step.kind, value: step.value }, result: step.result });
            stepIndex = index + 1;
          });
        } else {
          steps.push({ step: null, result: await runBenchmark(o) });
        }
      } catch (err) {
        if (!signal.aborted) throw new AppError('INTERNAL', `load test failed: ${errText(err)}`);
      }
      progress.flush();
      const wasCancelled = signal.aborted;
      deps.emit('bench:progressed', {
        stepIndex: steps.length,
        stepCount,
        stepValue: null,
        done: 0,
        failed: 0,
        total: 0,
        elapsedMs: 0,
        isFinished: true,
      });
      if (steps.length === 0) {
        throw new AppError(
          'INTERNAL',
          'the load test was cancelled before a step finished; nothing was saved',
        );
      }
      const saved = await store.save({
        name: r.name ?? defaultName(r, sweep ?? undefined),
        topology: deps.topologyLabel(),
        steps,
      });
      return outcomeOf(saved, wasCancelled);
    });

  const load = async (id: string): Promise<SavedRun> => {
    try {
      return await store.load(id);
    } catch (err) {
      throw new AppError('NOT_FOUND', errText(err), { id });
    }
  };

  const plannerProgress = (e: PlannerProgressedEvent): void => deps.emit('planner:progressed', e);

  const gpuForPlanning = (): GpuProfile => lastCalibration?.gpu ?? deps.defaultGpu();

  const handlers: BenchHandlers = {
    'bench:run': (r) => runSteps(r, null),
    'bench:sweep': async (r) => {
      if (r.sweep.kind === 'concurrency' && r.sweep.values.some((v) => !Number.isInteger(v))) {
        throw new AppError(
          'INVALID_ARGUMENT',
          'concurrency steps must be whole numbers, e.g. 1,2,4,8',
        );
      }
      return runSteps(r, r.sweep);
    },
    'bench:cancel': () => {
      const was = benchAbort !== null;
      benchAbort?.abort();
      return Promise.resolve(was);
    },
    'bench:list': () => store.list(),
    'bench:get': async (id) => outcomeOf(await load(id), false),
    'bench:delete': async (id) => {
      await load(id);
      await store.remove(id);
    },
    'bench:compare': async (a, b) => compareRuns(await load(a), await load(b)),
    'bench:csv': async (id) => runToCsv(await load(id)),

    'planner:calibrate': (req) =>
      exclusivePlanner('calibration', async (signal) => {
        const target =
          req.baseUrl !== undefined
            ? { url: req.baseUrl, model: req.model ?? deps.currentModel() }
            : deps.calibrationTarget();
        if (target === null || target.model === null) {
          throw new AppError(
            'CONFIG_INVALID',
            'no running worker to measure: start one in the Cluster view (or the demo 1+1), then calibrate',
          );
        }
        const isThorough = req.depth === 'thorough';
        try {
          const cal = await calibrate({
            baseUrl: target.url,
            model: target.model,
            baseGpu: deps.defaultGpu(),
            // Short keeps the core's lengths and batch sizes (three points fit better than two) with fewer repeats.
            inputLens: [128, 512, 2048],
            batchSizes: [1, 8, 32],
            decodeTokens: isThorough ? 48 : 32,
            repeats: isThorough ? 3 : 2,
            signal,
            onProgress: (p) =>
              plannerProgress({
                task: 'calibrate',
                message: p.message,
                fraction: p.step / p.steps,
                isFinished: false,
              }),
          });
          lastCalibration = {
            model: target.model,
            baseUrl: target.url,
            gpu: cal.fit.gpu,
            prefillTokensPerSec8B: cal.fit.prefillTokensPerSec8B,
            memoryBandwidthGBps: cal.fit.memoryBandwidthGBps,
            prefillErrorPct: cal.fit.prefillErrorPct,
            decodeErrorPct: cal.fit.decodeErrorPct,
            notes: cal.fit.notes,
            prefill: cal.samples.prefill,
            decode: cal.samples.decode,
            elapsedMs: cal.elapsedMs,
          };
          return lastCalibration;
        } catch (err) {
          throw new AppError(
            'INTERNAL',
            signal.aborted ? 'calibration cancelled' : `calibration failed: ${errText(err)}`,
          );
        } finally {
          plannerProgress({ task: 'calibrate', message: 'done', fraction: 1, isFinished: true });
        }
      }),

    'planner:predict': (req) =>
      exclusivePlanner('prediction', async (signal) => {
        const model = req.model ?? lastCalibration?.model ?? deps.currentModel();
        if (model === null) {
          throw new AppError(
            'CONFIG_INVALID',
            'no model to plan for: name one, or start a worker first',
          );
        }
        const w = req.workload;
        if (
          !(w.requestRate != null && w.requestRate > 0) &&
          !(w.maxConcurrency != null && w.maxConcurrency >= 1)
        ) {
          throw new AppError(
            'INVALID_ARGUMENT',
            'the workload needs a request rate or a concurrency',
          );
        }
        try {
          const p = await predict({
            model,
            gpus: req.gpus,
            gpu: req.gpu ?? gpuForPlanning(),
            workload: { ...w, slos: slosOf(w.slos) ?? {} },
            maxLayouts: req.maxLayouts,
            durationS: req.durationS ?? 5,
            signal,
            onProgress: (e) =>
              plannerProgress({
                task: 'predict',
                message: e.phase === 'layout' ? `simulating ${e.label}` : e.label,
                fraction: e.fraction,
                isFinished: false,
              }),
          });
          const { results: _r, ...view } = p;
          return view;
        } catch (err) {
          throw new AppError(
            'INTERNAL',
            signal.aborted ? 'prediction cancelled' : `prediction failed: ${errText(err)}`,
          );
        } finally {
          plannerProgress({ task: 'predict', message: 'done', fraction: 1, isFinished: true });
        }
      }),

    'planner:cancel': () => {
      const was = plannerAbort !== null;
      plannerAbort?.abort();
      return Promise.resolve(was);
    },

    'planner:apply': async (layout) => {
      if (layout.kind === 'aggregated' || layout.contextWorkers < 1) {
        throw new AppError(
          'NOT_SUPPORTED',
          'the console runs disaggregated topologies; apply a layout with context and generation workers',
        );
      }
      return deps.applyLayout(layout);
    },

    'planner:check': (pred, workload: PlannerWorkload) =>
      exclusivePlanner('check', () =>
        exclusiveBench(async (signal) => {
          const model = deps.currentModel();
          if (model === null) {
            throw new AppError(
              'CONFIG_INVALID',
              'no running topology to check: apply the layout first',
            );
          }
          const durationS = 5;
          const numPrompts = promptsForWorkload(
            { model, gpu: gpuForPlanning(), workload: { ...workload, slos: {} } },
            durationS,
          );
          let result: BenchResult;
          try {
            result = await runBenchmark({
              baseUrl: deps.proxyUrl(),
              endpoint: '/v1/completions',
              model,
              dataset: {
                kind: 'random',
                inputLen: workload.inputLen,
                outputLen: workload.outputLen,
              },
              numPrompts,
              requestRate: workload.requestRate ?? Infinity,
              maxConcurrency: workload.maxConcurrency ?? null,
              shouldIgnoreEos: true,
              goodput: slosOf(workload.slos),
              shouldTestFirst: true,
              maxDurationMs: durationS * 1500,
              signal,
              onProgress: (p) =>
                plannerProgress({
                  task: 'check',
                  message: `load test ${p.done}/${p.total}`,
                  fraction: p.total > 0 ? p.done / p.total : 0,
                  isFinished: false,
                }),
            });
          } catch (err) {
            throw new AppError(
              'INTERNAL',
              signal.aborted ? 'check cancelled' : `the check's load test failed: ${errText(err)}`,
            );
          } finally {
            plannerProgress({ task: 'check', message: 'done', fraction: 1, isFinished: true });
          }
          const err = predictionError(pred, result);
          const saved = await store.save({
            name: `planner check: ${pred.label}`,
            topology: deps.topologyLabel(),
            steps: [{ step: null, result }],
          });
          return {
            label: pred.label,
            rows: err.rows,
            meanAbsErrorPct: err.meanAbsErrorPct,
            run: runView(saved),
          };
        }),
      ),
  };

  return {
    handlers,
    async dispose() {
      benchAbort?.abort();
      plannerAbort?.abort();
      const bounded = (p: Promise<unknown> | null): Promise<unknown> =>
        p === null
          ? Promise.resolve()
          : Promise.race([p, new Promise((r) => setTimeout(r, 5000).unref())]);
      await Promise.all([bounded(benchTask), bounded(plannerTask)]);
    },
  };
}

/** The simulated GPU's profile from a name such as "NVIDIA H100 80GB HBM3" (H100 when unknown). */
export function gpuProfileForName(name: string): GpuProfile {
  const lower = name.toLowerCase();
  for (const [id, profile] of Object.entries(GPU_PROFILES)) {
    if (lower.includes(id)) return profile;
  }
  return GPU_PROFILES.h100;
}
