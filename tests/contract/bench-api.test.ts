// The bench:* and planner:* channels with the real bench service behind them (a zero-delay simulated worker
// as the target), over the in-memory transport and over HTTP + SSE: a sweep saves a run and streams
// bench:progressed events, a second run at the same time is BUSY, cancel, list/get/compare/csv/delete,
// NOT_FOUND for unknown runs, and the planner's errors that say what to do next.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type BenchService, createBenchService } from '../../electron/core/bench-service';
import { type RunningProcess, startSimWorker } from '../../electron/core/planner/sim-cluster';
import { type ApiClient } from '../../shared/api/client';
import type { ApiBackend, ApiEventMap } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import { GPU_PROFILES } from '../../shared/logic/gpu-profiles';
import type { BenchProgressedEvent, BenchSweepRequest } from '../../shared/model/bench';
import { CONTRACT_TRANSPORTS, type TransportHarness } from './contract-transports';

const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

let worker: RunningProcess;
beforeAll(async () => {
  // Zero-delay engine plus a fixed 5 ms per iteration: runs take a fraction of a second but are cancellable.
  worker = await startSimWorker({
    model: MODEL,
    gpu: GPU_PROFILES.h100,
    env: { DISAGG_SIM_ZERO_DELAY: '1', DISAGG_SIM_FAULTS: '{"extraIterationMs":5}' },
  });
}, 30_000);
afterAll(async () => {
  await worker?.stop();
});

function benchBackend(
  dataDir: string,
  currentModel: string | null,
): { backend: ApiBackend; service: BenchService } {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const service = createBenchService({
    dataDir,
    emit: (name, payload) => {
      for (const l of listeners.get(name) ?? []) l(payload);
    },
    proxyUrl: () => worker.url,
    currentModel: () => currentModel,
    topologyLabel: () => '1 simulated worker',
    calibrationTarget: () => null,
    defaultGpu: () => GPU_PROFILES.h100,
    applyLayout: () => Promise.reject(new AppError('NOT_SUPPORTED', 'no topology in this test')),
    progressIntervalMs: 50,
  });
  return {
    service,
    backend: {
      api: service.handlers,
      onEvent: (name, listener) => {
        let set = listeners.get(name);
        if (!set) listeners.set(name, (set = new Set()));
        const l = listener as (p: unknown) => void;
        set.add(l);
        return () => set.delete(l);
      },
    },
  };
}

const transports = CONTRACT_TRANSPORTS.map(({ name, connect }) => ({
  name,
  make: async (backend: ApiBackend): Promise<TransportHarness> => {
    const h = await connect(backend);
    // Progress events are asserted from the first one: the event stream is open before a run starts.
    await h.client.whenConnected();
    return h;
  },
}));

const SWEEP: BenchSweepRequest = {
  endpoint: '/v1/completions',
  isStreaming: true,
  inputLen: 32,
  outputLen: 6,
  numPrompts: 6,
  sweep: { kind: 'concurrency', values: [1, 3] },
  slos: { ttft: 5000 },
};

const { sweep: _sweep, ...RUN } = SWEEP;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
  }
}

describe.each(transports)('bench and planner channels over $name', ({ make }) => {
  let dataDir: string | undefined;
  let h: TransportHarness | undefined;
  let service: BenchService | undefined;
  const client = async (model: string | null = MODEL): Promise<ApiClient> => {
    dataDir = mkdtempSync(join(tmpdir(), 'bench-contract-'));
    const b = benchBackend(dataDir, model);
    service = b.service;
    h = await make(b.backend);
    return h.client;
  };
  afterEach(async () => {
    await service?.dispose();
    await h?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a sweep saves one run with a step per value, chart points and progress events', async () => {
    const c = await client();
    const events: BenchProgressedEvent[] = [];
    const off = c.on('bench:progressed', (e: ApiEventMap['bench:progressed']) => events.push(e));
    const out = await c.invoke('bench:sweep', SWEEP);
    off();
    expect(out.wasCancelled).toBe(false);
    expect(out.run.steps.map((s) => s.step)).toEqual([
      { kind: 'concurrency', value: 1 },
      { kind: 'concurrency', value: 3 },
    ]);
    for (const s of out.run.steps) {
      expect(s.result.completed).toBe(6);
      expect(s.result.total_output_tokens).toBe(36);
      expect(s.result.request_goodput).not.toBeNull();
      expect(s.result.mean_ttft_ms).toBeGreaterThan(0);
      // Per-request lists stay in the saved file, not in what crosses the channel.
      expect(s.result).not.toHaveProperty('itls');
    }
    expect(out.points.map((p) => p.value)).toEqual([1, 3]);
    expect(out.points[0]?.ttftP99Ms).toBeGreaterThan(0);
    expect(out.run.topology).toBe('1 simulated worker');
    // Progress arrives over SSE asynchronously: wait (bounded) for the final event.
    const deadline = Date.now() + 3000;
    while (!events.some((e) => e.isFinished) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(events.some((e) => e.isFinished)).toBe(true);
    expect(events.length).toBeLessThan(40);

    const list = await c.invoke('bench:list');
    expect(list.map((r) => r.id)).toEqual([out.run.id]);
    expect(list[0]?.stepCount).toBe(2);
    const got = await c.invoke('bench:get', out.run.id);
    expect(got.run.steps).toHaveLength(2);
    const csv = await c.invoke('bench:csv', out.run.id);
    expect(csv.split('\n')[0]).toContain('step_kind,step_value,completed');
    expect(csv.trim().split('\n')).toHaveLength(3);
  }, 30_000);

  it('one run at a time: a second is BUSY; cancel ends the first and keeps finished steps', async () => {
    const c = await client();
    const long = c.invoke('bench:sweep', {
      ...SWEEP,
      outputLen: 200,
      numPrompts: 40,
      sweep: { kind: 'concurrency', values: [2, 2, 2] },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await codeOf(c.invoke('bench:run', { ...RUN, maxConcurrency: 1 }))).toBe('BUSY');
    expect(await c.invoke('bench:cancel')).toBe(true);
    const code = await codeOf(long);
    // Cancelled inside the first step: nothing finished, nothing saved (INTERNAL with the reason);
    // cancelled later: the run resolves with its finished steps.
    expect(['resolved', 'INTERNAL']).toContain(code);
    expect(await c.invoke('bench:cancel')).toBe(false);
    const again = await c.invoke('bench:run', { ...RUN, numPrompts: 2, maxConcurrency: 1 });
    expect(again.run.steps).toHaveLength(1);
    expect(again.run.steps[0]?.step).toBeNull();
  }, 30_000);

  it('compares two runs and deletes one; unknown runs are NOT_FOUND', async () => {
    const c = await client();
    const a = await c.invoke('bench:sweep', {
      ...SWEEP,
      numPrompts: 3,
      sweep: { kind: 'concurrency', values: [1] },
    });
    const b = await c.invoke('bench:sweep', {
      ...SWEEP,
      numPrompts: 3,
      sweep: { kind: 'concurrency', values: [1, 2] },
    });
    const rows = await c.invoke('bench:compare', a.run.id, b.run.id);
    const tput = rows.filter((r) => r.metric === 'output_throughput');
    expect(tput.map((r) => r.stepValue)).toEqual([1, 2]);
    expect(tput[0]?.a).not.toBeNull();
    expect(tput[1]?.a).toBeNull();
    await c.invoke('bench:delete', a.run.id);
    expect((await c.invoke('bench:list')).map((r) => r.id)).toEqual([b.run.id]);
    expect(await codeOf(c.invoke('bench:get', a.run.id))).toBe('NOT_FOUND');
    expect(await codeOf(c.invoke('bench:compare', a.run.id, b.run.id))).toBe('NOT_FOUND');
    expect(await codeOf(c.invoke('bench:get', '../../etc/passwd'))).toBe('INVALID_ARGUMENT');
  }, 30_000);

  it('says what to do next: no model, wrong URL, no worker to calibrate, aggregated apply', async () => {
    const c = await client(null);
    expect(await codeOf(c.invoke('bench:run', RUN))).toBe('CONFIG_INVALID');
    expect(
      await codeOf(c.invoke('bench:run', { ...RUN, model: MODEL, baseUrl: 'http://127.0.0.1:1' })),
    ).toBe('INTERNAL');
    expect(await codeOf(c.invoke('planner:calibrate', {}))).toBe('CONFIG_INVALID');
    expect(
      await codeOf(
        c.invoke('planner:apply', {
          kind: 'aggregated',
          contextWorkers: 0,
          generationWorkers: 2,
          gpus: 2,
        }),
      ),
    ).toBe('NOT_SUPPORTED');
    expect(
      await codeOf(
        c.invoke('planner:predict', {
          workload: { inputLen: 8, outputLen: 4, slos: {} },
          gpus: 2,
          model: MODEL,
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(await c.invoke('planner:cancel')).toBe(false);
  }, 30_000);
});
