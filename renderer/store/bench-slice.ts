// The Benchmark view's state (features B1, B2): load-test sweeps with live progress, saved runs, two runs
// compared, CSV export; the planner's calibration, prediction, apply and check. Every action calls the
// `bench:*` / `planner:*` channels; progress arrives as events wired in create-app-store. Layer: renderer.

import type {
  BenchComparisonRow,
  BenchProgressedEvent,
  BenchRunOutcome,
  BenchRunSummary,
  BenchSweepRequest,
  PlannerCalibrateRequest,
  PlannerCalibration,
  PlannerCheckResult,
  PlannerLayoutPrediction,
  PlannerPrediction,
  PlannerPredictRequest,
  PlannerProgressedEvent,
} from '../../shared/model/bench';
import { describeError, errorCode } from '../lib/error-text';
import type { SliceCreator } from './store-types';

/** What the planner is doing right now. */
export type PlannerTask = 'calibrate' | 'predict' | 'apply' | 'check';

export interface BenchSlice {
  benchRuns: BenchRunSummary[];
  benchRunsLoaded: boolean;
  benchRunsError: string | null;
  isBenchRunning: boolean;
  benchProgress: BenchProgressedEvent | null;
  benchError: string | null;
  /** The run shown in the chart: the one just finished, or one opened from the list. */
  benchCurrent: BenchRunOutcome | null;
  benchComparison: { idA: string; idB: string; rows: BenchComparisonRow[] } | null;
  plannerTask: PlannerTask | null;
  plannerProgress: PlannerProgressedEvent | null;
  plannerError: string | null;
  calibration: PlannerCalibration | null;
  prediction: PlannerPrediction | null;
  /** The layout applied last (what a check compares against). */
  plannerApplied: PlannerLayoutPrediction | null;
  plannerCheck: PlannerCheckResult | null;
  loadBenchRuns: () => Promise<void>;
  /** Runs a sweep (one step = a single run); resolves with the outcome, null on failure (in benchError). */
  runBenchSweep: (request: BenchSweepRequest) => Promise<BenchRunOutcome | null>;
  cancelBench: () => Promise<void>;
  applyBenchProgress: (event: BenchProgressedEvent) => void;
  openBenchRun: (id: string) => Promise<void>;
  deleteBenchRun: (id: string) => Promise<void>;
  compareBenchRuns: (idA: string, idB: string) => Promise<void>;
  closeComparison: () => void;
  /** The run as CSV text, null on failure (toast). */
  benchCsv: (id: string) => Promise<string | null>;
  calibrate: (request: PlannerCalibrateRequest) => Promise<void>;
  predict: (request: PlannerPredictRequest) => Promise<void>;
  cancelPlanner: () => Promise<void>;
  applyLayout: (prediction: PlannerLayoutPrediction) => Promise<void>;
  checkPlanner: () => Promise<void>;
  applyPlannerProgress: (event: PlannerProgressedEvent) => void;
}

/** A message that says what to do next for the errors a user can fix. */
function benchErrorText(err: unknown): string {
  if (errorCode(err) === 'BUSY') return `${describeError(err)}.`;
  return describeError(err);
}

export const createBenchSlice: SliceCreator<BenchSlice> = (set, get, { api }) => {
  const plannerRun = async (task: PlannerTask, fn: () => Promise<void>): Promise<void> => {
    set({ plannerTask: task, plannerError: null, plannerProgress: null });
    try {
      await fn();
    } catch (err) {
      set({ plannerError: benchErrorText(err) });
    } finally {
      set({ plannerTask: null });
    }
  };
  return {
    benchRuns: [],
    benchRunsLoaded: false,
    benchRunsError: null,
    isBenchRunning: false,
    benchProgress: null,
    benchError: null,
    benchCurrent: null,
    benchComparison: null,
    plannerTask: null,
    plannerProgress: null,
    plannerError: null,
    calibration: null,
    prediction: null,
    plannerApplied: null,
    plannerCheck: null,

    loadBenchRuns: async () => {
      try {
        set({
          benchRuns: await api.invoke('bench:list'),
          benchRunsLoaded: true,
          benchRunsError: null,
        });
      } catch (err) {
        set({ benchRunsLoaded: true, benchRunsError: describeError(err) });
      }
    },
    runBenchSweep: async (request) => {
      set({ isBenchRunning: true, benchError: null, benchProgress: null });
      try {
        const outcome =
          request.sweep.values.length === 1 && request.sweep.kind === 'concurrency'
            ? await api.invoke('bench:run', {
                ...withoutSweep(request),
                maxConcurrency: request.sweep.values[0],
              })
            : await api.invoke('bench:sweep', request);
        set({ benchCurrent: outcome });
        get().notify(
          outcome.wasCancelled ? 'info' : 'success',
          outcome.wasCancelled
            ? `Cancelled; ${outcome.run.steps.length} finished step(s) saved`
            : `Saved run "${outcome.run.name}"`,
        );
        await get().loadBenchRuns();
        return outcome;
      } catch (err) {
        set({ benchError: benchErrorText(err) });
        return null;
      } finally {
        set({ isBenchRunning: false });
      }
    },
    cancelBench: async () => {
      try {
        await api.invoke('bench:cancel');
      } catch (err) {
        get().notify('error', `Cancel failed: ${describeError(err)}`);
      }
    },
    applyBenchProgress: (event) => set({ benchProgress: event.isFinished ? null : event }),
    openBenchRun: async (id) => {
      try {
        set({ benchCurrent: await api.invoke('bench:get', id), benchError: null });
      } catch (err) {
        get().notify('error', `Cannot open the run: ${describeError(err)}`);
      }
    },
    deleteBenchRun: async (id) => {
      try {
        await api.invoke('bench:delete', id);
        if (get().benchCurrent?.run.id === id) set({ benchCurrent: null });
        const c = get().benchComparison;
        if (c && (c.idA === id || c.idB === id)) set({ benchComparison: null });
        await get().loadBenchRuns();
      } catch (err) {
        get().notify('error', `Delete failed: ${describeError(err)}`);
      }
    },
    compareBenchRuns: async (idA, idB) => {
      try {
        set({ benchComparison: { idA, idB, rows: await api.invoke('bench:compare', idA, idB) } });
      } catch (err) {
        get().notify('error', `Compare failed: ${describeError(err)}`);
      }
    },
    closeComparison: () => set({ benchComparison: null }),
    benchCsv: async (id) => {
      try {
        return await api.invoke('bench:csv', id);
      } catch (err) {
        get().notify('error', `Export failed: ${describeError(err)}`);
        return null;
      }
    },

    calibrate: (request) =>
      plannerRun('calibrate', async () => {
        set({ calibration: await api.invoke('planner:calibrate', request) });
      }),
    predict: (request) =>
      plannerRun('predict', async () => {
        set({ prediction: await api.invoke('planner:predict', request), plannerCheck: null });
      }),
    cancelPlanner: async () => {
      try {
        await api.invoke('planner:cancel');
      } catch (err) {
        get().notify('error', `Cancel failed: ${describeError(err)}`);
      }
    },
    applyLayout: (prediction) =>
      plannerRun('apply', async () => {
        const result = await api.invoke('planner:apply', prediction.layout);
        set({ plannerApplied: prediction, plannerCheck: null });
        get().notify('success', `Applied ${prediction.label} as version ${result.version}`);
      }),
    checkPlanner: () =>
      plannerRun('check', async () => {
        const applied = get().plannerApplied;
        const workload = get().prediction?.workload;
        if (!applied || !workload) throw new Error('apply a predicted layout first, then check it');
        set({ plannerCheck: await api.invoke('planner:check', applied, workload) });
        await get().loadBenchRuns();
      }),
    applyPlannerProgress: (event) => set({ plannerProgress: event.isFinished ? null : event }),
  };
};

function withoutSweep(r: BenchSweepRequest): Omit<BenchSweepRequest, 'sweep'> {
  const { sweep: _sweep, ...rest } = r;
  return rest;
}
