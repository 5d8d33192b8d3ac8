// What a cluster command relies on, checked against a ClusterState: the worker it names still exists, the
// GPUs, name and port of a new worker are still free. The backend runs it on every command (a fresh one
// that fails gets CONFIG_INVALID / WORKER_NOT_FOUND; a stale one STALE_STATE naming what changed), and the
// UI runs the same function for its live checks. Rules: docs/state-model.md. Layer: shared (pure).

import type { ErrorCode } from '../api/envelope';
import type { ClusterCommand, ClusterState } from '../model/cluster-state';
import type { TopologyWorker } from '../model/topology';
import { busyGpus } from './worker-allocation';

/** One fact a command relied on that does not hold; `message` reads as the current state ("GPU 2 is used by gen1"). */
export interface CommandConflict {
  code: Extract<ErrorCode, 'CONFIG_INVALID' | 'WORKER_NOT_FOUND' | 'PORT_IN_USE'>;
  message: string;
}

/** Names the state knows: live workers (local and remote) and the topology's workers. */
export function namesInUse(state: ClusterState): Set<string> {
  return new Set([
    ...state.workers.map((w) => w.id),
    ...(state.topology.console?.workers ?? []).map((w) => w.name),
  ]);
}

/** Who holds each port: topology workers, live local workers and the proxy. */
export function portHolders(state: ClusterState): Map<number, string> {
  const out = new Map<number, string>([[state.proxyPort, 'the console proxy']]);
  for (const w of state.topology.console?.workers ?? []) out.set(w.port, w.name);
  for (const w of state.workers) if (w.spec) out.set(w.spec.port, w.id);
  return out;
}

function workerExists(
  state: ClusterState,
  id: string,
  isStale: boolean,
  where: 'anywhere' | 'local',
): CommandConflict[] {
  const live = state.workers.find((w) => w.id === id);
  const inTopology = (state.topology.console?.workers ?? []).some((w) => w.name === id);
  const isFound =
    where === 'anywhere' ? live !== undefined || inTopology : live?.origin === 'local';
  if (isFound) return [];
  if (where === 'local' && live)
    {return [
      {
        code: 'WORKER_NOT_FOUND',
        message: `worker ${id} is registered by another machine; this console can only remove it from the registry`,
      },
    ];}
  return [
    {
      code: 'WORKER_NOT_FOUND',
      message: isStale ? `worker ${id} no longer exists` : `no worker '${id}'`,
    },
  ];
}

function addConflicts(
  command: Extract<ClusterCommand, { kind: 'addWorker' }>,
  state: ClusterState,
  isStale: boolean,
): CommandConflict[] {
  const req = command.request;
  const now = isStale ? 'now ' : '';
  const out: CommandConflict[] = [];
  if (req.gpus.length === 0)
    {out.push({ code: 'CONFIG_INVALID', message: 'a worker needs at least one GPU' });}
  if (req.id !== undefined && namesInUse(state).has(req.id))
    {out.push({
      code: 'CONFIG_INVALID',
      message: `the name ${req.id} is ${now}used by another worker`,
    });}
  for (const { gpu, holders } of busyGpus(req.gpus, state.gpuAssignments)) {
    out.push({
      code: 'CONFIG_INVALID',
      message: `GPU ${gpu} is ${now}used by ${holders.join(', ')}`,
    });
  }
  const holder = req.port === undefined ? undefined : portHolders(state).get(req.port);
  if (req.port !== undefined && holder !== undefined)
    {out.push({ code: 'PORT_IN_USE', message: `port ${req.port} is ${now}used by ${holder}` });}
  return out;
}

/** Every fact `command` relies on that does not hold in `state` (empty: it may run). */
export function commandConflicts(
  command: ClusterCommand,
  state: ClusterState,
  isStale: boolean,
): CommandConflict[] {
  switch (command.kind) {
    case 'addWorker':
      return addConflicts(command, state, isStale);
    case 'removeWorker':
      return workerExists(state, command.id, isStale, 'anywhere');
    case 'drainWorker':
    case 'undrainWorker':
    case 'restartWorker':
    case 'stopWorker':
      return workerExists(state, command.id, isStale, 'local');
    case 'applyConfig':
    case 'rollback':
    case 'saveDraft':
    case 'discardDraft':
    case 'importFiles':
      // Whole-topology commands: their staleness is the topology version (topologyChanges below).
      return [];
  }
}

/** What changed in the applied topology between the version a draft was based on and the current one. */
export function topologyChanges(
  base: { version: number | null; workers: readonly Pick<TopologyWorker, 'name'>[] },
  current: { version: number | null; workers: readonly Pick<TopologyWorker, 'name'>[] },
): string[] {
  const baseNames = new Set(base.workers.map((w) => w.name));
  const currentNames = new Set(current.workers.map((w) => w.name));
  const added = [...currentNames].filter((n) => !baseNames.has(n));
  const removed = [...baseNames].filter((n) => !currentNames.has(n));
  const out = [`topology version ${base.version ?? 'none'} -> ${current.version ?? 'none'}`];
  if (removed.length > 0) out.push(`removed since: ${removed.join(', ')}`);
  if (added.length > 0) out.push(`added since: ${added.join(', ')}`);
  return out;
}

/**
 * What a user should know about the topology as it is now: a role without any worker (allowed, e.g. after
 * removing the last one) makes the proxy answer 503 to every request. Nothing before the first apply, and
 * nothing in disagg_cluster mode, where workers of other machines may register at any time.
 */
export function roleWarnings(state: ClusterState): string[] {
  const consoleTopo = state.topology.console;
  if (
    state.topology.appliedVersion === null ||
    !consoleTopo ||
    consoleTopo.clusterMode === 'disagg_cluster'
  )
    {return [];}
  const hasRole = (role: 'context' | 'generation'): boolean =>
    consoleTopo.workers.some((w) => w.role === role) ||
    state.workers.some((w) => w.role === role && w.origin === 'remote');
  return (['context', 'generation'] as const)
    .filter((role) => !hasRole(role))
    .map(
      (role) =>
        `no ${role} worker in the topology: the proxy answers 503 to every request until one is added`,
    );
}
