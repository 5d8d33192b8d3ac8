// The local workers (feature C3): state, GPUs, port, engine, uptime, restarts, in-flight requests and row
// actions (logs, restart, stop, remove safely with a confirmation). Layer: renderer.

import { type ReactNode, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import type { WorkerView } from '../../../shared/model/worker-view';
import { EmptyState } from '../../components/empty-state';
import { StateBadge } from '../../components/state-badge';
import { formatAddress, formatCount, formatDuration } from '../../lib/format';
import { useNow } from '../../lib/use-now';
import { useAppStore } from '../../store/app-store-context';
import { selectLocalWorkers, selectPendingFor } from '../../store/selectors';

/** Where the release shown in a row came from (docs/upstream-versions.md section 8). */
const VERSION_SOURCE_TEXT: Record<NonNullable<WorkerView['trtllm']>['source'], string> = {
  endpoint: 'reported by the worker (/version)',
  binary: 'reported by trtllm-serve --version',
  setting: 'set in the console settings',
};

function WorkerRow({ w, nowMs }: { w: WorkerView; nowMs: number }): ReactNode {
  const busy = useAppStore((s) => s.workerBusy[w.id] ?? selectPendingFor(s, w.id));
  const restart = useAppStore((s) => s.restartWorker);
  const stop = useAppStore((s) => s.stopWorker);
  const remove = useAppStore((s) => s.removeWorker);
  const openLogs = useAppStore((s) => s.openLogs);
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
        {w.trtllm ? (
          <div
            className="dim"
            style={{ fontSize: 12 }}
            data-testid={`worker-version-${w.id}`}
            title={VERSION_SOURCE_TEXT[w.trtllm.source]}
          >
            TensorRT-LLM {w.trtllm.reported ?? w.trtllm.version}
          </div>
        ) : null}
      </td>
      <td className="num">{uptime ? formatDuration(Math.max(0, nowMs - uptime)) : '—'}</td>
      <td className="num">{formatCount(st.restarts)}</td>
      <td className="num">{formatCount(active)}</td>
      <td>
        <div className="btn-group">
          <button
            type="button"
            className="btn btn-small"
            onClick={() => openLogs(w.id)}
            aria-label={`Logs of ${w.id}`}
          >
            Logs
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={Boolean(busy)}
            onClick={() => void restart(w.id)}
            aria-label={`Restart ${w.id}`}
          >
            Restart
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={Boolean(busy) || st.state === 'stopped'}
            onClick={() => void stop(w.id)}
            aria-label={`Stop ${w.id}`}
          >
            Stop
          </button>
          {isConfirming ? (
            <>
              <button
                type="button"
                className="btn btn-small btn-danger"
                disabled={Boolean(busy)}
                onClick={() => void remove(w.id).then(() => setConfirming(false))}
                aria-label={`Confirm removing ${w.id}`}
              >
                Drain and remove
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </>
          ) : (
            <button
              type="button"
              className="btn btn-small btn-danger"
              disabled={Boolean(busy)}
              onClick={() => setConfirming(true)}
              aria-label={`Remove ${w.id}`}
            >
              Remove
            </button>
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
    <section className="panel" aria-labelledby="workers-title">
      <div className="panel-head">
        <h2 id="workers-title">Workers</h2>
        <span className="dim">{workers.length > 0 ? `${workers.length} local` : ''}</span>
      </div>
      {error ? <div className="error-box">{error}</div> : null}
      {isLoaded && workers.length === 0 && !error ? (
        <EmptyState title="No workers yet">
          Click a free GPU above to add a context or generation worker, or use a preset (1+1 is the
          smallest working pair).
        </EmptyState>
      ) : null}
      {workers.length > 0 ? (
        <div style={{ overflowX: 'auto' }}>
          <table className="table" aria-label="Local workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>State</th>
                <th>GPUs</th>
                <th>Address</th>
                <th>Engine</th>
                <th>Uptime</th>
                <th>Restarts</th>
                <th>In flight</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <WorkerRow key={w.id} w={w} nowMs={nowMs} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
