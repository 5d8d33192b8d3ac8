// One playground response (feature G2): the streamed text, TTFT, TPOT, tokens, end-to-end time, the context
// and generation workers that served it, and timeline bars of its phases: the proxy's own record of the
// request (requests:get by x-disagg-request-id) when the console's proxy served it, and what the browser
// measured. Layer: renderer.

import type { ReactNode } from 'react';

import { requestTimeline } from '../../../shared/logic/request-timeline';
import { PanelHead } from '../../components/panel-head';
import { TimelineBar } from '../../components/timeline-bar';
import { formatAddress, formatCount, formatMs } from '../../lib/format';
import { timelineSegments } from '../../lib/openai-request';
import type { PlaygroundRun } from '../../store/store-types';

/** `ctx0 (127.0.0.1:8001)`, or whichever of the two is known, or a dash. */
function workerLabel(id: string | null | undefined, address: string | null | undefined): string {
  const addr = address ? formatAddress(address) : address;
  if (id && addr) return `${id} (${addr})`;
  return id ?? addr ?? '—';
}

function routeLabel(run: PlaygroundRun): string {
  if (!run.isConsoleProxy) return `direct to ${run.targetUrl}`;
  const r = run.request.route;
  if (!r.contextWorker && !r.generationWorker) return 'router picks';
  return `${r.contextWorker ?? 'any'} → ${r.generationWorker ?? 'any'}`;
}

const STATUS_CLASS: Record<PlaygroundRun['status'], string> = {
  done: 'state-ready',
  error: 'state-errored',
  stopped: 'state-degraded',
  streaming: 'state-starting',
};

export function ResponseCard({
  run,
  title,
}: {
  run: PlaygroundRun | null;
  title: string;
}): ReactNode {
  if (!run) {
    return (
      <section className="panel" aria-label={title}>
        <h2>{title}</h2>
        <p className="dim">
          Write a prompt and press Send (Ctrl+Enter). The reply streams here with its timings.
        </p>
      </section>
    );
  }
  const m = run.metrics;
  const segments = m ? timelineSegments(m) : [];
  const server = run.server;
  const serverTimeline = server?.detail ? requestTimeline(server.detail) : null;
  const tokens = m ? (m.completionTokens ?? m.chunks) : null;
  return (
    <section
      className="panel"
      aria-label={title}
      data-testid="response-card"
      data-status={run.status}
    >
      <PanelHead
        title={title}
        note={routeLabel(run)}
        actions={<span className={`badge ${STATUS_CLASS[run.status]}`}>{run.status}</span>}
      />
      <div
        className={`pg-text${run.status === 'streaming' ? ' cursor' : ''}`}
        data-testid="response-text"
        aria-live="polite"
      >
        {run.text}
      </div>
      {run.error ? (
        <div className="error-box" role="alert" style={{ marginTop: 8 }}>
          {run.error}
        </div>
      ) : null}
      <div className="pg-metrics num" style={{ marginTop: 10 }} data-testid="response-metrics">
        <div>
          <span className="dim">TTFT</span>
          <b data-testid="metric-ttft">{formatMs(m?.ttftMs)}</b>
        </div>
        <div>
          <span className="dim">TPOT</span>
          <b data-testid="metric-tpot">{formatMs(m?.tpotMs)}</b>
        </div>
        <div>
          <span className="dim">End to end</span>
          <b>{formatMs(m?.e2eMs)}</b>
        </div>
        {server?.detail ? (
          <div title="As the proxy measured it: from the request's arrival, without the browser's network time">
            <span className="dim">Proxy TTFT / TPOT</span>
            <b data-testid="metric-proxy-ttft">
              {formatMs(server.detail.ttftMs)} / {formatMs(server.detail.tpotMs)}
            </b>
          </div>
        ) : null}
        <div>
          <span className="dim">Tokens in / out</span>
          <b data-testid="metric-tokens">
            {formatCount(m?.promptTokens)} / {formatCount(tokens)}
          </b>
        </div>
        <div>
          <span className="dim">Context worker</span>
          <b className="mono" style={{ fontSize: 12 }}>
            {/* The console's name for the worker once the proxy's record is in, else the address the proxy named. */}
            {workerLabel(
              server?.detail?.ctxWorkerId,
              m?.contextWorker ?? server?.detail?.ctxWorkerUrl,
            )}
          </b>
        </div>
        <div>
          <span className="dim">Generation worker</span>
          <b className="mono" style={{ fontSize: 12 }}>
            {workerLabel(
              server?.detail?.genWorkerId,
              m?.generationWorker ?? server?.detail?.genWorkerUrl,
            )}
          </b>
        </div>
      </div>
      {serverTimeline ? (
        <div style={{ marginTop: 10 }}>
          <div className="dim" style={{ fontSize: 12, marginBottom: 4 }}>
            Proxy timeline (request {server?.detail?.id})
          </div>
          <TimelineBar label="Proxy timeline" testId="server-timeline" {...serverTimeline} />
        </div>
      ) : server?.status === 'loading' ? (
        <p className="hint">Fetching the proxy's timeline of this request…</p>
      ) : server?.status === 'error' ? (
        <p className="hint">The proxy's timeline is not available: {server.message}</p>
      ) : null}
      {segments.length > 0 ? (
        <div style={{ marginTop: 10 }}>
          <div className="dim" style={{ fontSize: 12, marginBottom: 4 }}>
            Browser view ({run.isConsoleProxy ? 'via the console proxy' : run.targetUrl})
          </div>
          <TimelineBar label="Browser timeline" testId="browser-timeline" segments={segments} />
          {m && m.contextPhaseMs === null && !serverTimeline ? (
            <p className="hint">
              {run.isConsoleProxy
                ? 'The proxy did not report its phase timings (no x-disagg-request-id or x-disagg-context-ms header); the bar shows what the browser measured.'
                : 'This target is not the console proxy: the bar shows what the browser measured.'}
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
