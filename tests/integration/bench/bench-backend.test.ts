// The load test and planner through the real backend: a small sweep against the demo topology (1 context +
// 1 generation simulated worker behind the real proxy) saved under <dataDir>/bench-runs, the planner's apply
// of 1 ctx + 2 gen as a topology version that keeps the running workers, and its check against a fresh
// load test of the applied topology.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { PlannerLayoutPrediction } from '../../../shared/model/bench';
import { type BackendHarness, startTestBackend } from '../core/backend/backend-kit';

let h: BackendHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function readyIds(hh: BackendHarness): Promise<string[]> {
  return (await hh.client.invoke('workers:list'))
    .filter((w) => w.status.state === 'ready')
    .map((w) => w.id)
    .sort();
}

describe('bench and planner in the backend', () => {
  it('sweeps the demo topology through its proxy, saves the run, applies and checks a planner layout', async () => {
    h = await startTestBackend({ isDemo: true });
    const hh = h;
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0']);

    const progress: number[] = [];
    hh.client.on('bench:progressed', (e) => progress.push(e.done));
    const out = await hh.client.invoke('bench:sweep', {
      endpoint: '/v1/completions',
      isStreaming: true,
      inputLen: 32,
      outputLen: 4,
      numPrompts: 4,
      sweep: { kind: 'concurrency', values: [1, 2] },
    });
    expect(out.run.steps).toHaveLength(2);
    for (const s of out.run.steps) {
      expect(s.result.completed).toBe(4);
      expect(s.result.failed).toBe(0);
      // The default target is the console's proxy and the model the topology serves.
      expect(s.result.base_url).toBe(hh.backend.proxyUrl);
      expect(s.result.model_id).toBe('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
    }
    expect(out.run.topology).toBe('1 ctx + 1 gen (simulated)');
    expect(progress.length).toBeGreaterThan(0);
    expect(readdirSync(join(hh.dataDir, 'bench-runs'))).toEqual([`${out.run.id}.json`]);
    expect((await hh.client.invoke('bench:list')).map((r) => r.id)).toEqual([out.run.id]);

    // Apply 1 ctx + 2 gen: ctx0 and gen0 stay as they are, gen1 is started on a free GPU.
    const applied = await hh.client.invoke('planner:apply', {
      kind: 'disaggregated',
      contextWorkers: 1,
      generationWorkers: 2,
      gpus: 3,
    });
    expect(applied.plan.start).toEqual(['gen1']);
    expect(applied.plan.unchanged.sort()).toEqual(['ctx0', 'gen0']);
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0', 'gen1']);
    const gen1 = (await hh.client.invoke('workers:list')).find((w) => w.id === 'gen1');
    expect(gen1?.spec?.gpus).toEqual([2]);

    const prediction: PlannerLayoutPrediction = {
      layout: { kind: 'disaggregated', contextWorkers: 1, generationWorkers: 2, gpus: 3 },
      label: '1 ctx + 2 gen',
      completed: 10,
      failed: 0,
      requestThroughput: 5,
      goodput: null,
      goodputFraction: null,
      meanTtftMs: 5,
      p99TtftMs: 10,
      meanTpotMs: 1,
      p99TpotMs: 2,
      outputTokensPerSec: 30,
      outputTokensPerSecPerGpu: 10,
      goodputPerGpu: null,
    };
    const check = await hh.client.invoke('planner:check', prediction, {
      inputLen: 32,
      outputLen: 4,
      maxConcurrency: 2,
      slos: {},
    });
    expect(check.label).toBe('1 ctx + 2 gen');
    expect(check.rows.map((r) => r.metric)).toContain('requests/s');
    expect(check.rows.every((r) => r.measured >= 0)).toBe(true);
    expect(check.meanAbsErrorPct).not.toBeNull();
    expect(check.run.topology).toBe('1 ctx + 2 gen (simulated)');
    expect((await hh.client.invoke('bench:list')).length).toBe(2);
  }, 90_000);

  it('predicts two layouts on 2 GPUs with simulated workers behind the real proxy; a second planner task is BUSY', async () => {
    h = await startTestBackend();
    const hh = h;
    const events: string[] = [];
    hh.client.on('planner:progressed', (e) =>
      events.push(`${e.task}:${e.isFinished ? 'end' : e.message}`),
    );
    const pending = hh.client.invoke('planner:predict', {
      workload: { inputLen: 64, outputLen: 8, maxConcurrency: 2, slos: { ttft: 2000 } },
      gpus: 2,
      model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
      durationS: 1,
      maxLayouts: 2,
    });
    await expect(hh.client.invoke('planner:calibrate', {})).rejects.toMatchObject({ code: 'BUSY' });
    const p = await pending;
    expect(p.layouts.map((l) => l.label)).toEqual(['2 aggregated', '1 ctx + 1 gen']);
    for (const l of p.layouts) {
      expect(l.completed).toBeGreaterThan(0);
      expect(l.goodput).not.toBeNull();
      expect(l.outputTokensPerSecPerGpu).toBeGreaterThan(0);
    }
    expect(p.recommended.index).toBeGreaterThanOrEqual(0);
    expect(p.recommended.reason.length).toBeGreaterThan(0);
    expect(p).not.toHaveProperty('results');
    expect(events).toContain('predict:simulating 1 ctx + 1 gen');
    expect(events.at(-1)).toBe('predict:end');
  }, 60_000);
});
