// Applying `cluster:changed` events to a mirror of the backend's cluster state. The backend builds its own
// published document with the same function, so a mirror that applied every event equals the backend's
// state by construction. Layer: shared (pure).

import type { ClusterChange, ClusterChangedEvent, ClusterState } from '../model/cluster-state';

/** What a mirror should do with an event. */
export type MirrorStep =
  | { kind: 'applied'; state: ClusterState }
  /** Already seen (an older or equal version of the same epoch): keep the mirror as it is. */
  | { kind: 'ignored' }
  /** A gap in versions or another backend epoch: take a fresh snapshot. */
  | { kind: 'resync'; reason: string };

/** Applies one change to a state (returns a new object; the input is not changed). */
export function applyClusterChange(state: ClusterState, change: ClusterChange): ClusterState {
  switch (change.kind) {
    case 'worker': {
      const rest = state.workers.filter((w) => w.id !== change.id);
      const workers = change.worker === null ? rest : [...rest, change.worker];
      workers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { ...state, workers };
    }
    case 'topology':
      return { ...state, topology: change.topology };
    case 'gpuAssignments':
      return { ...state, gpuAssignments: change.gpuAssignments };
    case 'draft':
      return { ...state, draft: change.draft };
    case 'pending':
      return { ...state, pending: change.pending };
    case 'proxyPort':
      return { ...state, proxyPort: change.proxyPort };
  }
}

/** Applies an event to a mirror when it is the next one; says to re-sync on a gap or a new epoch. */
export function stepMirror(mirror: ClusterState, event: ClusterChangedEvent): MirrorStep {
  if (event.epoch !== mirror.epoch) {
    return { kind: 'resync', reason: `backend restarted (epoch ${event.epoch})` };
  }
  if (event.version <= mirror.version) return { kind: 'ignored' };
  if (event.version !== mirror.version + 1) {
    return {
      kind: 'resync',
      reason: `missed versions ${mirror.version + 1}..${event.version - 1}`,
    };
  }
  const state = event.changes.reduce(applyClusterChange, mirror);
  return { kind: 'applied', state: { ...state, version: event.version } };
}
