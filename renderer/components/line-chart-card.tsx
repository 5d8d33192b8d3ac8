// A line chart in a card (recharts, animation off so live updates and tests are deterministic): the caption
// with a count, the grid, tooltip, legend and one line per series. The caller gives the axes (time for the
// Dashboard, throughput for the Benchmark) and anything drawn on top (a zoom brush). Layer: renderer.

import type { ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip } from 'recharts';

/** One line of a chart: the row field it reads, its legend name and its look. */
export interface ChartSeries {
  key: string;
  label: string;
  color: string;
  isDashed?: boolean;
  /** Drawn against a second axis on the right (a quantity of another scale, e.g. tok/s next to req/s). */
  isRightAxis?: boolean;
}

export interface LineChartCardProps {
  title: string;
  /** Shown beside the title: how many points or steps the chart draws. */
  count: string;
  rows: readonly object[];
  series: readonly ChartSeries[];
  /** The XAxis and YAxis elements; a line is drawn against the YAxis with id 'left' or 'right'. */
  axes: ReactNode;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  /** A value in the tooltip. */
  format: (v: number) => string;
  /** The x value in the tooltip's title. */
  formatLabel: (x: number) => string;
  lineType: 'linear' | 'monotone';
  dot: false | { r: number };
  showLegend?: boolean;
  shouldConnectGaps?: boolean;
  /** When given, the card says whether it has data, and without data shows `emptyHint` instead of a chart. */
  hasData?: boolean;
  emptyHint?: string;
  testId?: string;
  /** Drawn inside the chart after the lines (a brush). */
  children?: ReactNode;
}

export function LineChartCard(props: LineChartCardProps): ReactNode {
  const { title, count, hasData, emptyHint, testId } = props;
  return (
    <figure
      className="chart-card"
      style={{ margin: 0 }}
      data-testid={testId}
      data-has-data={hasData === undefined ? undefined : String(hasData)}
    >
      <h3>
        <figcaption>{title}</figcaption>
        <span className="dim num" style={{ fontWeight: 400 }}>
          {count}
        </span>
      </h3>
      {hasData === false ? <div className="chart-empty">{emptyHint}</div> : <Chart {...props} />}
    </figure>
  );
}

function Chart({
  rows,
  series,
  axes,
  height,
  margin,
  format,
  formatLabel,
  lineType,
  dot,
  showLegend = true,
  shouldConnectGaps = false,
  children,
}: LineChartCardProps): ReactNode {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={rows} margin={margin}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        {axes}
        <Tooltip
          labelFormatter={(x) => formatLabel(Number(x))}
          formatter={(v) => (typeof v === 'number' ? format(v) : String(v))}
          isAnimationActive={false}
        />
        {showLegend ? <Legend verticalAlign="top" height={22} iconSize={9} /> : null}
        {series.map((s) => (
          <Line
            key={s.key}
            type={lineType}
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
        {children}
      </LineChart>
    </ResponsiveContainer>
  );
}
