// The text summary printed at the end of a load test, laid out like benchmark_serving's (a 50-column
// table: label padded to 40, value), plus the generator's own cost. Layer: core (pure).
import { PERCENTILE_METRICS } from './bench-metrics';
import type { BenchResult, PercentileMetric } from './bench-types';

const TITLES: Record<PercentileMetric, [string, string]> = {
  ttft: ['TTFT', 'Time to First Token'],
  tpot: ['TPOT', 'Time per Output Token (excl. 1st token)'],
  itl: ['ITL', 'Inter-token Latency'],
  e2el: ['E2EL', 'End-to-end Latency'],
};

function centered(text: string, fill: string): string {
  const width = 50;
  const left = Math.max(0, Math.floor((width - text.length) / 2));
  const right = Math.max(0, width - text.length - left);
  return fill.repeat(left) + text + fill.repeat(right);
}

function row(label: string, value: number | string): string {
  const v =
    typeof value === 'number'
      ? Number.isInteger(value)
        ? String(value)
        : value.toFixed(2)
      : value;
  return `${label.padEnd(40)} ${v}`;
}

/** The summary table of one result. */
export function formatSummary(r: BenchResult): string {
  const lines = [centered(' Serving Benchmark Result ', '=')];
  lines.push(row('Total requests:', r.num_prompts));
  lines.push(row('Successful requests:', r.completed));
  lines.push(row('Failed requests:', r.failed));
  lines.push(row('Benchmark duration (s):', r.duration.toFixed(2)));
  lines.push(row('Total input tokens:', r.total_input_tokens));
  lines.push(row('Total generated tokens:', r.total_output_tokens));
  lines.push(row('Request throughput (req/s):', r.request_throughput.toFixed(2)));
  if (r.request_goodput !== null) {
    lines.push(row('Request goodput (req/s):', r.request_goodput.toFixed(2)));
  }
  lines.push(row('Output token throughput (tok/s):', r.output_throughput.toFixed(2)));
  lines.push(row('Total Token throughput (tok/s):', r.total_token_throughput.toFixed(2)));
  lines.push(row('User throughput (tok/s):', r.user_throughput.toFixed(2)));
  for (const metric of PERCENTILE_METRICS) {
    if (!r.percentile_metrics.includes(metric)) continue;
    const [short, header] = TITLES[metric];
    lines.push(centered(header, '-'));
    lines.push(row(`Mean ${short} (ms):`, (r[`mean_${metric}_ms`] ?? 0).toFixed(2)));
    lines.push(row(`Median ${short} (ms):`, (r[`median_${metric}_ms`] ?? 0).toFixed(2)));
    lines.push(row(`Std Dev ${short} (ms):`, (r[`std_${metric}_ms`] ?? 0).toFixed(2)));
    for (const q of r.metric_percentiles) {
      lines.push(
        row(`P${String(q)} ${short} (ms):`, (r[`p${String(q)}_${metric}_ms`] ?? 0).toFixed(2)),
      );
    }
  }
  if (r.failed > 0) {
    lines.push(centered(' Errors ', '-'));
    for (const [kind, count] of Object.entries(r.error_counts)) lines.push(row(`${kind}:`, count));
    const first = r.errors.find((e) => e !== '');
    if (first !== undefined) lines.push(`First error: ${first.slice(0, 200)}`);
  }
  lines.push(centered(' Load generator ', '-'));
  lines.push(row('CPU per request (us):', r.generator.cpu_us_per_request.toFixed(1)));
  lines.push(row('CPU per streamed token (us):', r.generator.cpu_us_per_token.toFixed(2)));
  lines.push(
    row(
      'Send lag p99 / max (ms):',
      `${r.generator.p99_send_lag_ms.toFixed(2)} / ${r.generator.max_send_lag_ms.toFixed(2)}`,
    ),
  );
  lines.push('='.repeat(50));
  return lines.join('\n');
}
