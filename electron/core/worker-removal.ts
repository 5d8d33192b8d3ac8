// Safe removal and draining of this console's workers, over supervisor/safe-removal.ts: the ports are the
// membership (stop routing), the proxy's in-flight counters, the registry (delete the worker's key; in
// disagg_cluster mode that IS how routing stops) and the supervisor (stop the process). Layer: core.

import { workerUrlOf } from '../../shared/logic/worker-url';
import { type BackendLog, errText } from './event-hub';
import type { ClusterMembership } from './membership';
import type { ProxyHost } from './proxy-host';
import type { RegistryService } from './registry-service';
import {
  drainWorkerSafely,
  removeWorkerSafely,
  type SafeRemovalPorts,
  type SafeRemovalReport,
} from './supervisor/safe-removal';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';

/** Removal and draining of local workers. */
export interface WorkerRemoval {
  /** Stop routing, drain (bounded), deregister, wait for the proxy to drop it, stop and forget the process. */
  remove(id: string, drainTimeoutMs?: number): Promise<SafeRemovalReport>;
  /** Stop routing and drain (bounded); the worker keeps running until undrain. */
  drain(id: string, drainTimeoutMs?: number): Promise<SafeRemovalReport>;
  undrain(id: string): void;
  /** Whether a local worker is drained now. */
  isDrained(id: string): boolean;
}

/** Options of createWorkerRemoval. */
export interface WorkerRemovalOptions {
  supervisor: WorkerSupervisor;
  membership: ClusterMembership;
  proxy: ProxyHost;
  registry: RegistryService;
  log: BackendLog;
}

/** The removal service. */
export function createWorkerRemoval(opts: WorkerRemovalOptions): WorkerRemoval {
  const { supervisor, membership, proxy, registry, log } = opts;
  const urlOf = (id: string): string => workerUrlOf(supervisor.spec(id));
  const inFlightOf = async (url: string): Promise<number> =>
    (await proxy.inFlight()).find((w) => w.url === url)?.inFlight ?? 0;
  const deregister = (id: string, url: string): Promise<void> =>
    registry
      .deregister(membership.applied(), url)
      .catch((err: unknown) => log('warn', `deregistering ${id}: ${errText(err)}`));

  const portsFor = (url: string): SafeRemovalPorts => ({
    async stopRouting(id) {
      membership.drain(url);
      // In disagg_cluster mode the proxy watches the registry: deleting the key is what stops routing.
      if (membership.applied()?.mode === 'disagg_cluster') await deregister(id, url);
    },
    inFlight: () => inFlightOf(url),
    deregister: (id) => deregister(id, url),
    isKnownToProxy: async () => (await proxy.inFlight()).some((w) => w.url === url),
    stopProcess: (id) => supervisor.remove(id),
  });

  return {
    async remove(id, drainTimeoutMs) {
      const url = urlOf(id);
      try {
        return await removeWorkerSafely(id, portsFor(url), {
          drainTimeoutMs,
          proxyDropTimeoutMs: 5000,
          pollIntervalMs: 100,
        });
      } finally {
        membership.undrain(url);
      }
    },
    drain: (id, drainTimeoutMs) =>
      drainWorkerSafely(id, portsFor(urlOf(id)), { drainTimeoutMs, pollIntervalMs: 100 }),
    undrain(id) {
      membership.undrain(urlOf(id));
    },
    isDrained: (id) =>
      supervisor.list().some((s) => s.id === id) && membership.drained().has(urlOf(id)),
  };
}
