// Workers (features C2-C6): the list from workers:list kept current by workers:statusChanged (full status,
// so applying an event is idempotent), add with pre-flight, restart/stop/safe removal, presets, logs with
// live appends, and the cluster status with remote workers. Layer: renderer.

import type { LogLine } from '../../shared/model/logs';
import type { WorkerView } from '../../shared/model/worker-view';
import { filesWithWorker, newWorkerIndex } from '../lib/add-worker-files';
import { describeError, errorCode } from '../lib/error-text';
import { nextWorkerName, planPreset, workerOptionsTemplate } from '../lib/worker-templates';
import { selectFreeGpus } from './selectors';
import type { SliceCreator, WorkersSlice } from './store-types';

/** Log lines kept per worker in the panel. */
export const MAX_LOG_LINES = 5000;

/** Merges log lines by seq (a snapshot and live appends may overlap), oldest first, bounded. */
export function mergeLogLines(
  current: readonly LogLine[],
  incoming: readonly LogLine[],
): LogLine[] {
  if (incoming.length === 0) return current as LogLine[];
  const lastSeq = current.length > 0 ? current[current.length - 1]!.seq : -Infinity;
  let merged: LogLine[];
  if (incoming.every((l) => l.seq > lastSeq)) merged = [...current, ...incoming];
  else {
    const bySeq = new Map<number, LogLine>();
    for (const l of current) bySeq.set(l.seq, l);
    for (const l of incoming) bySeq.set(l.seq, l);
    merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  return merged.length > MAX_LOG_LINES ? merged.slice(merged.length - MAX_LOG_LINES) : merged;
}

export const createWorkersSlice: SliceCreator<WorkersSlice> = (set, get, { api }) => {
  // Ids removed by the user: a late status event must not bring them back.
  const removed = new Set<string>();

  const busy = (id: string, what: string | null): void => {
    const next = { ...get().workerBusy };
    if (what === null) delete next[id];
    else next[id] = what;
    set({ workerBusy: next });
  };

  const withBusy = async (id: string, what: string, run: () => Promise<void>): Promise<void> => {
    busy(id, what);
    try {
      await run();
    } catch (err) {
      get().notify('error', `${id}: ${describeError(err)}`);
      if (errorCode(err) === 'WORKER_NOT_FOUND') await get().loadWorkers();
    } finally {
      busy(id, null);
    }
  };

  /** A restart or stop answers the worker's new status: shown at once, before its status event. */
  const applyStatus = (id: string, status: WorkerView['status']): void => {
    const view = get().workers[id];
    if (view) get().applyWorkerView({ ...view, status });
  };

  return {
    workers: {},
    workersLoaded: false,
    workersError: null,
    workerBusy: {},
    clusterStatus: null,
    logs: {},
    loadWorkers: async () => {
      try {
        const list = await api.invoke('workers:list');
        const workers: Record<string, WorkerView> = {};
        for (const w of list) workers[w.id] = w;
        set({ workers, workersLoaded: true, workersError: null });
      } catch (err) {
        set({ workersError: describeError(err), workersLoaded: true });
      }
    },
    loadClusterStatus: async () => {
      try {
        set({ clusterStatus: await api.invoke('cluster:status') });
      } catch {
        set({ clusterStatus: null }); // Cluster status is optional: static mode has nothing to show.
      }
    },
    applyWorkerView: (view) => {
      if (removed.has(view.id)) return;
      set({ workers: { ...get().workers, [view.id]: view } });
    },
    preflightWorker: async (request) => {
      try {
        const topology = get().topology ?? (await api.invoke('topology:get'));
        if (!get().topology) set({ topology, drafts: { ...topology.files } });
        const id = request.id ?? nextWorkerName(request.role, Object.keys(get().workers));
        const files = filesWithWorker(
          topology.files,
          { ...request, id },
          request.optionsYaml ?? workerOptionsTemplate(request.role),
        );
        const report = await api.invoke('topology:validate', files);
        if (request.port !== undefined) return report;
        // The port was left blank: the backend picks a free one, so problems with the placeholder do not count.
        const portPath = `workers[${newWorkerIndex(topology.files)}].port`;
        const issues = report.issues.filter(
          (i) => !(i.file === 'console.yaml' && i.path === portPath),
        );
        return { ok: !issues.some((i) => i.severity === 'error'), issues };
      } catch (err) {
        get().notify('error', `Pre-flight did not run: ${describeError(err)}`);
        return null;
      }
    },
    addWorker: async (request) => {
      try {
        if (request.id) removed.delete(request.id);
        const view = await api.invoke('workers:add', request);
        removed.delete(view.id);
        get().applyWorkerView(view);
        get().notify('info', `${view.id} is starting on GPU ${request.gpus.join(', ')}`);
        return view;
      } catch (err) {
        get().notify('error', `Could not add the worker: ${describeError(err)}`);
        return null;
      }
    },
    restartWorker: (id) =>
      withBusy(id, 'restarting', async () => {
        applyStatus(id, await api.invoke('workers:restart', id));
      }),
    stopWorker: (id) =>
      withBusy(id, 'stopping', async () => {
        applyStatus(id, await api.invoke('workers:stop', id));
      }),
    removeWorker: async (id) => {
      let ok = false;
      await withBusy(id, 'removing', async () => {
        await api.invoke('workers:remove', id);
        removed.add(id);
        const workers = { ...get().workers };
        delete workers[id];
        const logs = { ...get().logs };
        delete logs[id];
        set({ workers, logs, logsWorkerId: get().logsWorkerId === id ? null : get().logsWorkerId });
        get().notify('success', `${id} removed: drained, deregistered and stopped`);
        ok = true;
      });
      return ok;
    },
    runPreset: async (preset, model, engine) => {
      const plan = planPreset(preset, selectFreeGpus(get()));
      if (!plan) {
        get().notify(
          'error',
          `Preset ${preset} needs more free GPUs than there are. Remove a worker or pick a smaller preset.`,
        );
        return;
      }
      for (const step of plan) {
        const id = nextWorkerName(step.role, Object.keys(get().workers));
        const view = await get().addWorker({ id, role: step.role, gpus: step.gpus, model, engine });
        if (!view) return;
      }
    },
    loadLogs: async (id) => {
      try {
        const lines = await api.invoke('workers:logs', id, { tail: 2000 });
        set({ logs: { ...get().logs, [id]: mergeLogLines(get().logs[id] ?? [], lines) } });
      } catch (err) {
        get().notify('error', `Logs of ${id}: ${describeError(err)}`);
      }
    },
    appendLogs: (workerId, lines) => {
      // Only workers whose logs were opened keep lines in memory; the backend keeps the full files.
      const current = get().logs[workerId];
      if (!current) return;
      set({ logs: { ...get().logs, [workerId]: mergeLogLines(current, lines) } });
    },
  };
};
