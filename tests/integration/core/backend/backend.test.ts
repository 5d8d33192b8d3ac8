// The console backend with real processes: the demo topology answers through the proxy and feeds the
// metrics; a worker added through the API becomes ready and takes traffic; a killed worker is restarted;
// a worker removed under load loses no request of the others.
import { afterEach, describe, expect, it } from 'vitest';

import { isProcessAlive } from '../../../../electron/core/supervisor/pid-file';
import type { WorkerView } from '../../../../shared/model/worker-view';
import { type BackendHarness, complete, MODEL, startTestBackend } from './backend-kit';

let h: BackendHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const readyIds = async (hh: BackendHarness): Promise<string[]> =>
  (await hh.client.invoke('workers:list'))
    .filter((w) => w.status.state === 'ready')
    .map((w) => w.id)
    .sort();

describe('console backend', () => {
  it('starts the demo (1 context + 1 generation) and answers a completion through the proxy', async () => {
    h = await startTestBackend({ isDemo: true });
    const hh = h;
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0']);
    const gpus = await hh.client.invoke('gpus:list');
    expect(gpus.simulated).toBe(true);
    expect(gpus.gpus).toHaveLength(4);
    expect(gpus.holders).toEqual({
      '0': [{ workerId: 'ctx0', role: 'context' }],
      '1': [{ workerId: 'gen0', role: 'generation' }],
    });
    const info = await hh.client.invoke('proxy:info');
    expect(info.isRunning).toBe(true);
    await expect
      .poll(async () => (await complete(info.url)).status, { timeout: 10_000, interval: 200 })
      .toBe(200);
    const r = await complete(info.url);
    expect(r.body.choices?.[0]?.text.length).toBeGreaterThan(0);
    const topo = await hh.client.invoke('topology:get');
    expect(topo.appliedVersion).toBe(1);
    expect(Object.keys(topo.files).sort()).toEqual([
      'console.yaml',
      'ctx0.yaml',
      'disagg_config.yaml',
      'gen0.yaml',
    ]);
    // The proxy's records reach the metrics, overall and per worker.
    await expect
      .poll(
        async () => {
          const snap = await hh.client.invoke('metrics:snapshot', { fromMs: Date.now() - 60_000 });
          return [
            snap.overall.reduce((n, b) => n + b.requests, 0) >= 2,
            (snap.perWorker['gen0'] ?? []).reduce((n, b) => n + b.requests, 0) >= 2,
          ];
        },
        { timeout: 10_000, interval: 200 },
      )
      .toEqual([true, true]);
    const csv = await hh.client.invoke('metrics:csv', { fromMs: Date.now() - 60_000 });
    expect(csv.split('\n')[0]).toContain('ttft_p50_ms');
    expect(csv).toContain(',gen0,');
  }, 60_000);

  it('adds a worker that becomes ready and takes traffic; a killed worker is restarted', async () => {
    h = await startTestBackend({ isDemo: true });
    const hh = h;
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0']);
    const seen: WorkerView[] = [];
    hh.client.on('workers:statusChanged', (v) => seen.push(v));
    const added = await hh.client.invoke('workers:add', {
      role: 'generation',
      gpus: [2],
      model: MODEL,
      engine: 'simulated',
    });
    expect(added.id).toBe('gen1');
    expect(added.spec?.gpus).toEqual([2]);
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0', 'gen1']);
    expect(seen.some((v) => v.id === 'gen1' && v.status.state === 'ready')).toBe(true);
    const { url } = await hh.client.invoke('proxy:info');
    // Round robin over two generation workers: gen1 serves some of them.
    for (let i = 0; i < 6; i++) expect((await complete(url, `prompt ${i}`)).status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            (
              await hh.client.invoke('metrics:snapshot', {
                workerId: 'gen1',
                fromMs: Date.now() - 60_000,
              })
            ).perWorker['gen1'] ?? []
          ).reduce((n, b) => n + b.requests, 0),
        { timeout: 10_000, interval: 200 },
      )
      .toBeGreaterThan(0);
    expect((await hh.client.invoke('topology:history')).map((v) => v.note)).toEqual([
      'add gen1',
      'demo',
    ]);

    const pid = (await hh.client.invoke('workers:list')).find((w) => w.id === 'gen1')?.status.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    await expect
      .poll(
        async () => (await hh.client.invoke('workers:list')).find((w) => w.id === 'gen1')?.status,
        { timeout: 20_000, interval: 100 },
      )
      .toMatchObject({ state: 'ready', restarts: 1, lastExit: { signal: 'SIGKILL' } });
    const logs = await hh.client.invoke('workers:logs', 'gen1', { search: 'exited' });
    expect(logs.length).toBeGreaterThan(0);
  }, 90_000);

  it('removes a worker under load without losing a request on the others', async () => {
    h = await startTestBackend({ isDemo: true });
    const hh = h;
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0']);
    const gen1 = await hh.client.invoke('workers:add', {
      role: 'generation',
      gpus: [2],
      model: MODEL,
      engine: 'simulated',
    });
    await expect
      .poll(() => readyIds(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0', 'gen0', 'gen1']);
    const { url } = await hh.client.invoke('proxy:info');
    const statuses: number[] = [];
    let isLoading = true;
    const load = async (): Promise<void> => {
      while (isLoading) statuses.push((await complete(url, 'keep going', 16)).status);
    };
    const loaders = [load(), load(), load()];
    await expect.poll(() => statuses.length, { timeout: 10_000, interval: 50 }).toBeGreaterThan(10);
    await hh.client.invoke('workers:remove', 'gen1', { drainTimeoutMs: 5000 });
    const afterRemoval = statuses.length;
    await expect
      .poll(() => statuses.length, { timeout: 10_000, interval: 50 })
      .toBeGreaterThan(afterRemoval + 10);
    isLoading = false;
    await Promise.all(loaders);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await hh.client.invoke('workers:list')).map((w) => w.id).sort()).toEqual([
      'ctx0',
      'gen0',
    ]);
    const topo = await hh.client.invoke('topology:get');
    expect(topo.files['gen1.yaml']).toBeUndefined();
    expect(topo.files['disagg_config.yaml']).not.toContain(`:${gen1.spec?.port}"`);
    expect(topo.files['disagg_config.yaml']).toContain('num_instances: 1');
    expect(isProcessAlive(gen1.status.pid ?? -1)).toBe(false);
  }, 90_000);
});
