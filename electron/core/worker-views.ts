// WorkerView, the console API's picture of a worker, for local workers (the supervisor's spec and status)
// and remote ones (registered by other machines, healthy or not). Layer: core.

import { stoppedStatus } from '../../shared/logic/worker-state';
import { workerUrlOf } from '../../shared/logic/worker-url';
import type { RemoteWorker } from '../../shared/model/cluster';
import type { WorkerStatus } from '../../shared/model/worker';
import type { WorkerView } from '../../shared/model/worker-view';
import type { RegistryService } from './registry-service';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';
import type { WorkerRemoval } from './worker-removal';

/** The view of a local worker. */
export function localView(
  supervisor: WorkerSupervisor,
  status: WorkerStatus,
  isDrained: boolean,
): WorkerView {
  const spec = supervisor.spec(status.id);
  return {
    id: status.id,
    role: spec.role,
    url: workerUrlOf(spec),
    origin: 'local',
    spec,
    status,
    ...(isDrained ? { isDrained: true as const } : {}),
  };
}

/** The view of a worker another machine registered. */
export function remoteView(r: RemoteWorker): WorkerView {
  const isUnhealthy = r.isHealthy === false;
  return {
    id: r.id,
    role: r.role,
    url: r.url,
    origin: 'remote',
    spec: null,
    // Another machine runs it: no process or history of ours, only whether its health check passes.
    status: {
      ...stoppedStatus(r.id),
      state: isUnhealthy ? 'degraded' : 'ready',
      message: isUnhealthy ? 'health check failed' : null,
    },
  };
}

/** "1 ctx + 2 gen (simulated)": how load-test runs name the topology they ran against; null without local workers. */
export function topologyLabelOf(views: readonly WorkerView[]): string | null {
  const specs = views.flatMap((v) => (v.spec ? [v.spec] : []));
  if (specs.length === 0) return null;
  const n = (role: WorkerView['role']): number => specs.filter((x) => x.role === role).length;
  return `${n('context')} ctx + ${n('generation')} gen (${[...new Set(specs.map((x) => x.engine))].join(', ')})`;
}

/** Every worker's view (local ones first) and one worker's view by id. */
export function createWorkerViews(
  supervisor: WorkerSupervisor,
  registry: Pick<RegistryService, 'remote'>,
  removal: Pick<WorkerRemoval, 'isDrained'>,
): { views: () => WorkerView[]; view: (id: string) => WorkerView } {
  const local = (s: WorkerStatus): WorkerView => localView(supervisor, s, removal.isDrained(s.id));
  const views = (): WorkerView[] => [
    ...supervisor.list().map(local),
    ...registry.remote().map(remoteView),
  ];
  const view = (id: string): WorkerView => {
    const status = supervisor.list().find((s) => s.id === id);
    if (status) return local(supervisor.status(id));
    // A worker that is neither local nor registered (any more) says so in its view.
    const gone: RemoteWorker = {
      id,
      role: 'generation',
      url: '',
      model: null,
      isHealthy: false,
      lastSeenMs: 0,
    };
    return views().find((v) => v.id === id) ?? remoteView(gone);
  };
  return { views, view };
}
