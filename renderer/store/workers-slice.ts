// Workers (features C2-C6): actions on workers as cluster commands (add with pre-flight, restart, stop, safe
// removal, presets), logs with live appends, and the cluster status with remote workers. The workers
// themselves are the cluster mirror's (selectors.ts): this slice keeps no list of its own. Layer: renderer.

import type { ClusterCommand } from '../../shared/model/cluster-state';
import type { LogLine } from '../../shared/model/logs';
import { filesWithWorker, newWorkerIndex } from '../lib/add-worker-files';
import { describeError } from '../lib/error-text';
import {
  nextWorkerName,
  planPreset,
  withParallelism,
  workerOptionsTemplate,
} from '../lib/worker-templates';
import type { CommandOutcome } from './cluster-slice';
import { selectFreeGpus, selectNamesInUse, selectTopology } from './selectors';
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

/** The backend's summary as a sentence for a toast ("removed gen0: …" -> "Removed gen0: …"). */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const createWorkersSlice: SliceCreator<WorkersSlice> = (set, get, { api }) => {
  const busy = (id: string, what: string | null): void => {
    const next = { ...get().workerBusy };
    if (what === null) delete next[id];
    else next[id] = what;
    set({ workerBusy: next });
  };

  /** Runs one command on a worker with its buttons disabled; a refusal becomes a toast. */
  const workerCommand = async (
    id: string,
    what: string,
    command: ClusterCommand,
  ): Promise<CommandOutcome> => {
    busy(id, what);
    try {
      const outcome = await get().runCommand(command);
      if (!outcome.ok) get().notify('error', `${id}: ${outcome.message}`);
      return outcome;
    } finally {
      busy(id, null);
    }
  };

  return {
    workerBusy: {},
    clusterStatus: null,
    logs: {},
    consoleLog: null,
    loadClusterStatus: async () => {
      try {
        set({ clusterStatus: await api.invoke('cluster:status') });
      } catch {
        set({ clusterStatus: null }); // Cluster status is optional: static mode has nothing to show.
      }
    },
    preflightWorker: async (request) => {
      try {
        const topology = selectTopology(get()) ?? (await api.invoke('topology:get'));
        const id = request.id ?? nextWorkerName(request.role, selectNamesInUse(get()));
        const files = filesWithWorker(
          topology.files,
          { ...request, id },
          request.optionsYaml ??
            withParallelism(
              workerOptionsTemplate(request.role),
              request.tpSize ?? request.gpus.length,
              request.ppSize ?? 1,
            ),
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
    addWorker: async (request, expectedVersion) => {
      const outcome = await get().runCommand({ kind: 'addWorker', request }, expectedVersion);
      if (outcome.ok) {
        const id = outcome.result.worker?.id ?? request.id ?? 'the worker';
        get().notify('info', `${id} is starting on GPU ${request.gpus.join(', ')}`);
      } else {
        get().notify('error', `Could not add the worker: ${outcome.message}`);
      }
      return outcome;
    },
    restartWorker: async (id) => {
      await workerCommand(id, 'restarting', { kind: 'restartWorker', id });
    },
    stopWorker: async (id) => {
      await workerCommand(id, 'stopping', { kind: 'stopWorker', id });
    },
    removeWorker: async (id) => {
      const outcome = await workerCommand(id, 'removing', { kind: 'removeWorker', id });
      if (!outcome.ok) return false;
      const logs = { ...get().logs };
      delete logs[id];
      set({ logs, logsWorkerId: get().logsWorkerId === id ? null : get().logsWorkerId });
      get().notify('success', sentence(outcome.result.summary || `removed ${id}`));
      return true;
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
      const taken = selectNamesInUse(get());
      for (const step of plan) {
        const id = nextWorkerName(step.role, taken);
        taken.push(id);
        const outcome = await get().addWorker({
          id,
          role: step.role,
          gpus: step.gpus,
          model,
          engine,
        });
        if (!outcome.ok) return;
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
    loadConsoleLog: async (query) => {
      try {
        set({ consoleLog: await api.invoke('console:logs', { tail: 1000, ...query }) });
      } catch (err) {
        get().notify('error', `Console log: ${describeError(err)}`);
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
