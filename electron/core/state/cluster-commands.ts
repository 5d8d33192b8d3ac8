// The one command API of the cluster (issue #12): every change (add, remove, drain, restart, stop, apply,
// rollback, draft, import) runs here, one at a time, against the current document. A command built on an
// older version is re-checked (cluster-preconditions.ts): applied with `rebased: true` when what it relied on
// still holds, refused with STALE_STATE naming what changed otherwise. A draft built on an older applied
// topology is refused the same way. The answer says what really happened. Rules: docs/state-model.md.
// Layer: core.

import { AppError, type JsonValue } from '../../../shared/api/envelope';
import {
  commandConflicts,
  roleWarnings,
  topologyChanges,
} from '../../../shared/logic/cluster-preconditions';
import { formatIssue } from '../../../shared/logic/config-issues';
import type {
  ClusterCommand,
  ClusterCommandRequest,
  ClusterCommandResult,
  ClusterState,
  ConfigDraft,
  PendingCommand,
  StaleStateDetails,
} from '../../../shared/model/cluster-state';
import type { TopologyFiles } from '../../../shared/model/topology';
import type { ClusterOps } from './cluster-ops';
import type { ClusterStateService } from './cluster-state-service';

/** What one command did, before the executor adds the version and `rebased`. */
export type CommandOutcome = Omit<ClusterCommandResult, 'version' | 'rebased'>;

/** Options of ClusterCommandExecutor. */
export interface ClusterCommandExecutorOptions {
  state: ClusterStateService;
  ops: ClusterOps;
  now?: () => number;
}

function staleError(request: ClusterCommandRequest, current: number, changed: string[]): AppError {
  const details: StaleStateDetails = {
    expectedVersion: request.expectedVersion,
    currentVersion: current,
    changed,
  };
  return new AppError(
    'STALE_STATE',
    `the cluster changed since version ${request.expectedVersion} (now ${current}): ${changed.join('; ')}`,
    details as unknown as JsonValue,
  );
}

function summaryOf(command: ClusterCommand): { summary: string; workerIds: string[] } {
  switch (command.kind) {
    case 'addWorker':
      return {
        summary: `add ${command.request.role} worker${command.request.id ? ` ${command.request.id}` : ''} on GPU ${command.request.gpus.join(', ')}`,
        workerIds: command.request.id ? [command.request.id] : [],
      };
    case 'removeWorker':
    case 'drainWorker':
    case 'undrainWorker':
    case 'restartWorker':
    case 'stopWorker':
      return {
        summary: `${command.kind.replace('Worker', '')} ${command.id}`,
        workerIds: [command.id],
      };
    case 'rollback':
      return { summary: `roll back to topology version ${command.version}`, workerIds: [] };
    case 'applyConfig':
    case 'saveDraft':
    case 'discardDraft':
    case 'importFiles':
      return { summary: command.kind.replace(/([A-Z])/g, ' $1').toLowerCase(), workerIds: [] };
  }
}

/** Runs cluster commands one at a time. */
export class ClusterCommandExecutor {
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private readonly now: () => number;

  constructor(private readonly opts: ClusterCommandExecutorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Runs one command after the ones already queued; concurrent callers (two windows) are serialised. */
  run(request: ClusterCommandRequest): Promise<ClusterCommandResult> {
    return this.enqueue(async () => {
      await this.opts.ops.refresh();
      return this.execute(request);
    });
  }

  /**
   * A command built on the current state, whatever its version (the unversioned channels, the CLI, the
   * planner): `build` runs in the queue, so it sees the state the command runs against.
   */
  runCurrent(build: (state: ClusterState) => ClusterCommand): Promise<ClusterCommandResult> {
    return this.enqueue(async () => {
      await this.opts.ops.refresh();
      const state = this.opts.state.snapshot();
      return this.execute({ command: build(state), expectedVersion: state.version });
    });
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async execute(request: ClusterCommandRequest): Promise<ClusterCommandResult> {
    const { state, ops } = this.opts;
    const before = state.snapshot();
    const isStale = request.expectedVersion !== before.version;
    this.checkPreconditions(request, before, isStale);
    await this.checkTopologyBase(request, before);
    const pending: PendingCommand = {
      id: this.nextId++,
      kind: request.command.kind,
      ...summaryOf(request.command),
      startedAtMs: this.now(),
    };
    state.update({ pending: [pending] });
    try {
      const outcome = await this.perform(request.command, before);
      await ops.refresh();
      const warnings = [...outcome.warnings, ...roleWarnings(state.snapshot())];
      return { ...outcome, warnings, rebased: isStale, version: state.update({ pending: [] }) };
    } catch (err) {
      await ops.refresh().catch(() => undefined);
      state.update({ pending: [] });
      throw err;
    }
  }

  private checkPreconditions(
    request: ClusterCommandRequest,
    state: ClusterState,
    isStale: boolean,
  ): void {
    const conflicts = commandConflicts(request.command, state, isStale);
    if (conflicts.length === 0) return;
    if (isStale)
      {throw staleError(
        request,
        state.version,
        conflicts.map((c) => c.message),
      );}
    const first = conflicts[0];
    throw new AppError(first?.code ?? 'CONFIG_INVALID', conflicts.map((c) => c.message).join('; '));
  }

  /** applyConfig / saveDraft: the draft must be built on the topology applied now. */
  private async checkTopologyBase(
    request: ClusterCommandRequest,
    state: ClusterState,
  ): Promise<void> {
    const command = request.command;
    if (command.kind !== 'applyConfig' && command.kind !== 'saveDraft') return;
    const current = state.topology.appliedVersion;
    if (command.baseTopologyVersion === current) return;
    const base =
      command.baseTopologyVersion === null
        ? null
        : await this.opts.ops.consoleAt(command.baseTopologyVersion);
    const changed = topologyChanges(
      { version: command.baseTopologyVersion, workers: base?.workers ?? [] },
      { version: current, workers: state.topology.console?.workers ?? [] },
    );
    throw staleError(request, state.version, [
      `the draft was built on topology version ${command.baseTopologyVersion ?? 'none'}`,
      ...changed,
    ]);
  }

  private async perform(command: ClusterCommand, before: ClusterState): Promise<CommandOutcome> {
    const { ops } = this.opts;
    switch (command.kind) {
      case 'addWorker':
        return ops.addWorker(command.request);
      case 'removeWorker':
        return ops.removeWorker(command.id, command.drainTimeoutMs);
      case 'drainWorker':
        return ops.drainWorker(command.id, command.drainTimeoutMs);
      case 'undrainWorker':
        return ops.undrainWorker(command.id);
      case 'restartWorker':
        return ops.restartWorker(command.id);
      case 'stopWorker':
        return ops.stopWorker(command.id);
      case 'applyConfig':
        return this.applyFiles(command.files, before.draft, command.note ?? 'apply');
      case 'rollback': {
        const applied = await ops.rollback(command.version);
        return {
          summary: `rolled back to version ${command.version} as version ${applied.version}`,
          applied,
          warnings: applied.warnings.map(formatIssue),
        };
      }
      case 'saveDraft':
        return this.saveDraft(command.files, command.baseTopologyVersion);
      case 'discardDraft':
        await ops.setDraft(null);
        return { summary: before.draft ? 'draft discarded' : 'there was no draft', warnings: [] };
      case 'importFiles':
        return this.importFiles(command.files, before);
    }
  }

  private async applyFiles(
    files: TopologyFiles,
    draft: ConfigDraft | null,
    note: string,
  ): Promise<CommandOutcome> {
    const applied = await this.opts.ops.apply(files, note);
    // The draft that was just applied is done; a different draft stays (it is now stale, and says so).
    const isDraftApplied = draft !== null && JSON.stringify(draft.files) === JSON.stringify(files);
    if (isDraftApplied) await this.opts.ops.setDraft(null);
    const { start, stop, restart } = applied.plan;
    const did = [
      start.length ? `started ${start.join(', ')}` : '',
      restart.length ? `restarted ${restart.join(', ')}` : '',
      stop.length ? `removed ${stop.join(', ')}` : '',
    ].filter(Boolean);
    return {
      summary: `applied as topology version ${applied.version}${did.length ? `: ${did.join('; ')}` : ' (no worker changed)'}`,
      applied,
      warnings: applied.warnings.map(formatIssue),
    };
  }

  private async saveDraft(
    files: TopologyFiles,
    baseTopologyVersion: number | null,
  ): Promise<CommandOutcome> {
    const issues = await this.opts.ops.validate(files);
    await this.opts.ops.setDraft({ files, baseTopologyVersion, issues, updatedAtMs: this.now() });
    const errors = issues.filter((i) => i.severity === 'error').length;
    return {
      summary: `draft saved${errors > 0 ? ` with ${errors} error${errors === 1 ? '' : 's'} (apply refuses it until they are fixed)` : ''}`,
      warnings: issues.map(formatIssue),
    };
  }

  private async importFiles(files: TopologyFiles, before: ClusterState): Promise<CommandOutcome> {
    const imported = this.opts.ops.importFiles(files);
    const errors = imported.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0 || Object.keys(imported.files).length === 0) {
      // A broken file never replaces the draft: the draft is kept and shows the import's problems.
      if (before.draft)
        {await this.opts.ops.setDraft({
          ...before.draft,
          issues: imported.issues,
          updatedAtMs: this.now(),
        });}
      const where = errors.slice(0, 3).map(formatIssue).join('; ');
      return {
        summary: `import failed, ${before.draft ? 'the draft is kept' : 'no draft was made'}: ${where}`,
        imported,
        warnings: imported.issues.map(formatIssue),
      };
    }
    const base = before.topology.appliedVersion;
    await this.opts.ops.setDraft({
      files: imported.files,
      baseTopologyVersion: base,
      issues: imported.issues,
      updatedAtMs: this.now(),
    });
    return {
      summary: `imported ${Object.keys(imported.files).length} files (${imported.format}) into the draft`,
      imported,
      warnings: imported.issues.map(formatIssue),
    };
  }
}
