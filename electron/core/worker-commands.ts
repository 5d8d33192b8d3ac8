// The worker-level cluster operations behind the command executor: add (named, placed, written into the
// topology and started through the same apply as the editor's), remove (safe removal, then the topology
// without it, also the last worker of a role), drain/undrain, restart, stop; and the topology files of the
// planner's layouts and the first-start demo. Each answer says what really happened. Layer: core.

import { AppError } from '../../shared/api/envelope';
import {
  filesForLayout,
  filesWithWorkerAdded,
  filesWithWorkerRemoved,
  layoutWorkerNames,
  newWorkerOptions,
  workerFromRequest,
} from '../../shared/logic/topology-edit';
import { firstFreePort, nextWorkerName } from '../../shared/logic/worker-allocation';
import type { PlannerLayout } from '../../shared/model/bench';
import type { TopologyFiles } from '../../shared/model/topology';
import type { WorkerAddRequest, WorkerView } from '../../shared/model/worker-view';
import type { ClusterMembership } from './membership';
import type { ProxyHost } from './proxy-host';
import type { RegistryService } from './registry-service';
import type { SettingsService } from './settings-service';
import type { CommandOutcome } from './state/cluster-commands';
import { probePort } from './supervisor/port-allocator';
import type { SafeRemovalReport } from './supervisor/safe-removal';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';
import type { TopologyService } from './topology/topology-service';
import type { WorkerRemoval } from './worker-removal';

/** Worker operations, each one cluster command. */
export interface WorkerCommands {
  add(request: WorkerAddRequest): Promise<CommandOutcome>;
  remove(id: string, drainTimeoutMs?: number): Promise<CommandOutcome>;
  drain(id: string, drainTimeoutMs?: number): Promise<CommandOutcome>;
  undrain(id: string): Promise<CommandOutcome>;
  restart(id: string): Promise<CommandOutcome>;
  stop(id: string): Promise<CommandOutcome>;
  /** The topology of a planner layout (ctx0..ctx{c-1} + gen0..gen{g-1}; workers kept by name stay as they are). */
  layoutFiles(layout: PlannerLayout): Promise<TopologyFiles>;
  /** The first-start demo: ctx0 + gen0 (simulated) on GPUs 0 and 1. */
  demoFiles(): Promise<TopologyFiles>;
}

/** Options of createWorkerCommands. */
export interface WorkerCommandsOptions {
  supervisor: WorkerSupervisor;
  topology: TopologyService;
  membership: ClusterMembership;
  registry: RegistryService;
  removal: WorkerRemoval;
  proxy: ProxyHost;
  settings: SettingsService;
  /** The view of a worker by id (local or remote). */
  view: (id: string) => WorkerView;
  /** First port tried for a new worker (upstream's examples use 8001 up). */
  firstWorkerPort: number;
}

/** What a removal report says beyond "done", for the command's warnings. */
function removalWarnings(report: SafeRemovalReport): string[] {
  return report.steps
    .filter((s) => s.outcome !== 'done')
    .map((s) => `${s.name} ${s.outcome}${s.detail ? `: ${s.detail}` : ''}`);
}

/** A free port for a new worker, avoiding the topology's, the live workers' and the proxy's. */
async function freeWorkerPort(
  opts: WorkerCommandsOptions,
  topologyPorts: Iterable<number>,
): Promise<number> {
  const { supervisor } = opts;
  const livePorts = supervisor.list().map((s) => supervisor.spec(s.id).port);
  const taken = new Set([...topologyPorts, ...livePorts, opts.proxy.port]);
  const first = opts.firstWorkerPort;
  const last = Math.min(65535, first + 999);
  const isFree = async (p: number): Promise<boolean> => (await probePort('127.0.0.1', p)).free;
  const port = await firstFreePort({ first, last, taken, isFree });
  if (port === null) {
    throw new AppError('PORT_IN_USE', `no free port between ${first} and ${last} for a new worker`);
  }
  return port;
}

/** A remote worker: the console can only stop routing to it by deleting its registry key. */
async function removeRemote(opts: WorkerCommandsOptions, id: string): Promise<CommandOutcome> {
  const { registry, membership } = opts;
  const r = registry.remote().find((x) => x.id === id);
  if (!r) throw new AppError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
  membership.drain(r.url);
  try {
    await registry.deregister(membership.applied(), r.url);
    registry.forget(id);
  } finally {
    membership.undrain(r.url);
  }
  return {
    summary: `removed ${id} from the registry; it keeps running on its own machine`,
    warnings: [],
  };
}

/** Applies the topology without the worker; a failure says the worker is stopped but still listed. */
async function dropFromTopology(
  opts: WorkerCommandsOptions,
  id: string,
  stoppedNote: string,
): Promise<void> {
  const { files, console: consoleTopo } = await opts.topology.current(
    opts.settings.get().clusterMode,
  );
  try {
    await opts.topology.apply(
      filesWithWorkerRemoved(files, consoleTopo, id, opts.proxy.port),
      `remove ${id}`,
    );
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const code = err instanceof AppError ? err.code : 'APPLY_FAILED';
    throw new AppError(code, `${id} ${stoppedNote} but is still in the topology: ${why}`, { id });
  }
}

/** The worker commands service. */
export function createWorkerCommands(opts: WorkerCommandsOptions): WorkerCommands {
  const { supervisor, topology, membership, registry, removal, proxy, settings } = opts;
  const isLocal = (id: string): boolean => supervisor.list().some((s) => s.id === id);
  const freePort = (topologyPorts: Iterable<number>): Promise<number> =>
    freeWorkerPort(opts, topologyPorts);

  return {
    async add(req) {
      const { files, console: consoleTopo } = await topology.current(settings.get().clusterMode);
      const taken = [
        ...consoleTopo.workers.map((w) => w.name),
        ...supervisor.list().map((s) => s.id),
        ...registry.remote().map((r) => r.id),
      ];
      const name = req.id ?? nextWorkerName(req.role, taken);
      const port = req.port ?? (await freePort(consoleTopo.workers.map((w) => w.port)));
      const worker = workerFromRequest(req, name, port);
      const applied = membership.applied();
      const cluster =
        consoleTopo.clusterMode === 'disagg_cluster' && applied?.mode === 'disagg_cluster'
          ? (applied.disagg.disagg_cluster ?? null)
          : null;
      await topology.apply(
        filesWithWorkerAdded(
          files,
          consoleTopo,
          worker,
          newWorkerOptions(req, cluster),
          proxy.port,
        ),
        `add ${name}`,
      );
      const view = opts.view(name);
      return {
        summary: `added ${name} (${req.role}) on GPU ${req.gpus.join(', ')}, port ${port}: ${view.status.state}`,
        worker: view,
        warnings: [],
      };
    },
    async remove(id, drainTimeoutMs) {
      const { console: consoleTopo } = await topology.current(settings.get().clusterMode);
      const isInTopology = consoleTopo.workers.some((w) => w.name === id);
      if (!isLocal(id) && !isInTopology) return removeRemote(opts, id);
      const report = isLocal(id) ? await removal.remove(id, drainTimeoutMs) : null;
      if (isInTopology) await dropFromTopology(opts, id, report ? 'is stopped' : 'was not running');
      const cut =
        report && report.cutOffRequests > 0
          ? ` (${report.cutOffRequests} request(s) still in flight were cut off)`
          : '';
      return {
        summary: `removed ${id}: stopped and dropped from the topology${cut}`,
        warnings: report ? removalWarnings(report) : [],
      };
    },
    async drain(id, drainTimeoutMs) {
      const report = await removal.drain(id, drainTimeoutMs);
      const cut =
        report.cutOffRequests > 0
          ? `; ${report.cutOffRequests} request(s) were still in flight when the wait ended`
          : '';
      return {
        summary: `drained ${id}: the proxy sends it no new request${cut}`,
        worker: opts.view(id),
        warnings: removalWarnings(report),
      };
    },
    undrain(id) {
      removal.undrain(id);
      return Promise.resolve({
        summary: `${id} takes new requests again`,
        worker: opts.view(id),
        warnings: [],
      });
    },
    async restart(id) {
      const status = await supervisor.restart(id);
      return { summary: `restarted ${id}: ${status.state}`, worker: opts.view(id), warnings: [] };
    },
    async stop(id) {
      const status = await supervisor.stop(id);
      return {
        summary: `stopped ${id} (${status.state}); it stays in the topology`,
        worker: opts.view(id),
        warnings: [],
      };
    },
    async layoutFiles(layout) {
      const { files, console: consoleTopo } = await topology.current(settings.get().clusterMode);
      const ports: number[] = consoleTopo.workers.map((w) => w.port);
      const fresh = layoutWorkerNames(layout).filter(
        (x) => !consoleTopo.workers.some((w) => w.name === x.name && w.role === x.role),
      );
      for (let i = 0; i < fresh.length; i++) ports.push(await freePort(ports));
      const newPorts = ports.slice(consoleTopo.workers.length);
      return filesForLayout(files, consoleTopo, layout, {
        ports: newPorts,
        engine: settings.get().defaultEngine,
        proxyPort: proxy.port,
      });
    },
    async demoFiles() {
      // The demo is the planner's 1 + 1 layout on an empty topology, simulated.
      const ports = [await freePort([])];
      ports.push(await freePort(ports));
      const empty = { clusterMode: 'static' as const, expectedMaxInputTokens: null, workers: [] };
      const layout = { contextWorkers: 1, generationWorkers: 1 };
      return filesForLayout({}, empty, layout, {
        ports,
        engine: 'simulated',
        proxyPort: proxy.port,
      });
    },
  };
}
