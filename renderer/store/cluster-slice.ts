// The cluster mirror (issue #12): the renderer's only copy of the backend's cluster document. One snapshot
// (`cluster:snapshot`), then ordered `cluster:changed` events applied with the shared `stepMirror`; a gap
// or another backend epoch takes a new snapshot. Every cluster-changing action goes through `runCommand`
// with the mirror's version, so a command built on what the user saw is refused (STALE_STATE) when that
// moved on. Workers, GPU holders, the topology and the draft are read from here (selectors.ts), never
// kept in another slice. Layer: renderer (no DOM).

import { isAppError } from '../../shared/api/envelope';
import { stepMirror } from '../../shared/logic/cluster-mirror';
import type { ConfigIssue } from '../../shared/logic/config-issues';
import type {
  ClusterChangedEvent,
  ClusterCommand,
  ClusterCommandResult,
  ClusterState,
  StaleStateDetails,
} from '../../shared/model/cluster-state';
import type { WorkerView } from '../../shared/model/worker-view';
import { describeError, errorCode } from '../lib/error-text';
import type { SliceCreator } from './store-types';

/** What a cluster command did: the backend's result, or why it was refused (STALE_STATE with what changed). */
export type CommandOutcome =
  | { ok: true; result: ClusterCommandResult }
  | {
      ok: false;
      code: string;
      message: string;
      stale: StaleStateDetails | null;
      /** Config problems the error carries (a broken import: file, line and column). */
      issues: ConfigIssue[];
    };

export interface ClusterSlice {
  /** The mirror of the backend's cluster document; null until the first snapshot. */
  cluster: ClusterState | null;
  clusterError: string | null;
  /** Snapshots taken so far (the first one and every re-sync). */
  clusterSyncs: number;
  /** Why the last re-sync was needed (a gap, a new backend epoch). */
  lastResyncReason: string | null;
  /** Takes a snapshot; events that arrive meanwhile are applied on top of it. */
  resyncCluster: () => Promise<void>;
  applyClusterEvent: (event: ClusterChangedEvent) => void;
  /** Sends one command built on `expectedVersion` (default: the mirror's version). */
  runCommand: (command: ClusterCommand, expectedVersion?: number) => Promise<CommandOutcome>;
}

/** Issues an APPLY_FAILED/CONFIG_INVALID error carries in `details.issues`, when it does. */
export function issuesOf(err: unknown): ConfigIssue[] {
  if (
    !isAppError(err) ||
    typeof err.details !== 'object' ||
    err.details === null ||
    Array.isArray(err.details)
  ) {
    return [];
  }
  const raw: unknown = (err.details as { issues?: unknown }).issues;
  if (!Array.isArray(raw)) return [];
  const list: unknown[] = raw;
  return list.filter(
    (i): i is ConfigIssue =>
      typeof i === 'object' &&
      i !== null &&
      typeof (i as { message?: unknown }).message === 'string',
  );
}

/** STALE_STATE details when the error carries them in the contract's shape. */
export function staleDetailsOf(err: unknown): StaleStateDetails | null {
  if (!isAppError(err) || err.code !== 'STALE_STATE') return null;
  const d = err.details as Partial<StaleStateDetails> | undefined;
  if (!d || typeof d !== 'object' || !Array.isArray(d.changed)) return null;
  return {
    expectedVersion: Number(d.expectedVersion),
    currentVersion: Number(d.currentVersion),
    changed: d.changed.filter((c): c is string => typeof c === 'string'),
  };
}

/** The sentence shown for a refused command: for STALE_STATE, what changed since the user looked. */
export function commandErrorText(err: unknown): string {
  const stale = staleDetailsOf(err);
  if (!stale) return describeError(err);
  const what = stale.changed.length > 0 ? stale.changed.join('; ') : 'the cluster changed';
  return `Not done: the cluster changed since you looked (${what}). Check the form against the current state and try again.`;
}

/** Workers that went into errored/backoff with this change (for a "crashed" toast). */
export function newlyCrashed(
  before: readonly WorkerView[],
  after: readonly WorkerView[],
): WorkerView[] {
  const previous = new Map(before.map((w) => [w.id, w.status.state]));
  return after.filter((w) => {
    const crashed = w.status.state === 'errored' || w.status.state === 'backoff';
    const was = previous.get(w.id);
    return crashed && was !== undefined && was !== w.status.state;
  });
}

function crashReason(view: WorkerView): string {
  const exit = view.status.lastExit;
  if (!exit) return view.status.message ?? 'unknown reason';
  return exit.reason ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? '?'}`);
}

/** Commands whose warnings are config issues, shown in the editor and panels rather than as toasts. */
const ISSUE_COMMANDS: ReadonlySet<ClusterCommand['kind']> = new Set([
  'saveDraft',
  'importFiles',
  'applyConfig',
  'rollback',
]);

export const createClusterSlice: SliceCreator<ClusterSlice> = (set, get, { api }) => {
  // Events that arrive while a snapshot is on its way: replayed on top of it (older ones are ignored).
  let buffered: ClusterChangedEvent[] | null = null;
  let snapshotInFlight: Promise<void> | null = null;

  const adopt = (next: ClusterState): void => {
    const before = get().cluster;
    set({ cluster: next, clusterError: null });
    if (before && before.epoch === next.epoch) {
      for (const w of newlyCrashed(before.workers, next.workers)) {
        get().notify(
          'error',
          `${w.id} crashed (${crashReason(w)}). Open its logs to see the last lines.`,
        );
      }
    }
    get().settleDraftEdits();
  };

  /** Applies one event; true when the mirror needs a new snapshot. */
  const step = (event: ClusterChangedEvent): boolean => {
    const mirror = get().cluster;
    if (!mirror) return true;
    const result = stepMirror(mirror, event);
    if (result.kind === 'applied') adopt(result.state);
    if (result.kind === 'resync') set({ lastResyncReason: result.reason });
    return result.kind === 'resync';
  };

  const takeSnapshot = async (): Promise<void> => {
    buffered = [];
    try {
      const snapshot = await api.invoke('cluster:snapshot');
      const pending = buffered;
      buffered = null;
      adopt(snapshot);
      set({ clusterSyncs: get().clusterSyncs + 1 });
      // A buffered event past a gap means the snapshot is already old: take another one.
      if (pending.some((e) => step(e))) void get().resyncCluster();
    } catch (err) {
      buffered = null;
      set({ clusterError: describeError(err) });
    }
  };

  return {
    cluster: null,
    clusterError: null,
    clusterSyncs: 0,
    lastResyncReason: null,
    resyncCluster: () => {
      snapshotInFlight ??= takeSnapshot().finally(() => {
        snapshotInFlight = null;
      });
      return snapshotInFlight;
    },
    applyClusterEvent: (event) => {
      if (buffered) {
        buffered.push(event);
        return;
      }
      if (step(event)) void get().resyncCluster();
    },
    runCommand: async (
      command: ClusterCommand,
      expectedVersion?: number,
    ): Promise<CommandOutcome> => {
      const mirror = get().cluster;
      if (!mirror) {
        return {
          ok: false,
          code: 'NOT_CONNECTED',
          message: 'The console has no cluster state yet: wait until it is connected.',
          stale: null,
          issues: [],
        };
      }
      try {
        const result: ClusterCommandResult = await api.invoke('cluster:command', {
          command,
          expectedVersion: expectedVersion ?? mirror.version,
        });
        if (!ISSUE_COMMANDS.has(command.kind)) {
          for (const w of result.warnings) get().notify('info', w);
        }
        return { ok: true, result };
      } catch (err) {
        return {
          ok: false,
          code: errorCode(err) ?? 'INTERNAL',
          message: commandErrorText(err),
          stale: staleDetailsOf(err),
          issues: issuesOf(err),
        };
      }
    },
  };
};
