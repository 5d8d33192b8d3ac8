// The changes that take one cluster document to another, entity by entity (a worker, the topology, the GPU
// assignments, the draft, pending commands, the proxy port), in the form `cluster:changed` carries them.
// The backend builds each event with it; applying the changes with applyClusterChange gives the next
// document exactly. Layer: shared (pure).

import type { ClusterChange, ClusterState } from '../model/cluster-state';
import type { WorkerView } from '../model/worker-view';

/** The parts of the document that change; epoch and version are the publisher's. */
export type ClusterContent = Omit<ClusterState, 'epoch' | 'version'>;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function workerChanges(prev: readonly WorkerView[], next: readonly WorkerView[]): ClusterChange[] {
  const before = new Map(prev.map((w) => [w.id, w]));
  const after = new Map(next.map((w) => [w.id, w]));
  const out: ClusterChange[] = [];
  for (const [id] of before) if (!after.has(id)) out.push({ kind: 'worker', id, worker: null });
  for (const [id, w] of after)
    {if (!same(before.get(id), w)) out.push({ kind: 'worker', id, worker: w });}
  return out;
}

/** The changes from `prev` to `next`; empty when nothing differs. */
export function clusterChangesBetween(prev: ClusterContent, next: ClusterContent): ClusterChange[] {
  const out = workerChanges(prev.workers, next.workers);
  if (!same(prev.topology, next.topology)) out.push({ kind: 'topology', topology: next.topology });
  if (!same(prev.gpuAssignments, next.gpuAssignments))
    {out.push({ kind: 'gpuAssignments', gpuAssignments: next.gpuAssignments });}
  if (!same(prev.draft, next.draft)) out.push({ kind: 'draft', draft: next.draft });
  if (!same(prev.pending, next.pending)) out.push({ kind: 'pending', pending: next.pending });
  if (prev.proxyPort !== next.proxyPort) out.push({ kind: 'proxyPort', proxyPort: next.proxyPort });
  return out;
}

/** Workers sorted by id, the order the document keeps them in. */
export function sortedWorkers(workers: readonly WorkerView[]): WorkerView[] {
  return [...workers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
