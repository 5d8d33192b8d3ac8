// Chart data of a sweep for the console (latency percentiles against throughput, one point per step):
// plain JSON rows the renderer plots as they are. Layer: core (pure).
import type { BenchSweepPoint } from '../../../shared/model/bench';
import type { BenchResult } from './bench-types';
import type { SweepStep } from './run-benchmark';

function ms(r: BenchResult, key: `${string}_ms`): number {
  const v = r[key];
  return typeof v === 'number' ? v : 0;
}

/** One point per step, in step order; p99 values are 0 unless 99 was among the metric percentiles. */
export function sweepPoints(steps: readonly SweepStep[]): BenchSweepPoint[] {
  return steps.map(({ kind, value, result: r }) => ({
    kind,
    value,
    requestThroughput: r.request_throughput,
    outputThroughput: r.output_throughput,
    goodput: r.request_goodput,
    ttftP50Ms: ms(r, 'median_ttft_ms'),
    ttftP99Ms: ms(r, 'p99_ttft_ms'),
    tpotP50Ms: ms(r, 'median_tpot_ms'),
    tpotP99Ms: ms(r, 'p99_tpot_ms'),
    itlP99Ms: ms(r, 'p99_itl_ms'),
    e2elP50Ms: ms(r, 'median_e2el_ms'),
    e2elP99Ms: ms(r, 'p99_e2el_ms'),
    failed: r.failed,
  }));
}
