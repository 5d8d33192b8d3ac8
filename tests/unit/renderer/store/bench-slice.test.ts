// The Benchmark view's store slice against a fake API (real in-memory transport, so validation and error
// envelopes are real): sweeps with progress events, BUSY errors, saved runs, comparison, CSV, and the
// planner's calibrate -> predict -> apply -> check flow.
import { describe, expect, it } from 'vitest';

import { createAppStore } from '../../../../renderer/store/create-app-store';
import type {
  BenchRunOutcome,
  BenchSweepRequest,
  PlannerLayoutPrediction,
  PlannerPrediction,
} from '../../../../shared/model/bench';
import { AppError, createFakeApi } from './fake-api';

const REQUEST: BenchSweepRequest = {
  endpoint: '/v1/completions',
  isStreaming: true,
  inputLen: 64,
  outputLen: 8,
  numPrompts: 4,
  sweep: { kind: 'concurrency', values: [1, 2] },
};

function result(throughput: number) {
  return {
    date: '20261124-000000',
    model_id: 'tiny',
    base_url: 'http://127.0.0.1:8000',
    endpoint: '/v1/completions' as const,
    num_prompts: 4,
    request_rate: 'inf' as const,
    max_concurrency: 1,
    streaming: true,
    duration: 1,
    completed: 4,
    failed: 0,
    total_input_tokens: 256,
    total_output_tokens: 32,
    request_throughput: 4,
    request_goodput: null,
    output_throughput: throughput,
    total_token_throughput: 288,
    error_counts: {},
    median_ttft_ms: 10,
    p99_ttft_ms: 20,
  };
}

const OUTCOME: BenchRunOutcome = {
  run: {
    id: 'run-1',
    name: 'sweep',
    createdAtMs: 1,
    topology: '1 ctx + 1 gen (simulated)',
    steps: [
      { step: { kind: 'concurrency', value: 1 }, result: result(30) },
      { step: { kind: 'concurrency', value: 2 }, result: result(50) },
    ],
  },
  points: [],
  wasCancelled: false,
};

const PRED: PlannerLayoutPrediction = {
  layout: { kind: 'disaggregated', contextWorkers: 1, generationWorkers: 1, gpus: 2 },
  label: '1 ctx + 1 gen',
  completed: 10,
  failed: 0,
  requestThroughput: 2,
  goodput: null,
  goodputFraction: null,
  meanTtftMs: 10,
  p99TtftMs: 20,
  meanTpotMs: 5,
  p99TpotMs: 6,
  outputTokensPerSec: 100,
  outputTokensPerSecPerGpu: 50,
  goodputPerGpu: null,
};

const PREDICTION: PlannerPrediction = {
  model: 'tiny',
  gpuName: 'H100',
  gpus: 2,
  workload: { inputLen: 64, outputLen: 8, maxConcurrency: 2, slos: {} },
  layouts: [PRED],
  recommended: { index: 0, reason: 'most tokens' },
  elapsedMs: 10,
};

function setup(extra: Parameters<typeof createFakeApi>[0] = {}) {
  const fake = createFakeApi({
    'bench:list': () =>
      Promise.resolve([
        {
          id: 'run-1',
          name: 'sweep',
          createdAtMs: 1,
          topology: null,
          stepCount: 2,
          bestOutputThroughput: 50,
        },
      ]),
    ...extra,
  });
  const app = createAppStore({ api: fake.client, now: () => 0, fetch: null });
  return { fake, store: app.store, app };
}

describe('bench slice', () => {
  it('runs a sweep: running flag, progress events applied, outcome shown, runs reloaded', async () => {
    let release: (v: BenchRunOutcome) => void = () => undefined;
    const { fake, store, app } = setup({
      'bench:sweep': () => new Promise<BenchRunOutcome>((r) => (release = r)),
    });
    await app.start();
    const pending = store.getState().runBenchSweep(REQUEST);
    expect(store.getState().isBenchRunning).toBe(true);
    fake.emit('bench:progressed', {
      stepIndex: 0,
      stepCount: 2,
      stepValue: 1,
      done: 2,
      failed: 0,
      total: 4,
      elapsedMs: 100,
      isFinished: false,
    });
    expect(store.getState().benchProgress?.done).toBe(2);
    fake.emit('bench:progressed', {
      stepIndex: 2,
      stepCount: 2,
      stepValue: null,
      done: 0,
      failed: 0,
      total: 0,
      elapsedMs: 0,
      isFinished: true,
    });
    expect(store.getState().benchProgress).toBeNull();
    await Promise.resolve();
    release(OUTCOME);
    expect(await pending).toEqual(OUTCOME);
    const s = store.getState();
    expect(s.isBenchRunning).toBe(false);
    expect(s.benchCurrent?.run.id).toBe('run-1');
    expect(s.benchRuns.map((r) => r.id)).toEqual(['run-1']);
    expect(s.toasts.at(-1)?.text).toContain('Saved run "sweep"');
    expect(fake.calls.find((c) => c.channel === 'bench:sweep')?.args[0]).toEqual(REQUEST);
    app.dispose();
  });

  it('a single concurrency step goes through bench:run with that concurrency', async () => {
    const { fake, store } = setup({ 'bench:run': () => Promise.resolve(OUTCOME) });
    await store
      .getState()
      .runBenchSweep({ ...REQUEST, sweep: { kind: 'concurrency', values: [3] } });
    const call = fake.calls.find((c) => c.channel === 'bench:run');
    expect(call?.args[0]).toMatchObject({ maxConcurrency: 3, numPrompts: 4 });
    expect(call?.args[0]).not.toHaveProperty('sweep');
  });

  it('keeps a BUSY error as the form error and clears the running flag', async () => {
    const { store } = setup({
      'bench:sweep': () =>
        Promise.reject(
          new AppError('BUSY', 'a load test is already running; wait for it or cancel it'),
        ),
    });
    expect(await store.getState().runBenchSweep(REQUEST)).toBeNull();
    expect(store.getState().benchError).toContain('already running');
    expect(store.getState().isBenchRunning).toBe(false);
  });

  it('compares two runs, exports CSV, and deleting a compared run closes the comparison', async () => {
    const rows = [
      {
        stepValue: 1,
        metric: 'output_throughput',
        label: 'Output tokens/s',
        a: 30,
        b: 50,
        delta: 20,
        deltaPct: 66.7,
        better: 'b' as const,
      },
    ];
    const { fake, store } = setup({
      'bench:compare': () => Promise.resolve(rows),
      'bench:csv': () => Promise.resolve('step_kind,step_value\n'),
      'bench:delete': () => Promise.resolve(),
    });
    await store.getState().compareBenchRuns('run-1', 'run-2');
    expect(store.getState().benchComparison).toEqual({ idA: 'run-1', idB: 'run-2', rows });
    expect(await store.getState().benchCsv('run-1')).toBe('step_kind,step_value\n');
    await store.getState().deleteBenchRun('run-2');
    expect(store.getState().benchComparison).toBeNull();
    expect(fake.calls.filter((c) => c.channel === 'bench:list')).toHaveLength(1);
  });

  it('a bad run id never reaches the backend (validator) and shows a toast', async () => {
    const { fake, store } = setup({ 'bench:get': () => Promise.resolve(OUTCOME) });
    await store.getState().openBenchRun('../etc');
    expect(fake.calls.some((c) => c.channel === 'bench:get')).toBe(false);
    expect(store.getState().toasts.at(-1)?.kind).toBe('error');
  });

  it('planner: predict, apply the chosen layout, then check it against a load test', async () => {
    const { fake, store } = setup({
      'planner:predict': () => Promise.resolve(PREDICTION),
      'planner:apply': () =>
        Promise.resolve({
          version: 4,
          plan: { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false },
          warnings: [],
        }),
      'planner:check': () =>
        Promise.resolve({
          label: '1 ctx + 1 gen',
          rows: [{ metric: 'requests/s', predicted: 2, measured: 2.5, errorPct: -20 }],
          meanAbsErrorPct: 20,
          run: OUTCOME.run,
        }),
    });
    await store.getState().checkPlanner();
    expect(store.getState().plannerError).toContain('apply a predicted layout first');
    await store.getState().predict({ workload: PREDICTION.workload, gpus: 2 });
    expect(store.getState().prediction?.recommended.index).toBe(0);
    await store.getState().applyLayout(PRED);
    expect(fake.calls.find((c) => c.channel === 'planner:apply')?.args[0]).toEqual(PRED.layout);
    expect(store.getState().plannerApplied).toEqual(PRED);
    await store.getState().checkPlanner();
    const s = store.getState();
    expect(s.plannerError).toBeNull();
    expect(s.plannerTask).toBeNull();
    expect(s.plannerCheck?.meanAbsErrorPct).toBe(20);
    expect(fake.calls.find((c) => c.channel === 'planner:check')?.args).toEqual([
      PRED,
      PREDICTION.workload,
    ]);
  });

  it('planner errors land in plannerError and progress events are applied', async () => {
    const { fake, store, app } = setup({
      'planner:calibrate': () =>
        Promise.reject(new AppError('CONFIG_INVALID', 'no running worker to measure')),
    });
    await app.start();
    fake.emit('planner:progressed', {
      task: 'calibrate',
      message: 'prefill 512',
      fraction: 0.5,
      isFinished: false,
    });
    expect(store.getState().plannerProgress?.fraction).toBe(0.5);
    await store.getState().calibrate({});
    expect(store.getState().plannerError).toContain('no running worker');
    expect(store.getState().calibration).toBeNull();
    app.dispose();
  });
});
