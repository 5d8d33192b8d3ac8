// The Dashboard (features O1-O3): live charts over the last 5/15/60 minutes from the bounded series, zoom by
// dragging the brush of the throughput chart, CSV export, and the SLO tile. Derivation is timed and shown
// so its cost with many workers stays visible. Layer: renderer.

import { type ReactNode, useMemo, useState } from 'react';

import { ErrorBox } from '../../components/error-box';
import { chartRefreshMs, deriveCharts, deriveStats } from '../../lib/dashboard-derive';
import { downloadText } from '../../lib/download';
import { formatCount, formatMs, formatPct, formatRate, formatWatts } from '../../lib/format';
import { seriesColor, type TimeRange } from '../../lib/metrics-derive';
import { useNow } from '../../lib/use-now';
import { useAppStore } from '../../store/app-store-context';
import type { MetricsWindowMin } from '../../store/store-types';
import { ProxyCostMeter } from './proxy-cost-meter';
import { RecentRequests } from './recent-requests';
import { SloTile } from './slo-tile';
import { type ChartSeries, TimeChart } from './time-chart';

const WINDOWS: MetricsWindowMin[] = [5, 15, 60];
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

export function DashboardView(): ReactNode {
  const series = useAppStore((s) => s.series);
  const version = useAppStore((s) => s.metricsVersion);
  const windowMin = useAppStore((s) => s.metricsWindowMin);
  const setWindow = useAppStore((s) => s.setMetricsWindow);
  const slo = useAppStore((s) => s.slo);
  const metricsError = useAppStore((s) => s.metricsError);
  const loadHistory = useAppStore((s) => s.loadMetricsHistory);
  const exportCsv = useAppStore((s) => s.exportCsv);
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

  return (
    <section
      className="view"
      aria-labelledby="view-title"
      data-derive-ms={derived.deriveMs.toFixed(2)}
    >
      <div className="view-head">
        <h1 id="view-title">Dashboard</h1>
        <div className="seg" role="group" aria-label="Time window">
          {WINDOWS.map((w) => (
            <button
              key={w}
              type="button"
              aria-pressed={windowMin === w && zoom === null}
              onClick={() => {
                setZoom(null);
                void setWindow(w);
              }}
            >
              {w} min
            </button>
          ))}
        </div>
        {zoom ? (
          <button type="button" className="btn btn-small" onClick={() => setZoom(null)}>
            Reset zoom
          </button>
        ) : null}
        <span className="spacer" />
        <span
          className="dim num"
          title="Time to derive every chart from the series on the last update"
        >
          {formatCount(derived.pointCount)} points · derived in {derived.deriveMs.toFixed(1)} ms
        </span>
        <button type="button" className="btn btn-small" onClick={() => void onCsv()}>
          Export CSV
        </button>
      </div>
      {metricsError ? (
        <ErrorBox
          title="Metrics history could not be loaded"
          message={metricsError}
          onRetry={() => void loadHistory()}
        />
      ) : null}
      <div className="stat-row">
        <div className="stat">
          <div className="label">Requests</div>
          <div className="value" data-testid="stat-rps">
            {formatRate(stats.rps, 'req')}
          </div>
          <div className="sub">last 10 s</div>
        </div>
        <div className="stat">
          <div className="label">Output tokens</div>
          <div className="value">{formatRate(stats.tps, 'tok')}</div>
          <div className="sub">last 10 s</div>
        </div>
        <div className="stat">
          <div className="label">TTFT p50 / p99</div>
          <div className="value">{formatMs(stats.ttftP50)}</div>
          <div className="sub">p99 {formatMs(stats.ttftP99)}</div>
        </div>
        <div className="stat">
          <div className="label">TPOT p50</div>
          <div className="value">{formatMs(stats.tpotP50)}</div>
          <div className="sub">proxy adds {formatMs(stats.proxyP50)} (p50)</div>
        </div>
        <div className="stat">
          <div className="label">Errors</div>
          <div className={`value ${stats.errors > 0 ? 'state-errored' : ''}`}>
            {formatCount(stats.errors)}
          </div>
          <div className="sub">last 10 s</div>
        </div>
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
    </section>
  );
}
