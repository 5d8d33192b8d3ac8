// Latency percentiles against throughput, one point per sweep step: the curve a sweep is run for.
// Layer: renderer.

import { memo, type ReactNode } from 'react';
import { XAxis, YAxis } from 'recharts';

import type { BenchSweepPoint } from '../../../shared/model/bench';
import { type ChartSeries, LineChartCard } from '../../components/line-chart-card';
import { formatMs } from '../../lib/format';

const CHARTS: { title: string; series: (ChartSeries & { key: keyof BenchSweepPoint })[] }[] = [
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

const AXES = (
  <>
    <XAxis
      dataKey="outputThroughput"
      type="number"
      domain={['auto', 'auto']}
      tickFormatter={(v: number) => v.toFixed(0)}
      label={{ value: 'output tok/s', position: 'insideBottom', offset: -8, fontSize: 11 }}
    />
    <YAxis yAxisId="left" width={64} tickFormatter={(v: number) => formatMs(v)} />
  </>
);

function SweepChartsInner({ points }: { points: BenchSweepPoint[] }): ReactNode {
  // Plotted in throughput order: a saturated step can deliver less than the one before it.
  const rows = [...points].sort((a, b) => a.outputThroughput - b.outputThroughput);
  return (
    <div className="chart-grid" data-testid="bench-charts" data-points={rows.length}>
      {CHARTS.map((c) => (
        <LineChartCard
          key={c.title}
          title={c.title}
          count={`${rows.length} steps`}
          rows={rows}
          series={c.series}
          axes={AXES}
          height={220}
          margin={{ top: 4, right: 8, bottom: 14, left: 0 }}
          format={formatMs}
          formatLabel={(x) => `${x.toFixed(1)} tok/s`}
          lineType="linear"
          dot={{ r: 3 }}
        />
      ))}
    </div>
  );
}

/** The three latency charts of one run. */
export const SweepCharts = memo(SweepChartsInner);
