// Who the proxy routes to, in static and metadata modes (in disagg_cluster mode the proxy watches the cluster
// itself): ready local workers, the applied topology's static urls of other machines and healthy remote
// workers, minus the drained ones. Owns the applied topology's membership view and the drained set.
// Layer: core.

import { normalizeUrl, workerUrlOf } from '../../shared/logic/worker-url';
import type { RemoteWorker } from '../../shared/model/cluster';
import type { Membership, ProxyHost } from './proxy-host';
import type { AppliedTopology } from './registry-service';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';

/** The membership part of the backend. */
export interface ClusterMembership {
  /** The applied topology's membership settings (null before the first apply). */
  applied(): AppliedTopology | null;
  setApplied(t: AppliedTopology): void;
  /** Local workers by url. */
  localUrls(): Map<string, string>;
  /** Urls drained (no new requests) right now. */
  drained(): ReadonlySet<string>;
  /** Stops routing new requests to url (until undrain). */
  drain(url: string): void;
  undrain(url: string): void;
  /** Pushes the wanted membership to the proxy (a no-op when unchanged or in disagg_cluster mode). */
  sync(): void;
  /** The workers the proxy routes to now (in disagg_cluster mode: the registered ones it watches). */
  members(): Membership;
}

/** Options of createMembership. */
export interface MembershipOptions {
  supervisor: WorkerSupervisor;
  proxy: ProxyHost;
  remote: () => RemoteWorker[];
}

/** The membership service. */
export function createMembership(opts: MembershipOptions): ClusterMembership {
  const { supervisor } = opts;
  let applied: AppliedTopology | null = null;
  const draining = new Set<string>();

  const localUrls = (): Map<string, string> =>
    new Map(supervisor.list().map((s) => [workerUrlOf(supervisor.spec(s.id)), s.id]));

  const wanted = (): Membership => {
    const want: Membership = { context: [], generation: [] };
    const local = localUrls();
    for (const s of supervisor.list()) {
      const spec = supervisor.spec(s.id);
      const url = workerUrlOf(spec);
      if ((s.state === 'ready' || s.state === 'degraded') && !draining.has(url)) {
        want[spec.role].push(url);
      }
    }
    if (applied?.mode === 'static') {
      const { context_servers: ctx, generation_servers: gen } = applied.disagg;
      for (const [role, urls] of [
        ['context', ctx.urls],
        ['generation', gen.urls],
      ] as const) {
        for (const u of urls) {
          const url = normalizeUrl(u);
          if (!local.has(url) && !draining.has(url)) want[role].push(url);
        }
      }
    }
    for (const r of opts.remote()) {
      if (r.isHealthy !== false && !draining.has(r.url)) want[r.role].push(r.url);
    }
    return want;
  };

  const membership: ClusterMembership = {
    applied: () => applied,
    setApplied(t) {
      applied = t;
    },
    localUrls,
    drained: () => draining,
    drain(url) {
      draining.add(url);
      membership.sync();
    },
    undrain(url) {
      draining.delete(url);
      membership.sync();
    },
    sync() {
      if (applied?.mode !== 'disagg_cluster') opts.proxy.setMembership(wanted());
    },
    members: wanted,
  };
  return membership;
}
