// One live line chart over time (recharts, animation off so live updates and tests are deterministic), with
// a "no data" state that says what produces data. Layer: renderer.

import { memo, type ReactNode } from 'react';
import {
  Brush,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

import type { ChartRow } from '../../../shared/logic/series';
import { formatClock } from '../../lib/format';
import type { TimeRange } from '../../lib/metrics-derive';

export interface ChartSeries {
  key: string;
  label: string;
  color: string;
  isDashed?: boolean;
  /** Drawn against a second axis on the right (a quantity of another scale, e.g. tok/s next to req/s). */
  isRightAxis?: boolean;
}

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

function TimeChartInner({
  title,
  rows,
  series,
  range,
  format,
  emptyHint,
  onZoom,
  showLegend = true,
  shouldConnectGaps = false,
  testId,
}: TimeChartProps): ReactNode {
  const filled = rows.filter((r) =>
    series.some((s) => r[s.key] !== null && r[s.key] !== undefined),
  ).length;
  const hasData = filled > 0;
  // A few isolated seconds of traffic would draw as zero-length lines: show their points as dots.
  const dot = filled < 20 ? { r: 2.5 } : false;
  // Recharts lays out ticks from the data it is given: a series that began a minute ago would get an axis of
  // one minute. An empty row at the start of the range keeps the axis to the whole window.
  const first = rows[0];
  const padded: ChartRow[] =
    first && first.atMs > range.fromMs ? [{ atMs: range.fromMs }, ...rows] : rows;
  return (
    <figure
      className="chart-card"
      style={{ margin: 0 }}
      data-testid={testId}
      data-has-data={hasData ? 'true' : 'false'}
    >
      <h3>
        <figcaption>{title}</figcaption>
        <span className="dim num" style={{ fontWeight: 400 }}>
          {rows.length} pts
        </span>
      </h3>
      {hasData ? (
        <ResponsiveContainer width="100%" height={onZoom ? 240 : 200}>
          <LineChart data={padded} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
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
            <Tooltip
              labelFormatter={(v) => formatClock(Number(v))}
              formatter={(v) => (typeof v === 'number' ? format(v) : String(v))}
              isAnimationActive={false}
            />
            {showLegend ? <Legend verticalAlign="top" height={22} iconSize={9} /> : null}
            {series.map((s) => (
              <Line
                key={s.key}
                type={series.length > 6 ? 'linear' : 'monotone'}
                yAxisId={s.isRightAxis ? 'right' : 'left'}
                dataKey={s.key}
                name={s.label}
                stroke={s.color}
                strokeWidth={1.6}
                strokeDasharray={s.isDashed ? '4 3' : undefined}
                dot={dot}
                isAnimationActive={false}
                connectNulls={shouldConnectGaps}
              />
            ))}
            {onZoom ? (
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
            ) : null}
          </LineChart>
        </ResponsiveContainer>
      ) : (
        <div className="chart-empty">{emptyHint}</div>
      )}
    </figure>
  );
}

export const TimeChart = memo(TimeChartInner);
