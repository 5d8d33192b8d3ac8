// The local workers (feature C3): state, GPUs, port, engine, uptime, restarts, in-flight requests and row
// actions (logs, restart, stop, remove safely with a confirmation). Layer: renderer.

import { type ReactNode, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import type { WorkerView } from '../../../shared/model/worker-view';
import { Button } from '../../components/button';
import { DataTable } from '../../components/data-table';
import { EmptyState } from '../../components/empty-state';
import { Panel } from '../../components/panel';
import { StateBadge } from '../../components/state-badge';
import { formatAddress, formatCount, formatDuration } from '../../lib/format';
import { useNow } from '../../lib/use-now';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import { selectLocalWorkers, selectPendingFor } from '../../store/selectors';

const COLUMNS = [
  'Worker',
  'State',
  'GPUs',
  'Address',
  'Engine',
  'Uptime',
  'Restarts',
  'In flight',
  'Actions',
];

function WorkerRow({ w, nowMs }: { w: WorkerView; nowMs: number }): ReactNode {
  const busy = useAppStore((s) => s.workerBusy[w.id] ?? selectPendingFor(s, w.id));
  const {
    restartWorker: restart,
    stopWorker: stop,
    removeWorker: remove,
    openLogs,
  } = useAppFields('restartWorker', 'stopWorker', 'removeWorker', 'openLogs');
  const active = useAppStore((s) => {
    void s.metricsVersion;
    return s.series.iteration.get(w.id)?.last()?.activeRequests ?? null;
  });
  const [isConfirming, setConfirming] = useState(false);
  const st = w.status;
  const uptime =
    st.state === 'ready' || st.state === 'degraded' ? (st.readyAtMs ?? st.startedAtMs) : null;
  return (
    <tr data-testid={`worker-row-${w.id}`}>
      <td>
        <strong>{w.id}</strong>
        <div className={`role-${w.role}`} style={{ fontSize: 12 }}>
          {w.role}
        </div>
      </td>
      <td>
        <StateBadge state={st.state} />
        {busy ? (
          <div className="dim" style={{ fontSize: 12 }}>
            {busy}…
          </div>
        ) : null}
        {st.state === 'starting' && st.progress ? (
          <div className="progress-line">{st.progress.message}</div>
        ) : null}
        {(st.state === 'errored' || st.state === 'backoff') && (st.message || st.lastExit) ? (
          <div className="issue-error" style={{ fontSize: 12 }}>
            {st.message ??
              st.lastExit?.reason ??
              `exit ${st.lastExit?.code ?? st.lastExit?.signal ?? '?'}`}
          </div>
        ) : null}
      </td>
      <td className="num">{w.spec ? w.spec.gpus.join(', ') : '—'}</td>
      <td className="mono">{formatAddress(w.url)}</td>
      <td>
        {w.spec?.engine === 'simulated' ? (
          <span className="badge sim-badge nodot">simulated</span>
        ) : (
          <span className="dim">{w.spec?.engine ?? '—'}</span>
        )}
      </td>
      <td className="num">{uptime ? formatDuration(Math.max(0, nowMs - uptime)) : '—'}</td>
      <td className="num">{formatCount(st.restarts)}</td>
      <td className="num">{formatCount(active)}</td>
      <td>
        <div className="btn-group">
          <Button isSmall onClick={() => openLogs(w.id)} aria-label={`Logs of ${w.id}`}>
            Logs
          </Button>
          <Button
            isSmall
            disabled={Boolean(busy)}
            onClick={() => restart(w.id)}
            aria-label={`Restart ${w.id}`}
          >
            Restart
          </Button>
          <Button
            isSmall
            disabled={Boolean(busy) || st.state === 'stopped'}
            onClick={() => stop(w.id)}
            aria-label={`Stop ${w.id}`}
          >
            Stop
          </Button>
          {isConfirming ? (
            <>
              <Button
                isSmall
                variant="danger"
                disabled={Boolean(busy)}
                onClick={() => remove(w.id).then(() => setConfirming(false))}
                aria-label={`Confirm removing ${w.id}`}
              >
                Drain and remove
              </Button>
              <Button isSmall onClick={() => setConfirming(false)}>
                Cancel
              </Button>
            </>
          ) : (
            <Button
              isSmall
              variant="danger"
              disabled={Boolean(busy)}
              onClick={() => setConfirming(true)}
              aria-label={`Remove ${w.id}`}
            >
              Remove
            </Button>
          )}
        </div>
      </td>
    </tr>
  );
}

export function WorkerList(): ReactNode {
  const workers = useAppStore(useShallow(selectLocalWorkers));
  const isLoaded = useAppStore((s) => s.cluster !== null);
  const error = useAppStore((s) => s.clusterError);
  const nowMs = useNow(1000);
  return (
    <Panel
      title="Workers"
      titleId="workers-title"
      note={workers.length > 0 ? `${workers.length} local` : ''}
    >
      {error ? <div className="error-box">{error}</div> : null}
      {isLoaded && workers.length === 0 && !error ? (
        <EmptyState title="No workers yet">
          Click a free GPU above to add a context or generation worker, or use a preset (1+1 is the
          smallest working pair).
        </EmptyState>
      ) : null}
      {workers.length > 0 ? (
        <DataTable label="Local workers" columns={COLUMNS} isScrollable>
          {workers.map((w) => (
            <WorkerRow key={w.id} w={w} nowMs={nowMs} />
          ))}
        </DataTable>
      ) : null}
    </Panel>
  );
}
