// Planner layouts, the recommendation rule, the prediction-vs-measurement error and the prompt budget.
import { describe, expect, it } from 'vitest';

import type { BenchResult } from '../../../../electron/core/bench/bench-types';
import {
  enumerateLayouts,
  predictionError,
  recommendLayout,
  summarizeLayout,
} from '../../../../electron/core/planner/planner-layouts';
import { promptsForWorkload } from '../../../../electron/core/planner/predict';
import { GPU_PROFILES } from '../../../../shared/logic/gpu-profiles';
import type { PlannerLayoutPrediction } from '../../../../shared/model/bench';

function pred(
  label: string,
  gpus: number,
  tokPerGpu: number,
  goodputPerGpu: number | null,
  failed = 0,
): PlannerLayoutPrediction {
  return {
    layout: { kind: 'disaggregated', contextWorkers: 1, generationWorkers: gpus - 1, gpus },
    label,
    completed: 100,
    failed,
    requestThroughput: 10,
    goodput: goodputPerGpu === null ? null : goodputPerGpu * gpus,
    goodputFraction: goodputPerGpu === null ? null : 0.9,
    meanTtftMs: 100,
    p99TtftMs: 200,
    meanTpotMs: 10,
    p99TpotMs: 20,
    outputTokensPerSec: tokPerGpu * gpus,
    outputTokensPerSecPerGpu: tokPerGpu,
    goodputPerGpu,
  };
}

function result(over: Partial<Record<string, unknown>>): BenchResult {
  return {
    completed: 100,
    failed: 0,
    request_throughput: 10,
    request_goodput: 8,
    output_throughput: 1000,
    mean_ttft_ms: 100,
    p99_ttft_ms: 250,
    mean_tpot_ms: 12,
    p99_tpot_ms: 20,
    ...over,
  } as unknown as BenchResult;
}

describe('enumerateLayouts', () => {
  it('lists aggregated first, then every c + g split using all GPUs, then smaller ones', () => {
    const labels = enumerateLayouts(3).map((l) =>
      l.kind === 'aggregated'
        ? `agg${l.generationWorkers}`
        : `${l.contextWorkers}+${l.generationWorkers}`,
    );
    expect(labels).toEqual(['agg3', '1+2', '2+1', '1+1']);
    expect(enumerateLayouts(1)).toEqual([
      { kind: 'aggregated', contextWorkers: 0, generationWorkers: 1, gpus: 1 },
    ]);
  });

  it('bounds the count, keeping the full-size layouts', () => {
    const l = enumerateLayouts(8, 5);
    expect(l).toHaveLength(5);
    expect(l.slice(1).every((x) => x.gpus === 8)).toBe(true);
    expect(() => enumerateLayouts(0)).toThrow(RangeError);
  });
});

describe('recommendLayout', () => {
  it('prefers goodput per GPU under SLOs, tokens/s per GPU without', () => {
    const preds = [pred('A', 2, 500, 3), pred('B', 3, 700, 2.5), pred('C', 4, 600, 3)];
    const withSlo = recommendLayout(preds, { ttft: 200 });
    expect(withSlo.index).toBe(2); // A and C tie on goodput per GPU; C has more tokens/s per GPU
    expect(withSlo.reason).toMatch(
      /C: most goodput per GPU \(3\.00 req\/s per GPU, 90% of requests within the SLOs\)/,
    );
    expect(recommendLayout(preds, {}).index).toBe(1);
  });

  it('never recommends a layout with failures above 5%', () => {
    const preds = [pred('A', 2, 500, 1), pred('B', 2, 900, 9, 50)];
    expect(recommendLayout(preds, { ttft: 1 }).index).toBe(0);
    expect(recommendLayout([pred('B', 2, 900, 9, 50)], {}).index).toBe(-1);
  });
});

describe('summaries and errors', () => {
  it('summarises a result per GPU', () => {
    const s = summarizeLayout(
      { kind: 'aggregated', contextWorkers: 0, generationWorkers: 4, gpus: 4 },
      result({}),
    );
    expect(s).toMatchObject({
      label: '4 aggregated',
      outputTokensPerSecPerGpu: 250,
      goodputPerGpu: 2,
      goodputFraction: 0.8,
      p99TtftMs: 250,
    });
  });

  it('reports the relative error of each metric and their mean', () => {
    const layout = {
      kind: 'disaggregated' as const,
      contextWorkers: 1,
      generationWorkers: 1,
      gpus: 2,
    };
    const predicted = summarizeLayout(layout, result({}));
    const check = predictionError(predicted, result({ output_throughput: 800, mean_ttft_ms: 125 }));
    const row = (m: string) => check.rows.find((r) => r.metric === m);
    expect(row('output tokens/s per GPU')?.errorPct).toBeCloseTo(25, 9);
    expect(row('mean TTFT (ms)')?.errorPct).toBeCloseTo(-20, 9);
    expect(row('requests/s')?.errorPct).toBe(0);
    expect(check.meanAbsErrorPct).toBeCloseTo(45 / 7, 9);
  });
});

describe('promptsForWorkload', () => {
  const base = { model: 'Llama-3.1-8B', gpu: GPU_PROFILES.h100 };
  it('uses rate x duration for an open loop and an estimate for a closed loop', () => {
    expect(
      promptsForWorkload(
        { ...base, workload: { inputLen: 100, outputLen: 10, requestRate: 4, slos: {} } },
        10,
      ),
    ).toBe(40);
    const n = promptsForWorkload(
      { ...base, workload: { inputLen: 1000, outputLen: 100, maxConcurrency: 8, slos: {} } },
      10,
    );
    expect(n).toBeGreaterThanOrEqual(16);
    expect(n).toBeLessThanOrEqual(5000);
    expect(() =>
      promptsForWorkload({ ...base, workload: { inputLen: 1, outputLen: 1, slos: {} } }, 10),
    ).toThrow(/rate or a concurrency/);
  });
});
