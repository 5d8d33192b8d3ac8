// The cluster document the backend owns (issue #12): holds the current ClusterState, turns every update of
// its parts into one `cluster:changed` event (version + 1, changes built with clusterChangesBetween and
// applied with the mirrors' own applyClusterChange, so a mirror that saw every event equals the snapshot),
// and a new epoch per backend start. It reads nothing itself: the backend pushes the parts. Layer: core.

import { randomUUID } from 'node:crypto';

import {
  clusterChangesBetween,
  type ClusterContent,
  sortedWorkers,
} from '../../../shared/logic/cluster-diff';
import { applyClusterChange } from '../../../shared/logic/cluster-mirror';
import { gpuAssignmentsOf, type GpuPlacement } from '../../../shared/logic/worker-allocation';
import type { ClusterChangedEvent, ClusterState } from '../../../shared/model/cluster-state';

/** The parts the backend pushes; GPU assignments are derived from the topology and the live workers. */
export type ClusterParts = Omit<ClusterContent, 'gpuAssignments'>;

/** Options of ClusterStateService. */
export interface ClusterStateServiceOptions {
  initial: ClusterParts;
  /** Told about every change, in version order. */
  publish: (event: ClusterChangedEvent) => void;
  /** Default: a random id. */
  epoch?: string;
}

/** Who sits on which GPU: the topology's workers and the live local workers (a removed one frees its GPUs at once). */
function placementsOf(parts: ClusterParts): GpuPlacement[] {
  const fromTopology = (parts.topology.console?.workers ?? []).map((w) => ({
    name: w.name,
    gpus: w.gpus,
  }));
  const live = parts.workers.flatMap((w) => (w.spec ? [{ name: w.id, gpus: w.spec.gpus }] : []));
  return [...fromTopology, ...live];
}

function contentOf(parts: ClusterParts): ClusterContent {
  return {
    ...parts,
    workers: sortedWorkers(parts.workers),
    gpuAssignments: gpuAssignmentsOf(placementsOf(parts)),
  };
}

/** The versioned cluster document. */
export class ClusterStateService {
  private state: ClusterState;

  constructor(private readonly opts: ClusterStateServiceOptions) {
    this.state = { epoch: opts.epoch ?? randomUUID(), version: 0, ...contentOf(opts.initial) };
  }

  /** The whole document (a copy: callers may keep it). */
  snapshot(): ClusterState {
    return structuredClone(this.state);
  }

  /** The current version. */
  get version(): number {
    return this.state.version;
  }

  /** Replaces some parts; publishes one event when anything differs, and returns the version after. */
  update(parts: Partial<ClusterParts>): number {
    const { epoch, version, gpuAssignments: _derived, ...current } = this.state;
    const next = contentOf({ ...current, ...parts });
    const changes = clusterChangesBetween(this.state, next);
    if (changes.length === 0) return version;
    const state = changes.reduce(applyClusterChange, this.state);
    this.state = { ...state, epoch, version: version + 1 };
    this.opts.publish(structuredClone({ epoch, version: version + 1, changes }));
    return this.state.version;
  }
}
