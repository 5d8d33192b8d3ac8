// Selectors over the app state. Cluster facts (workers, GPU holders, names and ports in use, the topology,
// the draft) are read from the cluster mirror only (cluster-slice.ts), so no view can disagree with the
// backend's document. Ones that return arrays or objects are used through useShallow in components, or
// return references the mirror already holds (style-guide §6). Layer: renderer (pure).

import { namesInUse } from '../../shared/logic/cluster-preconditions';
import type { ClusterState, ConfigDraft } from '../../shared/model/cluster-state';
import type { TopologyFiles, TopologyView } from '../../shared/model/topology';
import type { WorkerView } from '../../shared/model/worker-view';
import type { AppState } from './store-types';

type MirrorState = Pick<AppState, 'cluster'>;

const NO_WORKERS: WorkerView[] = [];
const NO_FILES: TopologyFiles = {};

/** Every worker the backend knows, local and remote, sorted by id (the mirror's own array). */
export function selectWorkers(state: MirrorState): WorkerView[] {
  return state.cluster?.workers ?? NO_WORKERS;
}

/** One worker by id, undefined when the backend has none by that name. */
export function selectWorker(state: MirrorState, id: string): WorkerView | undefined {
  return state.cluster?.workers.find((w) => w.id === id);
}

/** The applied topology, null before the first snapshot. */
export function selectTopology(state: MirrorState): TopologyView | null {
  return state.cluster?.topology ?? null;
}

/** The backend's draft, null when nobody is editing one. */
export function selectDraft(state: MirrorState): ConfigDraft | null {
  return state.cluster?.draft ?? null;
}

/** The files the editor shows: unsaved local edits, else the backend's draft, else the applied files. */
export function selectDraftFiles(state: Pick<AppState, 'cluster' | 'draftEdits'>): TopologyFiles {
  return (
    state.draftEdits ?? state.cluster?.draft?.files ?? state.cluster?.topology.files ?? NO_FILES
  );
}

/** The topology version a draft edit is based on: the draft's base, or the applied version for a new draft. */
export function selectDraftBase(state: MirrorState): number | null {
  const cluster = state.cluster;
  if (!cluster) return null;
  return cluster.draft ? cluster.draft.baseTopologyVersion : cluster.topology.appliedVersion;
}

/** Local workers sorted by role (context first) then id. */
export function selectLocalWorkers(state: MirrorState): WorkerView[] {
  return selectWorkers(state)
    .filter((w) => w.origin === 'local')
    .sort((a, b) =>
      a.role === b.role
        ? a.id.localeCompare(b.id, 'en', { numeric: true })
        : a.role === 'context'
          ? -1
          : 1,
    );
}

/** Workers found in the registry that this console did not start. */
export function selectRemoteWorkers(state: MirrorState): WorkerView[] {
  return selectWorkers(state).filter((w) => w.origin === 'remote');
}

/** A worker placed on a GPU: its name from the backend's assignments, and its live view when it has one. */
export interface GpuHolder {
  id: string;
  worker: WorkerView | null;
}

/** Who holds a GPU, from the backend's GPU assignments. */
export function gpuHolders(cluster: ClusterState | null, index: number): GpuHolder[] {
  const names = cluster?.gpuAssignments[String(index)] ?? [];
  return names.map((id) => ({ id, worker: cluster?.workers.find((w) => w.id === id) ?? null }));
}

/** GPU indices of the inventory that no worker holds. */
export function selectFreeGpus(state: Pick<AppState, 'cluster' | 'inventory'>): number[] {
  return (state.inventory?.gpus ?? [])
    .map((g) => g.index)
    .filter((i) => (state.cluster?.gpuAssignments[String(i)] ?? []).length === 0);
}

/** Names a new worker cannot take (the shared rule the backend's preconditions use). */
export function selectNamesInUse(state: MirrorState): string[] {
  return state.cluster ? [...namesInUse(state.cluster)].sort() : [];
}

/** The model the playground and presets default to: the first local worker's model. */
export function selectDefaultModel(state: MirrorState): string {
  return (
    selectLocalWorkers(state).find((w) => w.spec)?.spec?.model ??
    'TinyLlama/TinyLlama-1.1B-Chat-v1.0'
  );
}

/** Counts by state for the header summary. */
export function selectWorkerCounts(state: MirrorState): {
  ready: number;
  starting: number;
  failing: number;
  total: number;
} {
  let ready = 0;
  let starting = 0;
  let failing = 0;
  const local = selectLocalWorkers(state);
  for (const w of local) {
    if (w.status.state === 'ready') ready += 1;
    else if (w.status.state === 'starting') starting += 1;
    else if (
      w.status.state === 'errored' ||
      w.status.state === 'backoff' ||
      w.status.state === 'degraded'
    ) {
      failing += 1;
    }
  }
  return { ready, starting, failing, total: local.length };
}

/** What the backend is doing to a worker right now ("remove gen1 (draining 3 requests)"), from the mirror. */
export function selectPendingFor(state: MirrorState, id: string): string | null {
  return state.cluster?.pending.find((p) => p.workerIds.includes(id))?.summary ?? null;
}

/** True when the worker's engine or the GPU inventory is simulated. */
export function selectIsSimulated(state: Pick<AppState, 'cluster' | 'inventory'>): boolean {
  return (
    Boolean(state.inventory?.simulated) ||
    selectWorkers(state).some((w) => w.spec?.engine === 'simulated')
  );
}
