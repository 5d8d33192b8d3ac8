// One live line chart over time, with a "no data" state that says what produces data and an optional brush
// to zoom. Layer: renderer.

import { memo, type ReactNode } from 'react';
import { Brush, XAxis, YAxis } from 'recharts';

import type { ChartRow } from '../../../shared/logic/series';
import { type ChartSeries, LineChartCard } from '../../components/line-chart-card';
import { formatClock } from '../../lib/format';
import type { TimeRange } from '../../lib/metrics-derive';

export interface TimeChartProps {
  title: string;
  rows: ChartRow[];
  series: ChartSeries[];
  range: TimeRange;
  format: (v: number) => string;
  emptyHint: string;
  /** Shows a brush under the chart; dragging it reports the chosen range. */
  onZoom?: (range: TimeRange) => void;
  showLegend?: boolean;
  /** Draw across seconds without requests (latency lines); off where a gap means "no value" matters. */
  shouldConnectGaps?: boolean;
  testId?: string;
}

function timeAxes(
  range: TimeRange,
  series: ChartSeries[],
  format: (v: number) => string,
): ReactNode {
  return (
    <>
      <XAxis
        dataKey="atMs"
        type="number"
        scale="time"
        allowDataOverflow
        domain={[range.fromMs, range.toMs]}
        tickFormatter={(v: number) => formatClock(v)}
        minTickGap={40}
      />
      <YAxis yAxisId="left" width={64} tickFormatter={(v: number) => format(v)} />
      {series.some((s) => s.isRightAxis) ? (
        <YAxis
          yAxisId="right"
          orientation="right"
          width={56}
          tickFormatter={(v: number) => format(v)}
        />
      ) : null}
    </>
  );
}

function zoomBrush(rows: ChartRow[], onZoom: (range: TimeRange) => void): ReactNode {
  return (
    <Brush
      dataKey="atMs"
      height={22}
      fill="rgba(128, 128, 128, 0.08)"
      stroke="#58a6ff"
      tickFormatter={(v: number) => formatClock(v)}
      onChange={(e) => {
        const a = rows[e.startIndex ?? 0];
        const b = rows[e.endIndex ?? rows.length - 1];
        if (a && b && (e.startIndex !== 0 || e.endIndex !== rows.length - 1)) {
          onZoom({ fromMs: a.atMs, toMs: b.atMs + 1 });
        }
      }}
    />
  );
}

function TimeChartInner(props: TimeChartProps): ReactNode {
  const { rows, series, range, format, onZoom } = props;
  const filled = rows.filter((r) =>
    series.some((s) => r[s.key] !== null && r[s.key] !== undefined),
  ).length;
  // Recharts lays out ticks from the data it is given: a series that began a minute ago would get an axis of
  // one minute. An empty row at the start of the range keeps the axis to the whole window.
  const first = rows[0];
  const padded: ChartRow[] =
    first && first.atMs > range.fromMs ? [{ atMs: range.fromMs }, ...rows] : rows;
  return (
    <LineChartCard
      title={props.title}
      count={`${rows.length} pts`}
      testId={props.testId}
      hasData={filled > 0}
      emptyHint={props.emptyHint}
      rows={padded}
      series={series}
      axes={timeAxes(range, series, format)}
      height={onZoom ? 240 : 200}
      margin={{ top: 4, right: 8, bottom: 0, left: 0 }}
      format={format}
      formatLabel={formatClock}
      lineType={series.length > 6 ? 'linear' : 'monotone'}
      // A few isolated seconds of traffic would draw as zero-length lines: show their points as dots.
      dot={filled < 20 ? { r: 2.5 } : false}
      showLegend={props.showLegend}
      shouldConnectGaps={props.shouldConnectGaps}
    >
      {onZoom ? zoomBrush(rows, onZoom) : null}
    </LineChartCard>
  );
}

export const TimeChart = memo(TimeChartInner);
