// The Dashboard (features O1-O3): live charts over the last 5/15/60 minutes from the bounded series, zoom by
// dragging the brush of the throughput chart, CSV export, and the SLO tile. Derivation is timed and shown
// so its cost with many workers stays visible. Layer: renderer.

import { type ReactNode, useMemo, useState } from 'react';

import { Button } from '../../components/button';
import { ErrorBox } from '../../components/error-box';
import type { ChartSeries } from '../../components/line-chart-card';
import { Segmented } from '../../components/segmented';
import { ViewFrame } from '../../components/view-frame';
import { chartRefreshMs, deriveCharts, deriveStats } from '../../lib/dashboard-derive';
import { downloadText } from '../../lib/download';
import { formatCount, formatMs, formatPct, formatRate, formatWatts } from '../../lib/format';
import { seriesColor, type TimeRange } from '../../lib/metrics-derive';
import { useNow } from '../../lib/use-now';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import type { MetricsWindowMin } from '../../store/store-types';
import { ProxyCostMeter } from './proxy-cost-meter';
import { RecentRequests } from './recent-requests';
import { SloTile } from './slo-tile';
import { TimeChart } from './time-chart';

const WINDOWS: { value: MetricsWindowMin; label: string }[] = ([5, 15, 60] as const).map((w) => ({
  value: w,
  label: `${w} min`,
}));
const P_COLORS = { p50: '#3fb950', p90: '#d29922', p99: '#f85149' };

function pSeries(prefix: string): ChartSeries[] {
  return [
    { key: `${prefix}_p50`, label: 'p50', color: P_COLORS.p50 },
    { key: `${prefix}_p90`, label: 'p90', color: P_COLORS.p90 },
    { key: `${prefix}_p99`, label: 'p99', color: P_COLORS.p99 },
  ];
}

// Stable props: the charts are memoized, so a new array on every render would redraw all of them.
const THROUGHPUT_SERIES: ChartSeries[] = [
  { key: 'rps', label: 'req/s', color: '#58a6ff' },
  { key: 'tps', label: 'tok/s (right axis)', color: '#76b900', isRightAxis: true },
];
// The latency percentile charts over the traffic rows (gaps connected, milliseconds).
const LATENCY_CHARTS: { title: string; testId: string; series: ChartSeries[] }[] = [
  { title: 'Time to first token', testId: 'chart-ttft', series: pSeries('ttft') },
  { title: 'Time per output token', testId: 'chart-tpot', series: pSeries('tpot') },
  { title: 'End-to-end latency', testId: 'chart-e2e', series: pSeries('e2e') },
  {
    title: 'Proxy added latency',
    testId: 'chart-proxy',
    series: [
      { key: 'proxy_p50', label: 'p50', color: P_COLORS.p50 },
      { key: 'proxy_p99', label: 'p99', color: P_COLORS.p99 },
    ],
  },
];

function keyedSeries(keys: string[]): ChartSeries[] {
  return keys.map((k, i) => ({ key: k, label: k, color: seriesColor(i, keys.length) }));
}

const fmtMs = (v: number): string => formatMs(v);
const fmtWatts = (v: number): string => formatWatts(v);
const fmtPct = (v: number): string => formatPct(v);
const fmtNum = (v: number): string =>
  v >= 100 ? formatCount(v) : v >= 1 || v === 0 ? v.toFixed(1) : v.toFixed(2);

const ITER_HINT = 'workers report them at /metrics with enable_iter_perf_stats: true.';
const GPU_HINT = 'No GPU samples yet.';

// The charts with one line per worker or GPU: same shape, so one table drives them.
const PER_SOURCE_CHARTS: {
  title: string;
  testId: string;
  pick: 'queue' | 'kv' | 'gpuUtil' | 'gpuMem' | 'gpuPower';
  format: (v: number) => string;
  emptyHint: string;
}[] = [
  {
    title: 'Queue depth per worker',
    testId: 'chart-queue',
    pick: 'queue',
    format: fmtNum,
    emptyHint: `No iteration stats yet: ${ITER_HINT}`,
  },
  {
    title: 'KV cache usage per worker',
    testId: 'chart-kv',
    pick: 'kv',
    format: fmtPct,
    emptyHint: `No KV cache stats yet: ${ITER_HINT}`,
  },
  {
    title: 'GPU utilization',
    testId: 'chart-gpu-util',
    pick: 'gpuUtil',
    format: fmtPct,
    emptyHint: GPU_HINT,
  },
  {
    title: 'GPU memory used',
    testId: 'chart-gpu-mem',
    pick: 'gpuMem',
    format: fmtPct,
    emptyHint: GPU_HINT,
  },
  {
    title: 'GPU power',
    testId: 'chart-gpu-power',
    pick: 'gpuPower',
    format: fmtWatts,
    emptyHint: GPU_HINT,
  },
];

/** One number tile of the stat row. */
function Stat({
  label,
  value,
  sub,
  testId,
  tone,
}: {
  label: string;
  value: string;
  sub: string;
  testId?: string;
  /** A state class that colours the value (`state-errored`). */
  tone?: string;
}): ReactNode {
  return (
    <div className="stat">
      <div className="label">{label}</div>
      <div className={tone === undefined ? 'value' : `value ${tone}`} data-testid={testId}>
        {value}
      </div>
      <div className="sub">{sub}</div>
    </div>
  );
}

export function DashboardView(): ReactNode {
  const {
    series,
    metricsVersion: version,
    metricsWindowMin: windowMin,
    setMetricsWindow: setWindow,
    slo,
    metricsError,
    loadMetricsHistory: loadHistory,
    exportCsv,
  } = useAppFields(
    'series',
    'metricsVersion',
    'metricsWindowMin',
    'setMetricsWindow',
    'slo',
    'metricsError',
    'loadMetricsHistory',
    'exportCsv',
  );
  const [zoom, setZoom] = useState<TimeRange | null>(null);

  const nowMs = useNow(1000);
  const historyVersion = useAppStore((s) => s.metricsHistoryVersion);
  // Charts derive once per bin of the window (12 s for 60 min): redrawing 32 lines every second would
  // redraw points that did not change. The stat tiles below update every second.
  const refreshMs = chartRefreshMs(windowMin);
  const chartNowMs = Math.floor(nowMs / refreshMs) * refreshMs;
  const derived = useMemo(() => {
    void historyVersion; // Loaded history: derive at once.
    return deriveCharts(series, { windowMin, zoom, slo, nowMs: chartNowMs });
  }, [series, historyVersion, windowMin, zoom, slo, chartNowMs]);
  const lines = useMemo(
    () => ({
      errors: keyedSeries(derived.kinds),
      perSource: PER_SOURCE_CHARTS.map((c) => ({
        ...c,
        data: derived[c.pick],
        series: keyedSeries(derived[c.pick].keys),
      })),
    }),
    [derived],
  );
  const stats = useMemo(() => {
    void version; // The series are mutable: the version says they changed.
    return deriveStats(series, nowMs);
  }, [series, version, nowMs]);

  const onCsv = async (): Promise<void> => {
    const csv = await exportCsv();
    if (csv !== null) {
      downloadText(
        `disagg-metrics-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`,
        csv,
        'text/csv',
      );
    }
  };

  const noTraffic =
    'No requests in this window yet. Send a prompt from the Playground or point a client at the proxy.';

  const head = (
    <>
      <Segmented
        label="Time window"
        choices={WINDOWS}
        value={zoom === null ? windowMin : null}
        onPick={(w) => {
          setZoom(null);
          void setWindow(w);
        }}
      />
      {zoom ? (
        <Button isSmall onClick={() => setZoom(null)}>
          Reset zoom
        </Button>
      ) : null}
      <span className="spacer" />
      <span
        className="dim num"
        title="Time to derive every chart from the series on the last update"
      >
        {formatCount(derived.pointCount)} points · derived in {derived.deriveMs.toFixed(1)} ms
      </span>
      <Button isSmall onClick={onCsv}>
        Export CSV
      </Button>
    </>
  );

  return (
    <ViewFrame title="Dashboard" head={head} data-derive-ms={derived.deriveMs.toFixed(2)}>
      <ErrorBox
        title="Metrics history could not be loaded"
        message={metricsError}
        onRetry={loadHistory}
      />
      <div className="stat-row">
        <Stat
          label="Requests"
          value={formatRate(stats.rps, 'req')}
          sub="last 10 s"
          testId="stat-rps"
        />
        <Stat label="Output tokens" value={formatRate(stats.tps, 'tok')} sub="last 10 s" />
        <Stat
          label="TTFT p50 / p99"
          value={formatMs(stats.ttftP50)}
          sub={`p99 ${formatMs(stats.ttftP99)}`}
        />
        <Stat
          label="TPOT p50"
          value={formatMs(stats.tpotP50)}
          sub={`proxy adds ${formatMs(stats.proxyP50)} (p50)`}
        />
        <Stat
          label="Errors"
          value={formatCount(stats.errors)}
          sub="last 10 s"
          tone={stats.errors > 0 ? 'state-errored' : ''}
        />
        <SloTile {...derived.slo} />
        <ProxyCostMeter />
      </div>
      <div className="chart-grid">
        <TimeChart
          title="Throughput (drag the brush to zoom)"
          testId="chart-throughput"
          rows={derived.overview}
          series={THROUGHPUT_SERIES}
          range={derived.overviewRange}
          format={fmtNum}
          emptyHint={noTraffic}
          onZoom={setZoom}
        />
        {LATENCY_CHARTS.map((c) => (
          <TimeChart
            key={c.testId}
            title={c.title}
            testId={c.testId}
            shouldConnectGaps
            rows={derived.traffic}
            series={c.series}
            range={derived.range}
            format={fmtMs}
            emptyHint={noTraffic}
          />
        ))}
        <TimeChart
          title="Errors by kind (per second)"
          testId="chart-errors"
          rows={derived.errors}
          series={lines.errors}
          range={derived.range}
          format={fmtNum}
          emptyHint="No errors in this window."
        />
        {lines.perSource.map((c) => (
          <TimeChart
            key={c.testId}
            title={c.title}
            testId={c.testId}
            rows={c.data.rows}
            series={c.series}
            range={derived.range}
            format={c.format}
            emptyHint={c.emptyHint}
            showLegend={c.data.keys.length <= 12}
          />
        ))}
      </div>
      <RecentRequests />
    </ViewFrame>
  );
}
