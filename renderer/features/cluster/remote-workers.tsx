// Workers registered in etcd by other machines or jobs (feature C5), listed apart with their host.
// Layer: renderer.

import type { ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { DataTable } from '../../components/data-table';
import { Panel } from '../../components/panel';
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

const COLUMNS = ['Worker', 'Role', 'Host', 'State', 'Last seen'];

/** One remote worker: a mirrored worker view, or a registry entry the console has no view of. */
function RemoteRow({
  worker: { id, role, url },
  state,
  lastSeen,
}: {
  worker: { id: string; role: string; url: string };
  state: ReactNode;
  /** The last-seen cell (its class differs between the two kinds). */
  lastSeen: ReactNode;
}): ReactNode {
  return (
    <tr>
      <td className="mono">{id}</td>
      <td className={`role-${role}`}>{role}</td>
      <td className="mono">{hostOf(url)}</td>
      <td>{state}</td>
      {lastSeen}
    </tr>
  );
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
    <Panel
      title="Remote workers"
      titleId="remote-title"
      note={
        <>
          from {cluster?.mode === 'disagg_cluster' ? 'disagg_cluster' : 'etcd'}{' '}
          {cluster?.etcd.endpoint ?? ''}
        </>
      }
    >
      <DataTable label="Remote workers" columns={COLUMNS}>
        {remote.map((w) => (
          <RemoteRow
            key={w.id}
            worker={w}
            state={<StateBadge state={w.status.state} />}
            lastSeen={<td className="dim">—</td>}
          />
        ))}
        {registryOnly.map((r) => (
          <RemoteRow
            key={r.id}
            worker={r}
            state={
              r.isHealthy === null ? (
                <span className="dim">unknown</span>
              ) : (
                <StateBadge state={r.isHealthy ? 'ready' : 'degraded'} />
              )
            }
            lastSeen={<td className="num">{formatClock(r.lastSeenMs)}</td>}
          />
        ))}
      </DataTable>
    </Panel>
  );
}
