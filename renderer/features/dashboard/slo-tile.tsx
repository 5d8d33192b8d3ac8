// The SLO tile (feature O3): the user's TTFT and TPOT targets and the share of requests within them over the
// window. Layer: renderer.

import type { ReactNode } from 'react';

import { formatCount, formatFraction } from '../../lib/format';
import { useAppStore } from '../../store/app-store-context';

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
        <label className="field" style={{ width: 120 }}>
          <span>TTFT target (ms)</span>
          <input
            type="number"
            min={1}
            value={slo.ttftMs}
            onChange={(e) =>
              Number(e.target.value) > 0 && setSlo({ ttftMs: Number(e.target.value) })
            }
          />
        </label>
        <label className="field" style={{ width: 120 }}>
          <span>TPOT target (ms)</span>
          <input
            type="number"
            min={1}
            value={slo.tpotMs}
            onChange={(e) =>
              Number(e.target.value) > 0 && setSlo({ tpotMs: Number(e.target.value) })
            }
          />
        </label>
      </div>
    </section>
  );
}
