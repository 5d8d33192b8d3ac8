// A request's timeline as one bar (features O4, G2): coloured phases (proxy routing, context queue + prefill,
// KV hand-off, generation) scaled to the whole request, a tick per token when known, and a legend with the
// duration of each phase. Used by the Playground's response cards and the Dashboard's Recent requests.
// Layer: renderer.

import type { ReactNode } from 'react';

import type { TimelineKind, TimelineSegment } from '../../shared/logic/request-timeline';
import { formatMs } from '../lib/format';

const COLORS: Record<TimelineKind, string> = {
  proxy: 'var(--text-dim)',
  context: 'var(--ctx)',
  handoff: 'var(--warn)',
  generation: 'var(--info)',
  tokens: 'var(--gen)',
};

/** Ticks drawn at most (a long answer is thinned evenly so the bar stays readable). */
const MAX_TICKS = 400;

export function TimelineBar({
  segments,
  ticksMs = [],
  totalMs,
  label,
  testId,
}: {
  segments: readonly TimelineSegment[];
  ticksMs?: readonly number[];
  /** The bar's full width in ms (default: the end of the last segment). */
  totalMs?: number;
  /** Accessible name prefix, e.g. 'Server timeline'. */
  label: string;
  testId?: string;
}): ReactNode {
  const total = Math.max(totalMs ?? segments[segments.length - 1]?.toMs ?? 0, 1e-6);
  const step = Math.max(1, Math.ceil(ticksMs.length / MAX_TICKS));
  const ticks = ticksMs.filter((_, i) => i % step === 0);
  const pct = (ms: number): string => `${Math.min(100, Math.max(0, (ms / total) * 100))}%`;
  return (
    <div data-testid={testId}>
      <div
        className="timeline"
        role="img"
        aria-label={`${label}: ${segments.map((s) => `${s.label} ${formatMs(s.toMs - s.fromMs)}`).join(', ')}${ticksMs.length > 0 ? `, ${ticksMs.length} tokens` : ''}`}
        style={{ position: 'relative' }}
      >
        {segments.map((s) => (
          <div
            key={`${s.kind}-${s.fromMs}`}
            style={{
              position: 'absolute',
              left: pct(s.fromMs),
              width: pct(s.toMs - s.fromMs),
              background: COLORS[s.kind],
            }}
            title={`${s.label}: ${formatMs(s.toMs - s.fromMs)}`}
          />
        ))}
        {ticks.map((t, i) => (
          <div
            key={`tick-${i}`}
            data-tick=""
            style={{
              position: 'absolute',
              left: pct(t),
              top: '25%',
              width: 1,
              height: '50%',
              background: 'var(--bg)',
              opacity: 0.8,
            }}
          />
        ))}
      </div>
      <div className="legend" style={{ marginTop: 4 }}>
        {segments.map((s) => (
          <span key={`${s.kind}-${s.fromMs}`} style={{ ['--c' as string]: COLORS[s.kind] }}>
            {s.label} {formatMs(s.toMs - s.fromMs)}
          </span>
        ))}
        {ticksMs.length > 0 ? (
          <span style={{ ['--c' as string]: 'transparent' }}>
            {ticksMs.length} token ticks · total {formatMs(total)}
          </span>
        ) : (
          <span style={{ ['--c' as string]: 'transparent' }}>total {formatMs(total)}</span>
        )}
      </div>
    </div>
  );
}
