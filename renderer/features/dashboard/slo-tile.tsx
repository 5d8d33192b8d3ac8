// The SLO tile (feature O3): the user's TTFT and TPOT targets and the share of requests within them over the
// window. Layer: renderer.

import type { ReactNode } from 'react';

import { NumberField } from '../../components/number-field';
import { formatCount, formatFraction } from '../../lib/format';
import { useAppStore } from '../../store/app-store-context';
import type { SloTargets } from '../../store/store-types';

const TARGETS: { label: string; key: keyof SloTargets }[] = [
  { label: 'TTFT target (ms)', key: 'ttftMs' },
  { label: 'TPOT target (ms)', key: 'tpotMs' },
];

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
        {TARGETS.map((t) => (
          <NumberField
            key={t.key}
            label={t.label}
            style={{ width: 120 }}
            value={String(slo[t.key])}
            // Only a positive number is taken, so a cleared or zero field never sets a target of 0.
            onChange={(text) => Number(text) > 0 && setSlo({ [t.key]: Number(text) })}
          />
        ))}
      </div>
    </section>
  );
}
