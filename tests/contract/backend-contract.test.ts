// The same behaviour suite against the REAL backend (createBackend), over the in-memory transport and over
// HTTP + SSE through the api-server: values, error codes and events must be identical on both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Backend, createBackend } from '../../electron/core/backend';
import { type ApiClient } from '../../shared/api/client';
import type { TopologyAppliedEvent } from '../../shared/api/contract';
import type { WorkerView } from '../../shared/model/worker-view';
import { getFreePort } from '../helpers/free-port';
import { CONTRACT_TRANSPORTS, expectAppError, type TransportHarness } from './contract-transports';

const CLI = resolve(__dirname, '../../bin/disagg-console.mjs');
const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

const transports = CONTRACT_TRANSPORTS.map(({ name, connect }) => ({
  name,
  make: (backend: Backend): Promise<TransportHarness> => connect(backend, () => undefined),
}));

function workerEntry(name: string, role: string, gpu: number, port: number): string {
  return `  - name: ${name}\n    role: ${role}\n    gpus: [${gpu}]\n    host: 127.0.0.1\n    port: ${port}\n    model: ${MODEL}\n    engine: simulated\n    backend: pytorch\n    options_file: ${name}.yaml\n`;
}

describe.each(transports)('real backend over $name', ({ make }) => {
  let dataDir = '';
  let backend: Backend;
  let h: TransportHarness;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-contract-'));
    backend = await createBackend({
      dataDir,
      env: { ...process.env, DISAGG_SIM_ZERO_DELAY: '1' },
      cliScript: CLI,
      proxyPort: 0,
      isGpuSimulationForced: true,
      policy: { readyTimeoutMs: 30_000, probeIntervalMs: 100, killTimeoutMs: 5000 },
      log: () => undefined,
    });
    h = await make(backend);
  }, 30_000);

  afterAll(async () => {
    await h?.close();
    await backend?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts empty: no workers, no topology, simulated GPUs, a running proxy, static membership', async () => {
    expect(await h.client.invoke('workers:list')).toEqual([]);
    expect(await h.client.invoke('topology:get')).toMatchObject({
      name: 'default',
      files: {},
      console: null,
      appliedVersion: null,
    });
    expect(await h.client.invoke('topology:history')).toEqual([]);
    const gpus = await h.client.invoke('gpus:list');
    expect([gpus.simulated, gpus.gpus.length, gpus.gpus[0]?.name]).toEqual([
      true,
      4,
      'NVIDIA H100 80GB HBM3',
    ]);
    const proxy = await h.client.invoke('proxy:info');
    expect(proxy).toMatchObject({ host: '127.0.0.1', isRunning: true });
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    expect(await h.client.invoke('cluster:status')).toEqual({
      mode: 'static',
      etcd: { state: 'off', endpoint: null, message: null },
      isReady: null,
      remoteWorkers: [],
    });
  });

  it('keeps settings across calls and validates patches', async () => {
    const before = await h.client.invoke('settings:get');
    expect(before.readyTimeoutMs).toBe(1_800_000);
    const after = await h.client.invoke('settings:set', { simulatedGpuCount: 8 });
    expect(after).toEqual({ ...before, simulatedGpuCount: 8 });
    expect(await h.client.invoke('settings:get')).toEqual(after);
    const err = await expectAppError(h.client.invoke('settings:set', { proxyPort: -1 }));
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  it.each([
    { call: (c: ApiClient) => c.invoke('workers:logs', 'nope'), code: 'WORKER_NOT_FOUND' },
    { call: (c: ApiClient) => c.invoke('workers:restart', 'nope'), code: 'WORKER_NOT_FOUND' },
    { call: (c: ApiClient) => c.invoke('workers:remove', 'nope'), code: 'WORKER_NOT_FOUND' },
    { call: (c: ApiClient) => c.invoke('topology:export', { format: 'files' }), code: 'NOT_FOUND' },
    {
      call: (c: ApiClient) => c.invoke('topology:apply', { 'console.yaml': 'workers: 3\n' }),
      code: 'CONFIG_INVALID',
    },
    // A worker without a GPU is refused before anything is written or started.
    {
      call: (c: ApiClient) =>
        c.invoke('workers:add', { role: 'context', gpus: [], model: MODEL, engine: 'simulated' }),
      code: 'CONFIG_INVALID',
    },
  ])('answers $code', async ({ call, code }) => {
    expect((await expectAppError(call(h.client))).code).toBe(code);
    expect(await h.client.invoke('workers:list')).toEqual([]);
  });

  it('validates a topology without changing anything', async () => {
    const report = await h.client.invoke('topology:validate', {
      'console.yaml': 'cluster_mode: static\nworkers: []\n',
    });
    expect(report.ok).toBe(false);
    expect(
      report.issues.some((i) => i.file === 'disagg_config.yaml' && i.severity === 'error'),
    ).toBe(true);
  });

  it('applies a topology: events for the plan and each worker, then workers serve; metrics answer', async () => {
    const applied: TopologyAppliedEvent[] = [];
    const statuses: WorkerView[] = [];
    const offA = h.client.on('topology:applied', (e) => applied.push(e));
    const offS = h.client.on('workers:statusChanged', (v) => statuses.push(v));
    const logged: string[] = [];
    const offL = h.client.on('logs:appended', (e) =>
      logged.push(...e.lines.map((l) => `${e.workerId}|${l.text}`)),
    );
    await h.client.whenConnected();
    const { port: proxyPort } = await h.client.invoke('proxy:info');
    const [ctxPort, genPort] = [await getFreePort(), await getFreePort()];
    const opts = 'cache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 8192\n';
    const result = await h.client.invoke('topology:apply', {
      'console.yaml': `cluster_mode: static\nworkers:\n${workerEntry('ctx0', 'context', 0, ctxPort)}${workerEntry('gen0', 'generation', 1, genPort)}`,
      'disagg_config.yaml': `hostname: 127.0.0.1\nport: ${proxyPort}\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${ctxPort}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${genPort}"]\n`,
      'ctx0.yaml': `disable_overlap_scheduler: true\n${opts}`,
      'gen0.yaml': opts,
    });
    expect(result.version).toBe(1);
    expect(result.plan).toMatchObject({ start: ['ctx0', 'gen0'], restart: [], stop: [] });
    await expect.poll(() => applied.map((e) => e.version), { timeout: 5000 }).toEqual([1]);
    await expect
      .poll(
        () =>
          [...new Set(statuses.filter((s) => s.status.state === 'ready').map((s) => s.id))].sort(),
        { timeout: 20_000, interval: 100 },
      )
      .toEqual(['ctx0', 'gen0']);
    await expect
      .poll(
        () => logged.some((l) => l.startsWith('gen0|') && l.includes('CUDA_VISIBLE_DEVICES=1')),
        { timeout: 5000 },
      )
      .toBe(true);
    offA();
    offS();
    offL();
    expect((await h.client.invoke('workers:list')).map((w) => [w.id, w.origin, w.url])).toEqual([
      ['ctx0', 'local', `http://127.0.0.1:${ctxPort}`],
      ['gen0', 'local', `http://127.0.0.1:${genPort}`],
    ]);
    const lines = await h.client.invoke('workers:logs', 'gen0', {
      search: 'CUDA_VISIBLE_DEVICES=1',
    });
    expect(lines.length).toBeGreaterThan(0);
    const exported = await h.client.invoke('topology:export', { format: 'launch-script' });
    expect(exported[0]?.text).toContain('trtllm-serve');
    const snap = await h.client.invoke('metrics:snapshot', {
      fromMs: Date.now() - 10_000,
      stepSec: 5,
    });
    expect(snap.stepSec).toBe(5);
    expect(snap.overall.length).toBeGreaterThanOrEqual(2);
    expect((await h.client.invoke('metrics:csv')).split('\n')[0]).toMatch(
      /^time_iso,at_ms,scope,requests/,
    );
    expect(await h.client.invoke('workers:stop', 'gen0')).toMatchObject({
      id: 'gen0',
      state: 'stopped',
    });
  }, 60_000);
});
