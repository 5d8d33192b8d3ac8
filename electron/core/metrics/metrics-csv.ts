// CSV export of metrics buckets (feature O2): one row per bucket and scope, percentiles in milliseconds,
// rates per second of the step. RFC 4180 quoting. Layer: core (pure code).

import type { LatencySummary, MetricsBucket } from '../../../shared/model/metrics';

const LATENCIES = ['ttftMs', 'tpotMs', 'itlMs', 'e2eMs', 'proxyAddedMs'] as const;
const LATENCY_COLUMNS: Record<(typeof LATENCIES)[number], string> = {
  ttftMs: 'ttft',
  tpotMs: 'tpot',
  itlMs: 'itl',
  e2eMs: 'e2e',
  proxyAddedMs: 'proxy_added',
};

/** The header row. */
export const CSV_HEADER = [
  'time_iso',
  'at_ms',
  'scope',
  'requests',
  'requests_per_s',
  'errors',
  'errors_by_kind',
  'prompt_tokens',
  'completion_tokens',
  'completion_tokens_per_s',
  ...LATENCIES.flatMap((l) => ['p50', 'p90', 'p99'].map((p) => `${LATENCY_COLUMNS[l]}_${p}_ms`)),
].join(',');

function cell(value: string | number | null): string {
  if (value === null) return '';
  const s = typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : value;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function latencyCells(s: LatencySummary): (number | null)[] {
  return [s.p50, s.p90, s.p99];
}

/** Rows for one scope's buckets. */
export function csvRows(
  scope: string,
  buckets: readonly MetricsBucket[],
  stepSec: number,
): string[] {
  return buckets.map((b) => {
    const errors = Object.values(b.errors).reduce((a, n) => a + n, 0);
    const kinds = Object.entries(b.errors)
      .sort(([a], [c]) => (a < c ? -1 : 1))
      .map(([k, n]) => `${k}=${n}`)
      .join(';');
    const cells: (string | number | null)[] = [
      new Date(b.atMs).toISOString(),
      b.atMs,
      scope,
      b.requests,
      b.requests / stepSec,
      errors,
      kinds,
      b.promptTokens,
      b.completionTokens,
      b.completionTokens / stepSec,
      ...LATENCIES.flatMap((l) => latencyCells(b[l])),
    ];
    return cells.map(cell).join(',');
  });
}

/** The whole CSV text: header, overall rows, then each worker's rows. */
export function metricsToCsv(
  overall: readonly MetricsBucket[],
  perWorker: Record<string, MetricsBucket[]>,
  stepSec: number,
): string {
  const lines = [CSV_HEADER, ...csvRows('overall', overall, stepSec)];
  for (const id of Object.keys(perWorker).sort()) {
    lines.push(...csvRows(id, perWorker[id] ?? [], stepSec));
  }
  return lines.join('\n') + '\n';
}
