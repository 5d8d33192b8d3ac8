// createAppStore(deps): the renderer's one store, built with zustand's vanilla createStore from slices, with
// the backend events wired once here (subscribe first, then pull snapshots: style-guide §3.3), and the
// liveness check: a cheap call every HEARTBEAT_MS; one that fails or takes longer than HEARTBEAT_TIMEOUT_MS
// marks the backend lost (the header says "disconnected", live numbers show as stale) and the first answer
// after that re-syncs every snapshot. Components never subscribe to the API themselves. Tests pass a fake
// api. Layer: renderer (no DOM).

import { createStore, type StoreApi } from 'zustand/vanilla';

import { describeError } from '../lib/error-text';
import { createBenchSlice } from './bench-slice';
import { createClusterSlice } from './cluster-slice';
import { createConfigSlice } from './config-slice';
import { createGpusSlice } from './gpus-slice';
import { createMetricsSlice } from './metrics-slice';
import { createPlaygroundSlice } from './playground-slice';
import { createProxyCostSlice } from './proxy-cost-slice';
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

/** Liveness: one cheap call this often; the header says "disconnected" within HEARTBEAT_MS + TIMEOUT. */
export const HEARTBEAT_MS = 1500;
export const HEARTBEAT_TIMEOUT_MS = 2000;
/** How long a re-sync after a reconnect waits for the event stream before taking snapshots anyway. */
export const RECONNECT_STREAM_WAIT_MS = 3000;

/** Resolves with the promise's outcome, or rejects once `ms` passed without one. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function createAppStore(deps: StoreDeps): AppStore {
  const store = createStore<AppState>()((set, get) => ({
    ...createUiSlice(set, get, deps),
    ...createClusterSlice(set, get, deps),
    ...createWorkersSlice(set, get, deps),
    ...createGpusSlice(set, get, deps),
    ...createConfigSlice(set, get, deps),
    ...createMetricsSlice(set, get, deps),
    ...createPlaygroundSlice(set, get, deps),
    ...createRequestsSlice(set, get, deps),
    ...createSettingsSlice(set, get, deps),
    ...createBenchSlice(set, get, deps),
    ...createProxyCostSlice(set, get, deps),
  }));
  const { api } = deps;
  const disposers: (() => void)[] = [];
  let timer: ReturnType<typeof setInterval> | null = null;
  let heartbeat: ReturnType<typeof setTimeout> | null = null;
  let isDisposed = false;
  const s = store.getState;

  /** Every snapshot the views need: the cluster mirror and the live data around it. */
  const loadAll = async (): Promise<void> => {
    await Promise.all([
      s().resyncCluster(),
      s().loadGpus(),
      s().loadHistory(),
      s().loadMetricsHistory(),
      s().loadRequests(),
      s().loadProxy(),
      s().loadClusterStatus(),
    ]);
  };

  /** Back after a loss: wait (bounded) for the event stream to be live again, then take every snapshot. */
  const recover = async (): Promise<void> => {
    await withTimeout(api.whenConnected(), RECONNECT_STREAM_WAIT_MS, 'the event stream').catch(
      () => undefined, // A later gap or epoch change in the events re-syncs the mirror again.
    );
    await loadAll();
    if (!isDisposed) store.setState({ connection: 'ok', connectionError: null });
  };

  const beat = async (): Promise<void> => {
    try {
      await withTimeout(api.invoke('proxy:info'), HEARTBEAT_TIMEOUT_MS, 'the console backend');
      if (s().connection === 'lost') await recover();
    } catch (err) {
      if (s().connection === 'ok') {
        store.setState({ connection: 'lost', connectionError: describeError(err) });
      }
    }
  };

  const scheduleBeat = (): void => {
    if (isDisposed) return;
    heartbeat = setTimeout(() => {
      void beat().finally(scheduleBeat);
    }, HEARTBEAT_MS);
  };

  const start = async (): Promise<void> => {
    disposers.push(
      api.on('cluster:changed', (ev) => s().applyClusterEvent(ev)),
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
    await loadAll();
    const failed = s().clusterError ?? (s().gpusError ? s().gpusError : null);
    store.setState(
      failed
        ? { connection: 'error', connectionError: failed }
        : { connection: 'ok', connectionError: null },
    );
    timer = setInterval(() => {
      if (s().connection === 'ok') void s().refreshIteration();
    }, ITERATION_REFRESH_MS);
    scheduleBeat();
  };

  return {
    store,
    start,
    dispose: () => {
      isDisposed = true;
      for (const d of disposers.splice(0)) d();
      if (timer !== null) clearInterval(timer);
      if (heartbeat !== null) clearTimeout(heartbeat);
      timer = null;
      heartbeat = null;
      store.getState().stopPrompt();
    },
  };
}
