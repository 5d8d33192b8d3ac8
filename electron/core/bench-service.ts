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

/** One task at a time, cancellable, bounded by MAX_RUN_MS; a second while one runs is BUSY. */
class ExclusiveTask {
  private abort: AbortController | null = null;
  private task: Promise<unknown> | null = null;

  run<T>(busyMessage: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.abort) return Promise.reject(new AppError('BUSY', busyMessage));
    const abort = new AbortController();
    this.abort = abort;
    const timer = setTimeout(() => abort.abort(), MAX_RUN_MS);
    const task = fn(abort.signal).finally(() => {
      clearTimeout(timer);
      this.abort = null;
      this.task = null;
    });
    this.task = task.catch(() => undefined);
    return task;
  }

  /** Aborts the running task; says whether one ran. */
  cancel(): boolean {
    const wasRunning = this.abort !== null;
    this.abort?.abort();
    return wasRunning;
  }

  /** Resolves when the running task has ended, or after `maxWaitMs`. */
  settled(maxWaitMs: number): Promise<unknown> {
    if (this.task === null) return Promise.resolve();
    return Promise.race([this.task, new Promise((r) => setTimeout(r, maxWaitMs).unref())]);
  }
}

/** A console load test's options: the request's choices over the running topology's defaults. */
function benchOptionsFor(
  deps: BenchServiceDeps,
  r: BenchRunRequest,
  signal: AbortSignal,
  onProgress: (p: LoadProgress) => void,
): BenchOptions {
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
}

type PlannerProgress = (e: PlannerProgressedEvent) => void;

function plannerProgressOf(deps: BenchServiceDeps): PlannerProgress {
  return (e) => deps.emit('planner:progressed', e);
}

/** One planner task's work: a failure says what failed (or that it was cancelled); 'done' is always sent. */
async function plannerStep<T>(
  progress: PlannerProgress,
  what: { task: PlannerProgressedEvent['task']; cancelled: string; failed: string },
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new AppError(
      'INTERNAL',
      signal.aborted ? what.cancelled : `${what.failed}: ${errText(err)}`,
    );
  } finally {
    progress({ task: what.task, message: 'done', fraction: 1, isFinished: true });
  }
}

/** Measures a running worker (prefill and decode at a few lengths and batch sizes) and fits the GPU model. */
async function calibrateFor(
  deps: BenchServiceDeps,
  req: Parameters<BenchHandlers['planner:calibrate']>[0],
  signal: AbortSignal,
): Promise<PlannerCalibration> {
  const progress = plannerProgressOf(deps);
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
  const { url, model } = target;
  const isThorough = req.depth === 'thorough';
  return plannerStep(
    progress,
    { task: 'calibrate', cancelled: 'calibration cancelled', failed: 'calibration failed' },
    signal,
    async () => {
      const cal = await calibrate({
        baseUrl: url,
        model,
        baseGpu: deps.defaultGpu(),
        // Short keeps the core's lengths and batch sizes (three points fit better than two) with fewer repeats.
        inputLens: [128, 512, 2048],
        batchSizes: [1, 8, 32],
        decodeTokens: isThorough ? 48 : 32,
        repeats: isThorough ? 3 : 2,
        signal,
        onProgress: (p) =>
          progress({
            task: 'calibrate',
            message: p.message,
            fraction: p.step / p.steps,
            isFinished: false,
          }),
      });
      return {
        model,
        baseUrl: url,
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
    },
  );
}

/** Simulates the workload on the layouts that fit the GPUs and ranks them. */
async function predictFor(
  deps: BenchServiceDeps,
  req: Parameters<BenchHandlers['planner:predict']>[0],
  signal: AbortSignal,
  { model, gpu }: { model: string | null; gpu: GpuProfile },
): ReturnType<BenchHandlers['planner:predict']> {
  const progress = plannerProgressOf(deps);
  if (model === null) {
    throw new AppError('CONFIG_INVALID', 'no model to plan for: name one, or start a worker first');
  }
  const w = req.workload;
  if (
    !(w.requestRate != null && w.requestRate > 0) &&
    !(w.maxConcurrency != null && w.maxConcurrency >= 1)
  ) {
    throw new AppError('INVALID_ARGUMENT', 'the workload needs a request rate or a concurrency');
  }
  return plannerStep(
    progress,
    { task: 'predict', cancelled: 'prediction cancelled', failed: 'prediction failed' },
    signal,
    async () => {
      const p = await predict({
        model,
        gpus: req.gpus,
        gpu,
        workload: { ...w, slos: slosOf(w.slos) ?? {} },
        maxLayouts: req.maxLayouts,
        durationS: req.durationS ?? 5,
        signal,
        onProgress: (e) =>
          progress({
            task: 'predict',
            message: e.phase === 'layout' ? `simulating ${e.label}` : e.label,
            fraction: e.fraction,
            isFinished: false,
          }),
      });
      const { results: _r, ...view } = p;
      return view;
    },
  );
}

/** Runs the predicted workload against the applied topology and compares the result with the prediction. */
async function checkPrediction(
  { deps, store, gpu }: { deps: BenchServiceDeps; store: RunStore; gpu: GpuProfile },
  pred: Parameters<BenchHandlers['planner:check']>[0],
  workload: PlannerWorkload,
  signal: AbortSignal,
): ReturnType<BenchHandlers['planner:check']> {
  const progress = plannerProgressOf(deps);
  const model = deps.currentModel();
  if (model === null) {
    throw new AppError('CONFIG_INVALID', 'no running topology to check: apply the layout first');
  }
  const durationS = 5;
  const numPrompts = promptsForWorkload(
    { model, gpu, workload: { ...workload, slos: {} } },
    durationS,
  );
  const result = await plannerStep(
    progress,
    { task: 'check', cancelled: 'check cancelled', failed: "the check's load test failed" },
    signal,
    () =>
      runBenchmark({
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
          progress({
            task: 'check',
            message: `load test ${p.done}/${p.total}`,
            fraction: p.total > 0 ? p.done / p.total : 0,
            isFinished: false,
          }),
      }),
  );
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
}

/** Runs the steps, saves what finished, and emits progress; cancelled runs keep their finished steps. */
async function runLoadTest(
  { deps, store, interval }: { deps: BenchServiceDeps; store: RunStore; interval: number },
  r: BenchRunRequest,
  sweep: BenchSweepRequest['sweep'] | null,
  signal: AbortSignal,
): Promise<BenchRunOutcome> {
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
  const o = benchOptionsFor(deps, r, signal, onProgress);
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
}

/** The bench and planner handlers. */
export function createBenchService(deps: BenchServiceDeps): BenchService {
  const store = new RunStore(join(deps.dataDir, 'bench-runs'));
  const interval = deps.progressIntervalMs ?? 250;
  const bench = new ExclusiveTask();
  const planner = new ExclusiveTask();
  let lastCalibration: PlannerCalibration | null = null;

  /** Runs `fn` as the one load test; a second at the same time is BUSY. */
  const exclusiveBench = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    bench.run('a load test is already running; wait for it or cancel it', fn);
  const exclusivePlanner = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    planner.run(`the planner is busy; wait for it or cancel it before the ${what}`, fn);

  const runSteps = (
    r: BenchRunRequest,
    sweep: BenchSweepRequest['sweep'] | null,
  ): Promise<BenchRunOutcome> =>
    exclusiveBench((signal) => runLoadTest({ deps, store, interval }, r, sweep, signal));

  const load = async (id: string): Promise<SavedRun> => {
    try {
      return await store.load(id);
    } catch (err) {
      throw new AppError('NOT_FOUND', errText(err), { id });
    }
  };

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
      return Promise.resolve(bench.cancel());
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
        lastCalibration = await calibrateFor(deps, req, signal);
        return lastCalibration;
      }),

    'planner:predict': (req) =>
      exclusivePlanner('prediction', (signal) =>
        predictFor(deps, req, signal, {
          model: req.model ?? lastCalibration?.model ?? deps.currentModel(),
          gpu: req.gpu ?? gpuForPlanning(),
        }),
      ),

    'planner:cancel': () => {
      return Promise.resolve(planner.cancel());
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
        exclusiveBench((signal) =>
          checkPrediction({ deps, store, gpu: gpuForPlanning() }, pred, workload, signal),
        ),
      ),
  };

  return {
    handlers,
    async dispose() {
      bench.cancel();
      planner.cancel();
      await Promise.all([bench.settled(5000), planner.settled(5000)]);
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
