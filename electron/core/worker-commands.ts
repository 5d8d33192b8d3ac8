// The worker-level cluster operations behind the command executor: add (named, placed, written into the
// topology and started through the same apply as the editor's), remove (safe removal, then the topology
// without it, also the last worker of a role), drain/undrain, restart, stop; and the topology files of the
// planner's layouts and the first-start demo. Each answer says what really happened. Layer: core.

import { AppError } from '../../shared/api/envelope';
import {
  filesWithWorkerAdded,
  filesWithWorkerRemoved,
  filesWithWorkers,
  newWorkerOptions,
  workerFromRequest,
} from '../../shared/logic/topology-edit';
import { firstFreePort, nextWorkerName } from '../../shared/logic/worker-allocation';
import { DEFAULT_MODEL_ID, workerOptionsTemplate } from '../../shared/logic/worker-template';
import type { PlannerLayout } from '../../shared/model/bench';
import type { TopologyFiles, TopologyWorker } from '../../shared/model/topology';
import type { WorkerRole } from '../../shared/model/worker';
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

/** The worker commands service. */
export function createWorkerCommands(opts: WorkerCommandsOptions): WorkerCommands {
  const { supervisor, topology, membership, registry, removal, proxy, settings } = opts;
  const isLocal = (id: string): boolean => supervisor.list().some((s) => s.id === id);

  /** A free port for a new worker, avoiding the topology's, the live workers' and the proxy's. */
  const freePort = async (topologyPorts: Iterable<number>): Promise<number> => {
    const taken = new Set([
      ...topologyPorts,
      ...supervisor.list().map((s) => supervisor.spec(s.id).port),
      proxy.port,
    ]);
    const last = Math.min(65535, opts.firstWorkerPort + 999);
    const port = await firstFreePort({
      first: opts.firstWorkerPort,
      last,
      taken,
      isFree: async (p) => (await probePort('127.0.0.1', p)).free,
    });
    if (port === null)
      {throw new AppError(
        'PORT_IN_USE',
        `no free port between ${opts.firstWorkerPort} and ${last} for a new worker`,
      );}
    return port;
  };

  const removeRemote = async (id: string): Promise<CommandOutcome> => {
    const r = registry.remote().find((x) => x.id === id);
    if (!r) throw new AppError('WORKER_NOT_FOUND', `no worker '${id}'`, { id });
    // A remote worker: the console can only stop routing to it by deleting its registry key.
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
  };

  const dropFromTopology = async (id: string, stoppedNote: string): Promise<void> => {
    const { files, console: consoleTopo } = await topology.current(settings.get().clusterMode);
    try {
      await topology.apply(
        filesWithWorkerRemoved(files, consoleTopo, id, proxy.port),
        `remove ${id}`,
      );
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new AppError(
        err instanceof AppError ? err.code : 'APPLY_FAILED',
        `${id} ${stoppedNote} but is still in the topology: ${why}`,
        { id },
      );
    }
  };

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
      if (!isLocal(id) && !isInTopology) return removeRemote(id);
      const report = isLocal(id) ? await removal.remove(id, drainTimeoutMs) : null;
      if (isInTopology) await dropFromTopology(id, report ? 'is stopped' : 'was not running');
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
      const first = consoleTopo.workers[0];
      const wanted: { name: string; role: WorkerRole }[] = [
        ...Array.from({ length: layout.contextWorkers }, (_, i) => ({
          name: `ctx${i}`,
          role: 'context' as const,
        })),
        ...Array.from({ length: layout.generationWorkers }, (_, i) => ({
          name: `gen${i}`,
          role: 'generation' as const,
        })),
      ];
      const kept = consoleTopo.workers.filter((w) =>
        wanted.some((x) => x.name === w.name && x.role === w.role),
      );
      const usedGpus = new Set(kept.flatMap((w) => w.gpus));
      const ports = kept.map((w) => w.port);
      const next: TopologyFiles = { ...files };
      for (const w of consoleTopo.workers)
        {if (!kept.includes(w) && w.optionsFile !== null) delete next[w.optionsFile];}
      const workers: TopologyWorker[] = [];
      for (const x of wanted) {
        const old = kept.find((w) => w.name === x.name);
        if (old) {
          workers.push(old);
          continue;
        }
        let gpu = 0;
        while (usedGpus.has(gpu)) gpu++;
        usedGpus.add(gpu);
        const port = await freePort(ports);
        ports.push(port);
        next[`${x.name}.yaml`] = workerOptionsTemplate(x.role);
        const request: WorkerAddRequest = {
          role: x.role,
          gpus: [gpu],
          model: first?.model ?? DEFAULT_MODEL_ID,
          engine: first?.engine ?? settings.get().defaultEngine,
          backend: first?.backend ?? 'pytorch',
          tpSize: 1,
          ppSize: 1,
          extraEnv: first?.env,
        };
        workers.push(workerFromRequest(request, x.name, port));
      }
      return filesWithWorkers(next, { ...consoleTopo, workers }, proxy.port);
    },
    async demoFiles() {
      const ctxPort = await freePort([]);
      const genPort = await freePort([ctxPort]);
      const demo = (name: string, role: WorkerRole, gpu: number, port: number): TopologyWorker =>
        workerFromRequest(
          { role, gpus: [gpu], model: DEFAULT_MODEL_ID, engine: 'simulated' },
          name,
          port,
        );
      const workers = [demo('ctx0', 'context', 0, ctxPort), demo('gen0', 'generation', 1, genPort)];
      const options = {
        'ctx0.yaml': workerOptionsTemplate('context'),
        'gen0.yaml': workerOptionsTemplate('generation'),
      };
      return filesWithWorkers(
        options,
        { clusterMode: 'static', expectedMaxInputTokens: null, workers },
        proxy.port,
      );
    },
  };
}
