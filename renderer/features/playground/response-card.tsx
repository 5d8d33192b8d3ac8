// One playground response (feature G2): the streamed text, TTFT, TPOT, tokens, end-to-end time, the context
// and generation workers that served it, and a timeline bar of its phases. Layer: renderer.

import type { ReactNode } from 'react';

import { formatCount, formatMs } from '../../lib/format';
import { timelineSegments } from '../../lib/openai-request';
import type { PlaygroundRun } from '../../store/store-types';

const SEG_COLORS: Record<string, string> = {
  context: 'var(--ctx)',
  handoff: 'var(--warn)',
  generation: 'var(--info)',
  tokens: 'var(--gen)',
};

function routeLabel(run: PlaygroundRun): string {
  const r = run.request.route;
  if (!r.contextWorker && !r.generationWorker) return 'router picks';
  return `${r.contextWorker ?? 'any'} → ${r.generationWorker ?? 'any'}`;
}

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
  const total = segments.length > 0 ? segments[segments.length - 1]!.toMs : 0;
  const tokens = m ? (m.completionTokens ?? m.chunks) : null;
  return (
    <section
      className="panel"
      aria-label={title}
      data-testid="response-card"
      data-status={run.status}
    >
      <div className="panel-head">
        <h2>{title}</h2>
        <span className="dim">{routeLabel(run)}</span>
        <span className="spacer" />
        <span
          className={`badge ${run.status === 'done' ? 'state-ready' : run.status === 'error' ? 'state-errored' : run.status === 'stopped' ? 'state-degraded' : 'state-starting'}`}
        >
          {run.status}
        </span>
      </div>
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
        <div>
          <span className="dim">Tokens in / out</span>
          <b data-testid="metric-tokens">
            {formatCount(m?.promptTokens)} / {formatCount(tokens)}
          </b>
        </div>
        <div>
          <span className="dim">Context worker</span>
          <b className="mono" style={{ fontSize: 12 }}>
            {m?.contextWorker ?? '—'}
          </b>
        </div>
        <div>
          <span className="dim">Generation worker</span>
          <b className="mono" style={{ fontSize: 12 }}>
            {m?.generationWorker ?? '—'}
          </b>
        </div>
      </div>
      {segments.length > 0 ? (
        <div style={{ marginTop: 10 }}>
          <div
            className="timeline"
            role="img"
            aria-label={`Timeline: ${segments.map((s) => `${s.label} ${formatMs(s.toMs - s.fromMs)}`).join(', ')}`}
          >
            {segments.map((s) => (
              <div
                key={s.kind}
                className={`seg-${s.kind}`}
                style={{ width: `${((s.toMs - s.fromMs) / total) * 100}%` }}
                title={`${s.label}: ${formatMs(s.toMs - s.fromMs)}`}
              />
            ))}
          </div>
          <div className="legend" style={{ marginTop: 4 }}>
            {segments.map((s) => (
              <span key={s.kind} style={{ ['--c' as string]: SEG_COLORS[s.kind] }}>
                {s.label} {formatMs(s.toMs - s.fromMs)}
              </span>
            ))}
          </div>
          {m && m.contextPhaseMs === null ? (
            <p className="hint">
              The proxy did not report its phase timings (x-disagg-context-ms); the bar shows what
              the browser measured.
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
