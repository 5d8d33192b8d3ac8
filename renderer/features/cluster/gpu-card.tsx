// One GPU as a card (feature C1): model, memory used/total with a bar, utilization, temperature, power and
// the worker on it. A free GPU is a button: click selects it, shift/ctrl-click adds it to a TP selection.
// Layer: renderer.

import type { MouseEvent, ReactNode } from 'react';

import type { GpuInfo, GpuSample } from '../../../shared/model/gpu';
import { StateBadge } from '../../components/state-badge';
import { formatMiB, formatPct, formatTemp, formatWatts } from '../../lib/format';
import type { GpuHolder } from '../../store/selectors';

function barClass(fraction: number): string {
  return fraction > 0.95 ? 'bar err' : fraction > 0.85 ? 'bar warn' : 'bar';
}

export function GpuCard({
  gpu,
  sample,
  holders,
  isSelected,
  onSelect,
}: {
  gpu: GpuInfo;
  sample: GpuSample | undefined;
  holders: GpuHolder[];
  isSelected: boolean;
  onSelect: (index: number, isAdditive: boolean) => void;
}): ReactNode {
  const used = sample?.memoryUsedMiB ?? null;
  const total = sample?.memoryTotalMiB ?? gpu.memoryTotalMiB;
  const memFraction = used !== null && total > 0 ? used / total : 0;
  const isFree = holders.length === 0;
  const onClick = (e: MouseEvent<HTMLButtonElement>): void => {
    if (isFree) onSelect(gpu.index, e.shiftKey || e.ctrlKey || e.metaKey);
  };
  const label = `GPU ${gpu.index} ${gpu.name}, ${isFree ? 'free: click to add a worker, shift-click to select several' : `used by ${holders.map((h) => h.id).join(', ')}`}`;
  return (
    <button
      type="button"
      className={`gpu-card${isFree ? '' : ' held'}`}
      aria-pressed={isFree ? isSelected : undefined}
      aria-label={label}
      aria-disabled={!isFree}
      data-testid={`gpu-card-${gpu.index}`}
      data-holders={holders.map((h) => h.id).join(',')}
      onClick={onClick}
    >
      <div className="gpu-title">
        <strong>GPU {gpu.index}</strong>
        <span className="dim">{gpu.name}</span>
        {gpu.simulated ? <span className="badge sim-badge nodot">sim</span> : null}
      </div>
      <div>
        <div className="row">
          <span className="dim">Memory</span>
          <span className="num">
            {formatMiB(used)} / {formatMiB(total)}
          </span>
        </div>
        <div
          className={barClass(memFraction)}
          role="meter"
          aria-label="Memory used"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(memFraction * 100)}
        >
          <div style={{ width: `${Math.min(100, memFraction * 100).toFixed(1)}%` }} />
        </div>
      </div>
      <div className="gpu-metrics num">
        <div>
          <span className="dim">Util</span>
          <b>{formatPct(sample?.utilizationPct)}</b>
        </div>
        <div>
          <span className="dim">Temp</span>
          <b>{formatTemp(sample?.temperatureC)}</b>
        </div>
        <div>
          <span className="dim">Power</span>
          <b>{formatWatts(sample?.powerDrawW)}</b>
        </div>
      </div>
      <div className="gpu-holder">
        {isFree ? (
          <span className="dim">{isSelected ? 'Selected' : 'Free: click to add a worker'}</span>
        ) : (
          holders.map(({ id, worker: w }) => (
            <span key={id} className="btn-group" style={{ alignItems: 'center' }}>
              <strong>{id}</strong>
              {w ? (
                <>
                  <span className={`badge nodot role-${w.role}`}>
                    {w.role === 'context' ? 'ctx' : 'gen'}
                  </span>
                  <StateBadge state={w.status.state} />
                  <span className="dim num">:{w.spec?.port ?? new URL(w.url).port}</span>
                  {w.spec?.engine === 'simulated' ? (
                    <span className="badge sim-badge nodot">sim</span>
                  ) : null}
                </>
              ) : (
                <span className="dim">in the topology, not running</span>
              )}
            </span>
          ))
        )}
      </div>
    </button>
  );
}
