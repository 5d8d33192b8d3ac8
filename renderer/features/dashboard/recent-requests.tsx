// The Dashboard's Recent requests panel (feature O4): the newest requests the proxy finished (time, endpoint,
// outcome, context and generation worker, TTFT, TPOT, tokens), filtered by outcome and worker, live from
// `requests:recorded`; a click on a row opens its timeline (proxy routing, context queue + prefill, KV
// hand-off, generation, a tick per token). Layer: renderer.

import { type ReactNode, useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { requestTimeline } from '../../../shared/logic/request-timeline';
import { isOkOutcome, type RequestSummary } from '../../../shared/model/requests';
import { Button } from '../../components/button';
import { DataTable } from '../../components/data-table';
import { ErrorBox } from '../../components/error-box';
import { PanelHead } from '../../components/panel-head';
import { type SelectChoice, SelectField } from '../../components/select-field';
import { TimelineBar } from '../../components/timeline-bar';
import { formatAddress, formatClock, formatCount, formatMs } from '../../lib/format';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import { requestKey, type RequestsFilter } from '../../store/requests-slice';
import { selectLocalWorkers, selectRemoteWorkers } from '../../store/selectors';

/** Rows shown at once (the store keeps more for filters applied later). */
const ROWS_SHOWN = 50;

const COLUMNS = [
  'Time',
  'Endpoint',
  'Outcome',
  'Context worker',
  'Generation worker',
  'TTFT',
  'TPOT',
  'Tokens in / out',
];

const OUTCOME_CHOICES: SelectChoice<RequestsFilter['outcome']>[] = [
  { value: 'all' },
  { value: 'ok' },
  { value: 'errors' },
];

/** A filter beside the panel's title: caption and control on one line. */
const INLINE_FIELD = { flexDirection: 'row', alignItems: 'center', gap: 6 } as const;

function timeOfDay(ms: number): string {
  return `${formatClock(ms)}.${String(new Date(ms).getMilliseconds()).padStart(3, '0')}`;
}

function workerCell(id: string | null, url: string | null): string {
  return id ?? (url === null ? '—' : formatAddress(url));
}

function OpenTimeline(): ReactNode {
  const open = useAppStore((s) => s.openRequest);
  const close = useAppStore((s) => s.openRequestTimeline);
  const timeline = useMemo(() => (open?.detail ? requestTimeline(open.detail) : null), [open]);
  if (!open) return null;
  const d = open.detail;
  return (
    <div
      className="panel"
      style={{ marginTop: 10 }}
      aria-label={`Timeline of request ${open.id}`}
      data-testid="request-timeline"
    >
      <div className="panel-head">
        <h3 style={{ margin: 0, fontSize: 14 }}>Request {open.id}</h3>
        {d ? (
          <span className="dim">
            {d.endpoint} · {d.isStream ? 'stream' : 'whole answer'} · HTTP {d.status}
            {d.retries > 0 ? ` · ${d.retries} retries` : ''} · {formatCount(d.tokenEvents)} token
            events
          </span>
        ) : null}
        <span className="spacer" />
        <Button isSmall onClick={() => close(null)}>
          Close
        </Button>
      </div>
      {open.error ? <p className="hint">{open.error}</p> : null}
      {!d && !open.error ? <p className="hint">Loading…</p> : null}
      {d && timeline ? (
        <>
          <TimelineBar label={`Timeline of request ${d.id}`} {...timeline} />
          {d.errorMessage ? (
            <div className="error-box" role="alert" style={{ marginTop: 8 }}>
              {d.errorMessage}
            </div>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function RequestRow({
  r,
  isOpen,
  onOpen,
}: {
  r: RequestSummary;
  isOpen: boolean;
  onOpen: (r: RequestSummary) => void;
}): ReactNode {
  return (
    <tr
      tabIndex={0}
      aria-selected={isOpen}
      style={{ cursor: 'pointer', background: isOpen ? 'var(--bar-bg)' : undefined }}
      onClick={() => onOpen(r)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onOpen(r);
        }
      }}
      data-request-id={r.id}
    >
      <td className="num mono">{timeOfDay(r.receivedAtMs)}</td>
      <td>
        {r.endpoint}
        {r.isStream ? '' : ' (whole)'}
      </td>
      <td>
        <span
          className={`badge ${isOkOutcome(r.outcome) ? 'state-ready' : 'state-errored'}`}
          title={r.errorMessage ?? undefined}
        >
          {r.outcome}
        </span>
      </td>
      <td className="mono">{workerCell(r.ctxWorkerId, r.ctxWorkerUrl)}</td>
      <td className="mono">{workerCell(r.genWorkerId, r.genWorkerUrl)}</td>
      <td className="num">{formatMs(r.ttftMs)}</td>
      <td className="num">{formatMs(r.tpotMs)}</td>
      <td className="num">
        {formatCount(r.promptTokens)} / {formatCount(r.completionTokens)}
      </td>
    </tr>
  );
}

export function RecentRequests(): ReactNode {
  const {
    recentRequests: rows,
    requestsFilter: filter,
    requestsLoaded: isLoaded,
    requestsError: error,
  } = useAppFields('recentRequests', 'requestsFilter', 'requestsLoaded', 'requestsError');
  const openKey = useAppStore((s) => s.openRequest?.key ?? null);
  const {
    setRequestsFilter: setFilter,
    openRequestTimeline: open,
    loadRequests: reload,
  } = useAppFields('setRequestsFilter', 'openRequestTimeline', 'loadRequests');
  const local = useAppStore(useShallow(selectLocalWorkers));
  const remote = useAppStore(useShallow(selectRemoteWorkers));
  const workerIds = [...local, ...remote].map((w) => w.id);

  const filters = (
    <>
      <SelectField
        label="Outcome"
        style={INLINE_FIELD}
        value={filter.outcome}
        choices={OUTCOME_CHOICES}
        onChange={(outcome) => void setFilter({ outcome })}
      />
      <SelectField
        label="Worker"
        style={INLINE_FIELD}
        value={filter.worker ?? ''}
        choices={[{ value: '', label: 'all' }, ...workerIds.map((id) => ({ value: id }))]}
        onChange={(worker) => void setFilter({ worker: worker === '' ? null : worker })}
      />
    </>
  );

  return (
    <section className="panel" aria-label="Recent requests" style={{ marginTop: 12 }}>
      <PanelHead
        title="Recent requests"
        note="newest first · click a row for its timeline"
        actions={filters}
      />
      <ErrorBox title="Recent requests could not be loaded" message={error} onRetry={reload} />
      {isLoaded && rows.length === 0 && !error ? (
        <p className="dim">
          No requests{' '}
          {filter.outcome !== 'all' || filter.worker !== null ? 'match this filter' : 'yet'}. Send a
          prompt from the Playground or point a client at the proxy.
        </p>
      ) : null}
      {rows.length > 0 ? (
        <DataTable label="Recent requests" columns={COLUMNS} isScrollable>
          {rows.slice(0, ROWS_SHOWN).map((r) => (
            <RequestRow
              key={requestKey(r)}
              r={r}
              isOpen={openKey === requestKey(r)}
              onOpen={(row) => void open(row)}
            />
          ))}
        </DataTable>
      ) : null}
      <OpenTimeline />
    </section>
  );
}
