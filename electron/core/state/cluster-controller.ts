// The cluster document and its command API, assembled (issue #12): the ClusterStateService fed from the
// topology, the workers, the draft and the proxy port; the command executor over the worker commands and
// the topology service; the cluster:* channels and the older channels (workers:add/remove/restart/stop,
// topology:apply/rollback/import, the planner's apply) as thin wrappers over the same executor. Layer: core.

import type { ApiHandlers } from '../../../shared/api/contract';
import { AppError } from '../../../shared/api/envelope';
import type { PlannerLayout } from '../../../shared/model/bench';
import type {
  ClusterChangedEvent,
  ClusterCommandResult,
} from '../../../shared/model/cluster-state';
import type { ApplyResult } from '../../../shared/model/topology';
import type { WorkerView } from '../../../shared/model/worker-view';
import type { BackendLog } from '../event-hub';
import { importTopologyFiles } from '../topology/import';
import type { TopologyService } from '../topology/topology-service';
import type { WorkerCommands } from '../worker-commands';
import { ClusterCommandExecutor } from './cluster-commands';
import type { ClusterOps } from './cluster-ops';
import { ClusterStateService } from './cluster-state-service';
import { DraftStore } from './draft-store';

/** The channels the controller answers. */
export type ClusterHandlers = Pick<
  ApiHandlers,
  | 'cluster:snapshot'
  | 'cluster:command'
  | 'workers:add'
  | 'workers:remove'
  | 'workers:restart'
  | 'workers:stop'
  | 'topology:apply'
  | 'topology:rollback'
  | 'topology:import'
>;

/** The cluster document with its commands. */
export interface ClusterController {
  readonly state: ClusterStateService;
  readonly executor: ClusterCommandExecutor;
  /** Re-reads the topology and pushes every part into the document (serialised, so updates stay in order). */
  refresh(): Promise<void>;
  /** Pushes the live workers and the proxy port (what changes without a command: status, registry). */
  refreshWorkers(): void;
  handlers(): ClusterHandlers;
  /** The planner's apply: its layout as an applyConfig command on the current topology. */
  applyLayout(layout: PlannerLayout): Promise<ApplyResult>;
}

/** Options of createClusterController. */
export interface ClusterControllerOptions {
  dataDir: string;
  topology: TopologyService;
  workers: WorkerCommands;
  /** Every worker, local and remote. */
  views: () => WorkerView[];
  proxyPort: () => number;
  publish: (event: ClusterChangedEvent) => void;
  log: BackendLog;
}

function needs<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new AppError('INTERNAL', `the command finished without ${what}`);
  return value;
}

/** Builds the controller and reads the current topology and draft into the document. */
export async function createClusterController(
  opts: ClusterControllerOptions,
): Promise<ClusterController> {
  const drafts = new DraftStore(opts.dataDir, (m) => opts.log('warn', m));
  const state = new ClusterStateService({
    initial: {
      topology: await opts.topology.get(),
      workers: opts.views(),
      draft: drafts.current(),
      pending: [],
      proxyPort: opts.proxyPort(),
    },
    publish: opts.publish,
  });
  let refreshing: Promise<void> = Promise.resolve();
  const refresh = (): Promise<void> => {
    const next = refreshing.then(async () => {
      const topology = await opts.topology.get();
      state.update({
        topology,
        workers: opts.views(),
        draft: drafts.current(),
        proxyPort: opts.proxyPort(),
      });
    });
    refreshing = next.catch(() => undefined);
    return next;
  };
  const { workers, topology } = opts;
  const ops: ClusterOps = {
    refresh,
    addWorker: (request) => workers.add(request),
    removeWorker: (id, drainTimeoutMs) => workers.remove(id, drainTimeoutMs),
    drainWorker: (id, drainTimeoutMs) => workers.drain(id, drainTimeoutMs),
    undrainWorker: (id) => workers.undrain(id),
    restartWorker: (id) => workers.restart(id),
    stopWorker: (id) => workers.stop(id),
    apply: (files, note) => topology.apply(files, note),
    rollback: (version) => topology.rollback(version),
    validate: async (files) => (await topology.validate(files)).issues,
    importFiles: (files) => importTopologyFiles(files),
    async setDraft(draft) {
      await drafts.save(draft);
      state.update({ draft });
    },
    consoleAt: (version) => topology.consoleAt(version),
  };
  const executor = new ClusterCommandExecutor({ state, ops });
  const current = (
    build: Parameters<ClusterCommandExecutor['runCurrent']>[0],
  ): Promise<ClusterCommandResult> => executor.runCurrent(build);

  return {
    state,
    executor,
    refresh,
    refreshWorkers() {
      state.update({ workers: opts.views(), proxyPort: opts.proxyPort() });
    },
    handlers: () => ({
      'cluster:snapshot': () => Promise.resolve(state.snapshot()),
      'cluster:command': (request) => executor.run(request),
      'workers:add': async (request) =>
        needs((await current(() => ({ kind: 'addWorker', request }))).worker, 'a worker'),
      'workers:remove': async (id, options) => {
        await current(() => ({
          kind: 'removeWorker',
          id,
          drainTimeoutMs: options?.drainTimeoutMs,
        }));
      },
      'workers:restart': async (id) =>
        needs((await current(() => ({ kind: 'restartWorker', id }))).worker, 'a worker').status,
      'workers:stop': async (id) =>
        needs((await current(() => ({ kind: 'stopWorker', id }))).worker, 'a worker').status,
      'topology:apply': async (files) =>
        needs(
          (
            await current((s) => ({
              kind: 'applyConfig',
              files,
              baseTopologyVersion: s.topology.appliedVersion,
            }))
          ).applied,
          'an apply result',
        ),
      'topology:rollback': async (version) =>
        needs((await current(() => ({ kind: 'rollback', version }))).applied, 'an apply result'),
      'topology:import': async (files) =>
        needs((await current(() => ({ kind: 'importFiles', files }))).imported, 'an import result'),
    }),
    async applyLayout(layout) {
      const files = await workers.layoutFiles(layout);
      const note = `planner: ${layout.contextWorkers} ctx + ${layout.generationWorkers} gen`;
      const result = await current((s) => ({
        kind: 'applyConfig',
        files,
        baseTopologyVersion: s.topology.appliedVersion,
        note,
      }));
      return needs(result.applied, 'an apply result');
    },
  };
}
