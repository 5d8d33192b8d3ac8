// Latency percentiles against throughput, one point per sweep step (recharts, animation off so tests are
// deterministic): the curve a sweep is run for. Layer: renderer.

import { memo, type ReactNode } from 'react';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

import type { BenchSweepPoint } from '../../../shared/model/bench';
import { formatMs } from '../../lib/format';

interface Series {
  key: keyof BenchSweepPoint;
  label: string;
  color: string;
  isDashed?: boolean;
}

const CHARTS: { title: string; series: Series[] }[] = [
  {
    title: 'TTFT vs output tokens/s',
    series: [
      { key: 'ttftP50Ms', label: 'TTFT p50', color: '#58a6ff' },
      { key: 'ttftP99Ms', label: 'TTFT p99', color: '#58a6ff', isDashed: true },
    ],
  },
  {
    title: 'TPOT vs output tokens/s',
    series: [
      { key: 'tpotP50Ms', label: 'TPOT p50', color: '#3fb950' },
      { key: 'tpotP99Ms', label: 'TPOT p99', color: '#3fb950', isDashed: true },
    ],
  },
  {
    title: 'E2E latency vs output tokens/s',
    series: [
      { key: 'e2elP50Ms', label: 'E2EL p50', color: '#d29922' },
      { key: 'e2elP99Ms', label: 'E2EL p99', color: '#d29922', isDashed: true },
    ],
  },
];

function SweepChartsInner({ points }: { points: BenchSweepPoint[] }): ReactNode {
  // Plotted in throughput order: a saturated step can deliver less than the one before it.
  const rows = [...points].sort((a, b) => a.outputThroughput - b.outputThroughput);
  return (
    <div className="chart-grid" data-testid="bench-charts" data-points={rows.length}>
      {CHARTS.map((c) => (
        <figure key={c.title} className="chart-card" style={{ margin: 0 }}>
          <h3>
            <figcaption>{c.title}</figcaption>
            <span className="dim num" style={{ fontWeight: 400 }}>
              {rows.length} steps
            </span>
          </h3>
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={rows} margin={{ top: 4, right: 8, bottom: 14, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis
                dataKey="outputThroughput"
                type="number"
                domain={['auto', 'auto']}
                tickFormatter={(v: number) => v.toFixed(0)}
                label={{
                  value: 'output tok/s',
                  position: 'insideBottom',
                  offset: -8,
                  fontSize: 11,
                }}
              />
              <YAxis width={64} tickFormatter={(v: number) => formatMs(v)} />
              <Tooltip
                labelFormatter={(v) => `${Number(v).toFixed(1)} tok/s`}
                formatter={(v) => (typeof v === 'number' ? formatMs(v) : String(v))}
                isAnimationActive={false}
              />
              <Legend verticalAlign="top" height={22} iconSize={9} />
              {c.series.map((s) => (
                <Line
                  key={s.key}
                  type="linear"
                  dataKey={s.key}
                  name={s.label}
                  stroke={s.color}
                  strokeWidth={1.6}
                  strokeDasharray={s.isDashed ? '4 3' : undefined}
                  dot={{ r: 3 }}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </figure>
      ))}
    </div>
  );
}

/** The three latency charts of one run. */
export const SweepCharts = memo(SweepChartsInner);
