// The SLO tile (feature O3): the user's TTFT and TPOT targets and the share of requests within them over the
// window. Layer: renderer.

import type { ReactNode } from 'react';

import { formatCount, formatFraction } from '../../lib/format';
import { useAppStore } from '../../store/app-store-context';

/** One target input; only a positive number is taken, so a cleared or zero field never sets a target of 0. */
function TargetField({
  label,
  value,
  onSet,
}: {
  label: string;
  value: number;
  onSet: (ms: number) => void;
}): ReactNode {
  return (
    <label className="field" style={{ width: 120 }}>
      <span>{label}</span>
      <input
        type="number"
        min={1}
        value={value}
        onChange={(e) => Number(e.target.value) > 0 && onSet(Number(e.target.value))}
      />
    </label>
  );
}

export function SloTile({
  requests,
  ttftShare,
  tpotShare,
  bothShare,
}: {
  requests: number;
  ttftShare: number | null;
  tpotShare: number | null;
  bothShare: number | null;
}): ReactNode {
  const slo = useAppStore((s) => s.slo);
  const setSlo = useAppStore((s) => s.setSlo);
  const tone =
    bothShare === null
      ? ''
      : bothShare >= 0.9
        ? 'state-ready'
        : bothShare >= 0.7
          ? 'state-degraded'
          : 'state-errored';
  return (
    <section className="stat" aria-label="SLO attainment" style={{ gridColumn: 'span 2' }}>
      <div className="label">SLO goodput (estimated from p50/p90/p99)</div>
      <div className={`value ${tone}`} data-testid="slo-value">
        {formatFraction(bothShare, 1)}
      </div>
      <div className="sub">
        TTFT within target {formatFraction(ttftShare, 1)} · TPOT within target{' '}
        {formatFraction(tpotShare, 1)} · {formatCount(requests)} requests
      </div>
      <div className="btn-group" style={{ marginTop: 6 }}>
        <TargetField
          label="TTFT target (ms)"
          value={slo.ttftMs}
          onSet={(ms) => setSlo({ ttftMs: ms })}
        />
        <TargetField
          label="TPOT target (ms)"
          value={slo.tpotMs}
          onSet={(ms) => setSlo({ tpotMs: ms })}
        />
      </div>
    </section>
  );
}
