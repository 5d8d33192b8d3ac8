// createAppStore(deps): the renderer's one store, built with zustand's vanilla createStore from slices, with
// the backend events wired once here (subscribe first, then pull snapshots: style-guide §3.3). Components
// never subscribe to the API themselves. Tests pass a fake api. Layer: renderer (no DOM).

import { createStore, type StoreApi } from 'zustand/vanilla';

import { describeError } from '../lib/error-text';
import { createBenchSlice } from './bench-slice';
import { createConfigSlice } from './config-slice';
import { createGpusSlice } from './gpus-slice';
import { createMetricsSlice } from './metrics-slice';
import { createPlaygroundSlice } from './playground-slice';
import { createRequestsSlice } from './requests-slice';
import { createSettingsSlice } from './settings-slice';
import type { AppState, StoreDeps } from './store-types';
import { createUiSlice } from './ui-slice';
import { createWorkersSlice } from './workers-slice';

/** The store plus what starts and stops its wiring. */
export interface AppStore {
  store: StoreApi<AppState>;
  /** Subscribes to events, then loads every snapshot; resolves when the first load is done. */
  start(): Promise<void>;
  /** Unsubscribes from events and stops timers. */
  dispose(): void;
}

/** How often iteration stats (queue depth, KV usage) are pulled, and crashed workers' logs refreshed. */
export const ITERATION_REFRESH_MS = 5000;

export function createAppStore(deps: StoreDeps): AppStore {
  const store = createStore<AppState>()((set, get) => ({
    ...createUiSlice(set, get, deps),
    ...createWorkersSlice(set, get, deps),
    ...createGpusSlice(set, get, deps),
    ...createConfigSlice(set, get, deps),
    ...createMetricsSlice(set, get, deps),
    ...createPlaygroundSlice(set, get, deps),
    ...createRequestsSlice(set, get, deps),
    ...createSettingsSlice(set, get, deps),
    ...createBenchSlice(set, get, deps),
  }));
  const { api } = deps;
  const disposers: (() => void)[] = [];
  let timer: ReturnType<typeof setInterval> | null = null;

  const start = async (): Promise<void> => {
    const s = store.getState;
    disposers.push(
      api.on('workers:statusChanged', (view) => {
        const before = s().workers[view.id];
        s().applyWorkerView(view);
        const crashed = view.status.state === 'errored' || view.status.state === 'backoff';
        if (crashed && before && before.status.state !== view.status.state) {
          const exit = view.status.lastExit;
          const why = exit
            ? (exit.reason ??
              (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? '?'}`))
            : (view.status.message ?? 'unknown reason');
          s().notify('error', `${view.id} crashed (${why}). Open its logs to see the last lines.`);
        }
      }),
      api.on('gpus:sampled', (ev) => s().applyGpuSamples(ev.samples, ev.atMs)),
      api.on('metrics:tick', (tick) => s().applyTick(tick.overall, tick.perWorker)),
      api.on('requests:recorded', (ev) => s().applyRequestsRecorded(ev)),
      api.on('logs:appended', (ev) => s().appendLogs(ev.workerId, ev.lines)),
      api.on('topology:applied', () => {
        void s().loadHistory();
      }),
      api.on('bench:progressed', (ev) => s().applyBenchProgress(ev)),
      api.on('planner:progressed', (ev) => s().applyPlannerProgress(ev)),
    );
    try {
      await api.whenConnected();
    } catch (err) {
      store.setState({ connection: 'error', connectionError: describeError(err) });
      return;
    }
    await Promise.all([
      s().loadWorkers(),
      s().loadGpus(),
      s().loadTopology(),
      s().loadMetricsHistory(),
      s().loadRequests(),
      s().loadProxy(),
      s().loadClusterStatus(),
    ]);
    const failed = s().workersError ?? (s().gpusError && s().topologyError ? s().gpusError : null);
    store.setState(
      failed
        ? { connection: 'error', connectionError: failed }
        : { connection: 'ok', connectionError: null },
    );
    timer = setInterval(() => {
      void s().refreshIteration();
    }, ITERATION_REFRESH_MS);
  };

  return {
    store,
    start,
    dispose: () => {
      for (const d of disposers.splice(0)) d();
      if (timer !== null) clearInterval(timer);
      timer = null;
      store.getState().stopPrompt();
    },
  };
}
