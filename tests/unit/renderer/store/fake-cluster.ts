// A small in-memory stand-in for the backend's cluster document, for the store tests: it owns a ClusterState,
// publishes every change as a `cluster:changed` event built with the shared applyClusterChange (as the
// real backend does), and answers `cluster:snapshot` / `cluster:command` with the contract's semantics for
// the commands the tests use. Tests can drop an event (a gap) or restart it (a new epoch).
import { applyClusterChange } from '../../../../shared/logic/cluster-mirror';
import type {
  ClusterChange,
  ClusterChangedEvent,
  ClusterCommandRequest,
  ClusterCommandResult,
  ClusterState,
} from '../../../../shared/model/cluster-state';
import type { TopologyFiles, TopologyView } from '../../../../shared/model/topology';
import type { WorkerView } from '../../../../shared/model/worker-view';
import { AppError, view } from './fake-api';

export function topologyView(files: TopologyFiles, appliedVersion: number | null): TopologyView {
  return { name: 'default', files, console: null, appliedVersion };
}

function assignments(workers: readonly WorkerView[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of workers) for (const g of w.spec?.gpus ?? []) (out[String(g)] ??= []).push(w.id);
  return out;
}

export function createFakeCluster(workers: WorkerView[], files: TopologyFiles, epoch = 'e1') {
  let state: ClusterState = {
    epoch,
    version: 1,
    topology: topologyView(files, 1),
    workers: [...workers].sort((a, b) => (a.id < b.id ? -1 : 1)),
    gpuAssignments: assignments(workers),
    proxyPort: 8000,
    draft: null,
    pending: [],
  };
  let emit: (event: ClusterChangedEvent) => void = () => undefined;
  let dropNext = false;
  const commands: ClusterCommandRequest[] = [];
  let refuse: ((request: ClusterCommandRequest) => Error | null) | null = null;
  let snapshotGate: Promise<void> | null = null;
  let snapshotsTaken = 0;

  const publish = (changes: ClusterChange[]): number => {
    const next = changes.reduce(applyClusterChange, state);
    state = { ...next, version: state.version + 1 };
    const event = { epoch: state.epoch, version: state.version, changes };
    if (dropNext) dropNext = false;
    else emit(event);
    return state.version;
  };

  const workerChanges = (next: WorkerView[]): ClusterChange[] => [
    { kind: 'gpuAssignments', gpuAssignments: assignments(next) },
  ];

  const stale = (request: ClusterCommandRequest, changed: string[]): never => {
    throw new AppError(
      'STALE_STATE',
      `the cluster changed since version ${request.expectedVersion}`,
      {
        expectedVersion: request.expectedVersion,
        currentVersion: state.version,
        changed,
      },
    );
  };

  const run = (request: ClusterCommandRequest): ClusterCommandResult => {
    const c = request.command;
    const done = (
      summary: string,
      extra: Partial<ClusterCommandResult> = {},
    ): ClusterCommandResult => ({
      version: state.version,
      summary,
      rebased: request.expectedVersion !== state.version,
      warnings: [],
      ...extra,
    });
    switch (c.kind) {
      case 'addWorker': {
        const id = c.request.id ?? 'w';
        const taken = c.request.gpus.filter(
          (g) => (state.gpuAssignments[String(g)] ?? []).length > 0,
        );
        if (taken.length > 0) {
          if (request.expectedVersion !== state.version) {
            stale(
              request,
              taken.map(
                (g) => `GPU ${g} is now used by ${state.gpuAssignments[String(g)]!.join(', ')}`,
              ),
            );
          }
          throw new AppError('CONFIG_INVALID', `GPU ${taken.join(', ')} is busy`);
        }
        const w = view(id, c.request.role, c.request.gpus, 'starting');
        const next = [...state.workers, w];
        publish([{ kind: 'worker', id, worker: w }, ...workerChanges(next)]);
        return done(`added ${id}`, { worker: w });
      }
      case 'removeWorker': {
        if (!state.workers.some((w) => w.id === c.id)) {
          throw new AppError('WORKER_NOT_FOUND', `no worker '${c.id}'`);
        }
        const next = state.workers.filter((w) => w.id !== c.id);
        publish([{ kind: 'worker', id: c.id, worker: null }, ...workerChanges(next)]);
        return done(`removed ${c.id}`);
      }
      case 'saveDraft':
        publish([
          {
            kind: 'draft',
            draft: {
              files: c.files,
              baseTopologyVersion: c.baseTopologyVersion,
              issues: [],
              updatedAtMs: 1,
            },
          },
        ]);
        return done('draft saved');
      case 'discardDraft':
        publish([{ kind: 'draft', draft: null }]);
        return done('draft discarded');
      case 'applyConfig': {
        const applied = state.topology.appliedVersion;
        if (c.baseTopologyVersion !== applied) {
          stale(request, [
            `topology version ${c.baseTopologyVersion ?? 'none'} -> ${applied ?? 'none'}`,
          ]);
        }
        const version = (applied ?? 0) + 1;
        publish([
          { kind: 'topology', topology: topologyView(c.files, version) },
          { kind: 'draft', draft: null },
        ]);
        return done(`applied version ${version}`, {
          applied: {
            version,
            plan: { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false },
            warnings: [],
          },
        });
      }
      case 'importFiles': {
        // As the backend: a file that does not parse is answered with its issues and the draft is kept.
        const broken = Object.entries(c.files).find(([, text]) => text.includes(': ['));
        if (broken) {
          const issue = {
            file: broken[0],
            line: 2,
            column: 7,
            path: '',
            message: 'flow sequence not closed',
            severity: 'error' as const,
          };
          return done('import failed, the draft is kept', {
            imported: { files: {}, issues: [issue], format: 'files' },
          });
        }
        publish([
          {
            kind: 'draft',
            draft: {
              files: c.files,
              baseTopologyVersion: state.topology.appliedVersion,
              issues: [],
              updatedAtMs: 1,
            },
          },
        ]);
        return done(`imported ${Object.keys(c.files).length} file(s)`, {
          imported: { files: c.files, issues: [], format: 'files' },
        });
      }
      case 'drainWorker':
      case 'undrainWorker':
      case 'restartWorker':
      case 'stopWorker':
      case 'rollback':
        throw new AppError('NOT_SUPPORTED', `the fake cluster has no ${c.kind}`);
    }
  };

  return {
    get state() {
      return state;
    },
    commands,
    handlers: {
      'cluster:snapshot': async () => {
        const taken = state;
        snapshotsTaken += 1;
        if (snapshotGate) await snapshotGate;
        return taken;
      },
      'cluster:command': (request: ClusterCommandRequest) => {
        commands.push(request);
        const refusal = refuse?.(request);
        if (refusal) return Promise.reject(refusal);
        try {
          return Promise.resolve(run(request));
        } catch (err) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
      },
    },
    /** Where published events go (the fake api's emit). */
    connect(sink: (event: ClusterChangedEvent) => void): void {
      emit = sink;
    },
    get snapshotsTaken() {
      return snapshotsTaken;
    },
    /** Snapshots are taken at once but answered only when the returned function is called. */
    holdSnapshots(): () => void {
      let release: () => void = () => undefined;
      snapshotGate = new Promise<void>((r) => (release = r));
      return () => {
        snapshotGate = null;
        release();
      };
    },
    /** Makes the backend refuse the commands `fn` returns an error for. */
    refuseWhen(fn: ((request: ClusterCommandRequest) => Error | null) | null): void {
      refuse = fn;
    },
    /** A change made by someone else (another window, the backend itself). */
    publish,
    /** The next event is lost on the way (the mirror sees a gap after it). */
    dropNextEvent(): void {
      dropNext = true;
    },
    /** The backend restarted: a new epoch, the same document, version back to 1. */
    restart(nextEpoch: string): void {
      state = { ...state, epoch: nextEpoch, version: 1 };
    },
  };
}
