// The cluster as one versioned document that the backend owns (issue #12): the applied topology, every
// worker with its live state, GPU assignments, the config draft, and the commands that change them.
// Mirrors (renderer, CLI, tests) take a snapshot, then apply ordered `cluster:changed` events.
// Layer: shared (pure), JSON-safe. Design: docs/state-model.md.

import type { ConfigIssue } from '../logic/config-issues';
import type { ApplyResult, ImportResult, TopologyFiles, TopologyView } from './topology';
import type { WorkerAddRequest, WorkerView } from './worker-view';

/** The config draft the user is editing, kept by the backend so every window sees the same one. */
export interface ConfigDraft {
  files: TopologyFiles;
  /** The applied topology version the draft was started from; apply refuses it once that moved on. */
  baseTopologyVersion: number | null;
  /** Problems found when the draft was last saved or imported (a broken import keeps the draft and lands here). */
  issues: ConfigIssue[];
  updatedAtMs: number;
}

/** A command in progress that the UI should show (a removal draining, an apply starting workers). */
export interface PendingCommand {
  /** Command id, unique within an epoch. */
  id: number;
  kind: ClusterCommand['kind'];
  /** Human summary, e.g. "remove gen1 (draining 3 requests)". */
  summary: string;
  /** Workers it touches, by name. */
  workerIds: string[];
  startedAtMs: number;
}

/** The whole cluster document. */
export interface ClusterState {
  /** Backend instance id: new at every backend start; a mirror that sees another epoch re-syncs. */
  epoch: string;
  /** Bumped by exactly one on every change of anything below. */
  version: number;
  /** The applied topology (files, parsed console.yaml, appliedVersion). */
  topology: TopologyView;
  /** Every worker, local and remote, with its live status, sorted by id. */
  workers: WorkerView[];
  /** GPU index (as a string) -> names of the workers placed on it (from the topology and live workers). */
  gpuAssignments: Record<string, string[]>;
  /** The port the console's proxy listens on (taken for workers too). */
  proxyPort: number;
  draft: ConfigDraft | null;
  pending: PendingCommand[];
}

/** One entity-level replacement inside a change event: apply in order. */
export type ClusterChange =
  | { kind: 'worker'; id: string; worker: WorkerView | null }
  | { kind: 'topology'; topology: TopologyView }
  | { kind: 'gpuAssignments'; gpuAssignments: Record<string, string[]> }
  | { kind: 'draft'; draft: ConfigDraft | null }
  | { kind: 'pending'; pending: PendingCommand[] }
  | { kind: 'proxyPort'; proxyPort: number };

/** `cluster:changed`: the changes that take version `version - 1` to `version` in epoch `epoch`. */
export interface ClusterChangedEvent {
  epoch: string;
  version: number;
  changes: ClusterChange[];
}

/** Everything that changes the cluster. */
export type ClusterCommand =
  | { kind: 'addWorker'; request: WorkerAddRequest }
  /** Safe removal: stop routing, drain, deregister, stop, drop from the topology (also the last of a role). */
  | { kind: 'removeWorker'; id: string; drainTimeoutMs?: number }
  /** Stop routing new requests to the worker and wait for its in-flight ones; it keeps running. */
  | { kind: 'drainWorker'; id: string; drainTimeoutMs?: number }
  /** Route to a drained worker again. */
  | { kind: 'undrainWorker'; id: string }
  | { kind: 'restartWorker'; id: string }
  | { kind: 'stopWorker'; id: string }
  /** Apply files (the draft's, normally); refused when the topology moved on since `baseTopologyVersion`. */
  | {
      kind: 'applyConfig';
      files: TopologyFiles;
      baseTopologyVersion: number | null;
      /** Shown in the topology history (default 'apply'). */ note?: string;
    }
  | { kind: 'rollback'; version: number }
  /** Replace the draft (validated; issues are kept in the draft, never a reason to drop it). */
  | { kind: 'saveDraft'; files: TopologyFiles; baseTopologyVersion: number | null }
  | { kind: 'discardDraft' }
  /** Convert upstream files into the draft; a file that does not parse leaves the draft as it was. */
  | { kind: 'importFiles'; files: TopologyFiles };

/** `cluster:command`'s argument: the command and the state version the caller saw. */
export interface ClusterCommandRequest {
  command: ClusterCommand;
  /**
   * The `ClusterState.version` the caller built the command on. When the state moved on, the backend
   * re-checks the command against the current state: it is applied (`rebased: true`) when every fact it
   * relied on still holds, and refused with STALE_STATE naming what changed otherwise.
   */
  expectedVersion: number;
}

/** What a command really did. */
export interface ClusterCommandResult {
  /** State version right after the command took effect. */
  version: number;
  /** What was done, in words ("removed gen1; the proxy now answers 503: no generation worker"). */
  summary: string;
  /** True when the caller's version was stale but the command still held and was applied. */
  rebased: boolean;
  /** The worker added or changed, where there is one. */
  worker?: WorkerView;
  /** The apply's result for commands that apply a topology. */
  applied?: ApplyResult;
  /** importFiles: the converted files and every issue (with file, line and column); the draft is kept when it has errors. */
  imported?: ImportResult;
  /** Warnings worth showing (e.g. "no context worker left: the proxy answers 503"). */
  warnings: string[];
}

/** STALE_STATE error details. */
export interface StaleStateDetails {
  expectedVersion: number;
  currentVersion: number;
  /** What changed since, in words, e.g. ["GPU 2 is now used by gen1", "topology version 4 -> 6"]. */
  changed: string[];
}
