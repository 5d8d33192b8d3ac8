// The what-if planner's pure parts: which layouts to try on N GPUs (c context + g generation workers with
// c + g <= N, and N aggregated workers), a summary of one layout's simulated load test, the recommendation
// (most goodput per GPU under the SLOs, else most output tokens/s per GPU), and the planner's error against a
// later real load test of the applied layout. Layer: core (pure functions).
import type { PlannerLayout, PlannerLayoutPrediction } from '../../../shared/model/bench';
import type { BenchResult, GoodputSlos } from '../bench/bench-types';

/** A short label, e.g. "1 ctx + 2 gen" or "3 aggregated". */
export function layoutLabel(l: PlannerLayout): string {
  return l.kind === 'aggregated'
    ? `${l.generationWorkers} aggregated`
    : `${l.contextWorkers} ctx + ${l.generationWorkers} gen`;
}

/**
 * Layouts for `gpus` GPUs: every disaggregated c + g <= gpus (c, g >= 1) and the aggregated layout on all GPUs.
 * When there are more than `maxLayouts`, the ones using every GPU are kept first, then smaller ones.
 */
export function enumerateLayouts(gpus: number, maxLayouts = 8): PlannerLayout[] {
  if (!(Number.isInteger(gpus) && gpus >= 1)) {
    throw new RangeError(`gpus must be a positive integer, got ${gpus}`);
  }
  const aggregated: PlannerLayout = {
    kind: 'aggregated',
    contextWorkers: 0,
    generationWorkers: gpus,
    gpus,
  };
  const disagg: PlannerLayout[] = [];
  for (let total = 2; total <= gpus; total += 1) {
    for (let c = 1; c < total; c += 1) {
      disagg.push({
        kind: 'disaggregated',
        contextWorkers: c,
        generationWorkers: total - c,
        gpus: total,
      });
    }
  }
  disagg.sort((a, b) => b.gpus - a.gpus || a.contextWorkers - b.contextWorkers);
  return [aggregated, ...disagg.slice(0, Math.max(0, maxLayouts - 1))];
}

function num(r: BenchResult, key: `${string}_ms`): number {
  const v = r[key];
  return typeof v === 'number' ? v : 0;
}

/** The planner's view of one layout's load-test result. */
export function summarizeLayout(layout: PlannerLayout, r: BenchResult): PlannerLayoutPrediction {
  const goodput = r.request_goodput;
  return {
    layout,
    label: layoutLabel(layout),
    completed: r.completed,
    failed: r.failed,
    requestThroughput: r.request_throughput,
    goodput,
    goodputFraction:
      goodput !== null && r.request_throughput > 0 ? goodput / r.request_throughput : null,
    meanTtftMs: num(r, 'mean_ttft_ms'),
    p99TtftMs: num(r, 'p99_ttft_ms'),
    meanTpotMs: num(r, 'mean_tpot_ms'),
    p99TpotMs: num(r, 'p99_tpot_ms'),
    outputTokensPerSec: r.output_throughput,
    outputTokensPerSecPerGpu: r.output_throughput / layout.gpus,
    goodputPerGpu: goodput !== null ? goodput / layout.gpus : null,
  };
}

export interface Recommendation {
  /** Index into the predictions; -1 when none is usable. */
  index: number;
  reason: string;
}

/** Layouts with more than this share of failed requests are never recommended. */
export const MAX_FAILED_SHARE = 0.05;

/** Picks the layout: most goodput per GPU when SLOs are set (ties: tokens/s per GPU), else most tokens/s per GPU. */
export function recommendLayout(
  preds: readonly PlannerLayoutPrediction[],
  slos: GoodputSlos,
): Recommendation {
  const hasSlos = Object.keys(slos).length > 0;
  let best = -1;
  const score = (p: PlannerLayoutPrediction): [number, number] =>
    hasSlos ? [p.goodputPerGpu ?? 0, p.outputTokensPerSecPerGpu] : [p.outputTokensPerSecPerGpu, 0];
  for (const [i, p] of preds.entries()) {
    const total = p.completed + p.failed;
    if (total === 0 || p.failed / total > MAX_FAILED_SHARE) continue;
    const bp = best >= 0 ? preds[best] : undefined;
    if (bp === undefined) {
      best = i;
      continue;
    }
    const [a1, a2] = score(p);
    const [b1, b2] = score(bp);
    if (a1 > b1 * 1.0001 || (Math.abs(a1 - b1) <= b1 * 1e-4 && a2 > b2)) best = i;
  }
  const chosen = best >= 0 ? preds[best] : undefined;
  if (chosen === undefined) {
    return { index: -1, reason: 'no layout completed its load test without failures' };
  }
  if (hasSlos) {
    const pct = ((chosen.goodputFraction ?? 0) * 100).toFixed(0);
    return {
      index: best,
      reason: `${chosen.label}: most goodput per GPU (${(chosen.goodputPerGpu ?? 0).toFixed(2)} req/s per GPU, ${pct}% of requests within the SLOs)`,
    };
  }
  return {
    index: best,
    reason: `${chosen.label}: most output tokens/s per GPU (${chosen.outputTokensPerSecPerGpu.toFixed(0)})`,
  };
}

export interface PredictionErrorRow {
  metric: string;
  predicted: number;
  measured: number;
  /** (predicted - measured) / measured x 100; null when measured is 0. */
  errorPct: number | null;
}

/** The planner checked against itself: prediction vs a load test of the applied layout. */
export function predictionError(
  pred: PlannerLayoutPrediction,
  measured: BenchResult,
): { rows: PredictionErrorRow[]; meanAbsErrorPct: number | null } {
  const m = summarizeLayout(pred.layout, measured);
  const pairs: Array<[string, number | null, number | null]> = [
    ['output tokens/s per GPU', pred.outputTokensPerSecPerGpu, m.outputTokensPerSecPerGpu],
    ['requests/s', pred.requestThroughput, m.requestThroughput],
    ['goodput (req/s)', pred.goodput, m.goodput],
    ['mean TTFT (ms)', pred.meanTtftMs, m.meanTtftMs],
    ['p99 TTFT (ms)', pred.p99TtftMs, m.p99TtftMs],
    ['mean TPOT (ms)', pred.meanTpotMs, m.meanTpotMs],
    ['p99 TPOT (ms)', pred.p99TpotMs, m.p99TpotMs],
  ];
  const rows: PredictionErrorRow[] = [];
  for (const [metric, p, x] of pairs) {
    if (p === null || x === null) continue;
    rows.push({
      metric,
      predicted: p,
      measured: x,
      errorPct: x !== 0 ? ((p - x) / x) * 100 : null,
    });
  }
  const errs = rows.map((r) => r.errorPct).filter((e): e is number => e !== null);
  return {
    rows,
    meanAbsErrorPct:
      errs.length > 0 ? errs.reduce((a, b) => a + Math.abs(b), 0) / errs.length : null,
  };
}
