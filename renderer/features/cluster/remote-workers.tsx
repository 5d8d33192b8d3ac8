// Workers registered in etcd by other machines or jobs (feature C5), listed apart with their host.
// Layer: renderer.

import type { ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { StateBadge } from '../../components/state-badge';
import { formatClock } from '../../lib/format';
import { useAppStore } from '../../store/app-store-context';
import { selectRemoteWorkers } from '../../store/selectors';

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function RemoteWorkers(): ReactNode {
  const remote = useAppStore(useShallow(selectRemoteWorkers));
  const cluster = useAppStore((s) => s.clusterStatus);
  const registryOnly = (cluster?.remoteWorkers ?? []).filter(
    (r) => !remote.some((w) => w.id === r.id),
  );
  if (remote.length === 0 && registryOnly.length === 0) {
    if (!cluster || cluster.mode === 'static') return null;
    return (
      <section className="panel">
        <h2>Remote workers</h2>
        <p className="dim">
          None registered in {cluster.etcd.endpoint ?? 'etcd'} yet. Workers started elsewhere with
          the same etcd show up here.
        </p>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="remote-title">
      <div className="panel-head">
        <h2 id="remote-title">Remote workers</h2>
        <span className="dim">
          from {cluster?.mode === 'disagg_cluster' ? 'disagg_cluster' : 'etcd'}{' '}
          {cluster?.etcd.endpoint ?? ''}
        </span>
      </div>
      <table className="table" aria-label="Remote workers">
        <thead>
          <tr>
            <th>Worker</th>
            <th>Role</th>
            <th>Host</th>
            <th>State</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {remote.map((w) => (
            <tr key={w.id}>
              <td className="mono">{w.id}</td>
              <td className={`role-${w.role}`}>{w.role}</td>
              <td className="mono">{hostOf(w.url)}</td>
              <td>
                <StateBadge state={w.status.state} />
              </td>
              <td className="dim">—</td>
            </tr>
          ))}
          {registryOnly.map((r) => (
            <tr key={r.id}>
              <td className="mono">{r.id}</td>
              <td className={`role-${r.role}`}>{r.role}</td>
              <td className="mono">{hostOf(r.url)}</td>
              <td>
                {r.isHealthy === null ? (
                  <span className="dim">unknown</span>
                ) : (
                  <StateBadge state={r.isHealthy ? 'ready' : 'degraded'} />
                )}
              </td>
              <td className="num">{formatClock(r.lastSeenMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
