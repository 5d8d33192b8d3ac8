// The renderer store (renderer/store/*) against a fake API: event wiring once in the factory, snapshots,
// idempotent status events, GPU selection and free GPUs, presets, removal, logs merge, config apply flow,
// metrics ticks. Runs under Node: the store has no DOM.
import { describe, expect, it, vi } from 'vitest';

import { createAppStore } from '../../../../renderer/store/create-app-store';
import {
  selectFreeGpus,
  selectLocalWorkers,
  selectRemoteWorkers,
  selectWorkerCounts,
} from '../../../../renderer/store/selectors';
import { mergeLogLines } from '../../../../renderer/store/workers-slice';
import { API_EVENTS } from '../../../../shared/api/contract';
import type { MetricsBucket } from '../../../../shared/model/metrics';
import type { WorkerAddRequest } from '../../../../shared/model/worker-view';
import { AppError, createFakeApi, inventory, status, view } from './fake-api';

const EMPTY_SNAPSHOT = {
  fromMs: 0,
  toMs: 0,
  stepSec: 1,
  overall: [],
  perWorker: {},
  iteration: {},
  gpus: [],
};
const TOPOLOGY_FILES = {
  'disagg_config.yaml':
    'hostname: localhost\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls:\n    - localhost:8001\ngeneration_servers:\n  num_instances: 1\n  urls:\n    - localhost:8002\n',
  'console.yaml':
    '# kept\ncluster_mode: static\nworkers:\n  - name: ctx0\n    role: context\n    gpus: [0]\n    host: localhost\n    port: 8001\n    model: tiny\n    engine: simulated\n    backend: pytorch\n',
};

function setup(extra: Parameters<typeof createFakeApi>[0] = {}) {
  const workers = [
    view('ctx0', 'context', [0]),
    view('gen0', 'generation', [1], 'starting'),
    view('remote1', 'generation', [7], 'ready', 'remote'),
  ];
  const fake = createFakeApi({
    'workers:list': () => Promise.resolve(workers),
    'gpus:list': () => Promise.resolve(inventory(4)),
    'topology:get': () =>
      Promise.resolve({ name: 'default', files: TOPOLOGY_FILES, console: null, appliedVersion: 1 }),
    'metrics:snapshot': () => Promise.resolve(EMPTY_SNAPSHOT),
    'proxy:info': () =>
      Promise.resolve({
        url: 'http://127.0.0.1:8000',
        host: '127.0.0.1',
        port: 8000,
        isRunning: true,
      }),
    'cluster:status': () =>
      Promise.resolve({
        mode: 'static',
        etcd: { state: 'off', endpoint: null, message: null },
        isReady: null,
        remoteWorkers: [],
      }),
    ...extra,
  });
  let now = 1_700_000_000_000;
  const app = createAppStore({ api: fake.client, now: () => now, fetch: null });
  return { fake, app, store: app.store, advance: (ms: number) => (now += ms) };
}

describe('createAppStore', () => {
  it('subscribes once to every event, loads snapshots, and unsubscribes on dispose', async () => {
    const { fake, app, store } = setup();
    await app.start();
    // One listener per event of the contract (the store factory wires each once).
    expect(fake.listenerCount()).toBe(API_EVENTS.length);
    const s = store.getState();
    expect(s.connection).toBe('ok');
    expect(selectLocalWorkers(s).map((w) => w.id)).toEqual(['ctx0', 'gen0']);
    expect(selectRemoteWorkers(s).map((w) => w.id)).toEqual(['remote1']);
    expect(s.drafts).toEqual(TOPOLOGY_FILES);
    expect(s.activeFile).toBe('disagg_config.yaml');
    expect(s.proxy?.url).toBe('http://127.0.0.1:8000');
    app.dispose();
    expect(fake.listenerCount()).toBe(0);
  });

  it('applies status events idempotently and warns once when a worker crashes', async () => {
    const { fake, app, store } = setup();
    await app.start();
    const crashed = {
      ...view('gen0', 'generation', [1]),
      status: {
        ...status('gen0', 'errored'),
        lastExit: { code: 1, signal: null, stderrTail: ['CUDA OOM'], atMs: 5, reason: null },
      },
    };
    fake.emit('workers:statusChanged', crashed);
    fake.emit('workers:statusChanged', crashed);
    expect(store.getState().workers.gen0?.status.state).toBe('errored');
    const errors = store.getState().toasts.filter((t) => t.kind === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.text).toContain('gen0 crashed (exit code 1)');
    expect(selectWorkerCounts(store.getState())).toEqual({
      ready: 1,
      starting: 0,
      failing: 1,
      total: 2,
    });
    app.dispose();
  });

  it('selects GPUs (shift adds for TP) and knows which are free', async () => {
    const { app, store } = setup();
    await app.start();
    const s = store.getState;
    expect(selectFreeGpus(s())).toEqual([2, 3]);
    s().selectGpu(2, false);
    s().selectGpu(3, true);
    expect(s().selectedGpus).toEqual([2, 3]);
    s().selectGpu(2, true);
    expect(s().selectedGpus).toEqual([3]);
    s().selectGpu(3, false);
    expect(s().selectedGpus).toEqual([]);
    app.dispose();
  });

  it('runs a preset on free GPUs with generated names, and refuses when GPUs are short', async () => {
    const added: WorkerAddRequest[] = [];
    const { app, store } = setup({
      'workers:add': (req) => {
        added.push(req);
        return Promise.resolve(view(req.id ?? 'x', req.role, req.gpus, 'starting'));
      },
    });
    await app.start();
    await store.getState().runPreset('1+1', 'tiny', 'simulated');
    expect(added.map((r) => [r.id, r.role, r.gpus])).toEqual([
      ['ctx1', 'context', [2]],
      ['gen1', 'generation', [3]],
    ]);
    await store.getState().runPreset('2+1', 'tiny', 'simulated');
    expect(added).toHaveLength(2);
    expect(store.getState().toasts.at(-1)?.text).toMatch(/needs more free GPUs/);
    app.dispose();
  });

  it('pre-flights an add against the topology with the worker written into console.yaml', async () => {
    let validated: Record<string, string> = {};
    const { app, store } = setup({
      'topology:validate': (files) => {
        validated = files;
        const placeholder = {
          file: 'console.yaml',
          line: 20,
          column: 5,
          path: 'workers[1].port',
          message: 'port 8002 is already in use by another process',
          severity: 'error' as const,
        };
        return Promise.resolve({ ok: false, issues: [placeholder] });
      },
    });
    await app.start();
    const report = await store
      .getState()
      .preflightWorker({ role: 'generation', gpus: [2], model: 'tiny', engine: 'simulated' });
    expect(report).toEqual({ ok: true, issues: [] });
    expect(validated['console.yaml']).toContain('# kept');
    expect(validated['console.yaml']).toContain('name: gen1');
    expect(validated['console.yaml']).toContain('options_file: gen1.yaml');
    expect(validated['gen1.yaml']).toContain('cache_transceiver_config');
    // Static membership: the new worker is listed in the proxy's urls too.
    expect(validated['disagg_config.yaml']).toContain(
      'generation_servers:\n  num_instances: 2\n  urls:\n    - localhost:8002\n    - localhost:8002\n',
    );
    // A blank port is picked by the backend: the placeholder's port problem is dropped (report above is ok).
    app.dispose();
  });

  it('removes a worker for good (late status events do not bring it back) and reports failures by code', async () => {
    const { fake, app, store } = setup({
      'workers:remove': (id) =>
        id === 'ctx0'
          ? Promise.resolve()
          : Promise.reject(new AppError('WORKER_NOT_FOUND', `no worker '${id}'`)),
    });
    await app.start();
    expect(await store.getState().removeWorker('ctx0')).toBe(true);
    fake.emit('workers:statusChanged', {
      ...view('ctx0', 'context', [0]),
      status: status('ctx0', 'stopped'),
    });
    expect(store.getState().workers.ctx0).toBeUndefined();
    expect(await store.getState().removeWorker('nope')).toBe(false);
    expect(store.getState().toasts.at(-1)?.text).toContain("no worker 'nope'");
    app.dispose();
  });

  it('keeps live log lines only for opened workers and merges by seq', async () => {
    const line = (seq: number) => ({ seq, atMs: seq, stream: 'stdout' as const, text: `l${seq}` });
    const { fake, app, store } = setup({
      'workers:logs': () => Promise.resolve([line(1), line(2)]),
    });
    await app.start();
    fake.emit('logs:appended', { workerId: 'ctx0', lines: [line(3)] });
    expect(store.getState().logs.ctx0).toBeUndefined();
    await store.getState().loadLogs('ctx0');
    fake.emit('logs:appended', { workerId: 'ctx0', lines: [line(2), line(3)] });
    expect(store.getState().logs.ctx0?.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(mergeLogLines([line(1), line(3)], [line(2)]).map((l) => l.seq)).toEqual([1, 2, 3]);
    app.dispose();
  });

  it('previews the apply plan, applies, and keeps CONFIG_INVALID issues for the editor', async () => {
    let shouldFail = true;
    const { app, store } = setup({
      'topology:validate': () => Promise.resolve({ ok: true, issues: [] }),
      'topology:apply': () =>
        shouldFail
          ? Promise.reject(
              new AppError('CONFIG_INVALID', 'pre-flight failed', {
                issues: [
                  {
                    file: 'disagg_config.yaml',
                    line: 2,
                    column: 7,
                    path: 'port',
                    message: 'must be an integer',
                    severity: 'error',
                  },
                ],
              }),
            )
          : Promise.resolve({
              version: 2,
              plan: {
                start: ['gen0'],
                restart: [],
                stop: [],
                unchanged: ['ctx0'],
                proxyChanged: true,
              },
              warnings: [],
            }),
      'topology:history': () => Promise.resolve([]),
    });
    await app.start();
    const s = store.getState;
    const more =
      TOPOLOGY_FILES['console.yaml'] +
      '  - name: gen0\n    role: generation\n    gpus: [1]\n    host: localhost\n    port: 8002\n    model: tiny\n    engine: simulated\n    backend: pytorch\n';
    s().setDraft('console.yaml', more);
    await s().requestApply();
    expect(s().pendingPlan).toEqual({
      start: ['gen0'],
      restart: [],
      stop: [],
      unchanged: ['ctx0'],
      proxyChanged: false,
    });
    expect(await s().confirmApply()).toBe(false);
    expect(s().applyError?.issues[0]?.path).toBe('port');
    shouldFail = false;
    expect(await s().confirmApply()).toBe(true);
    expect(s().lastApply?.version).toBe(2);
    app.dispose();
  });

  it('appends metrics ticks to bounded series and bumps the version', async () => {
    const { fake, app, store } = setup();
    await app.start();
    const v0 = store.getState().metricsVersion;
    const lat = { count: 1, p50: 10, p90: 10, p99: 10 };
    const b = (atMs: number): MetricsBucket => ({
      atMs,
      requests: 1,
      errors: {},
      promptTokens: 1,
      completionTokens: 1,
      ttftMs: lat,
      tpotMs: lat,
      itlMs: lat,
      e2eMs: lat,
      proxyAddedMs: lat,
    });
    fake.emit('metrics:tick', { overall: b(1000), perWorker: { ctx0: b(1000) } });
    fake.emit('metrics:tick', { overall: b(2000), perWorker: {} });
    expect(store.getState().series.overall.size).toBe(2);
    expect(store.getState().series.perWorker.get('ctx0')?.size).toBe(1);
    expect(store.getState().metricsVersion).toBe(v0 + 2);
    app.dispose();
  });

  it('says the backend is offline when the first load fails', async () => {
    const { app, store } = setup({
      'workers:list': () =>
        Promise.reject(new AppError('UNAUTHORIZED', 'the console rejected the token')),
    });
    await app.start();
    expect(store.getState().connection).toBe('error');
    expect(store.getState().connectionError).toMatch(/rejected the token.*\?token=/);
    app.dispose();
  });

  it('loads settings when opened, saves a patch and keeps a refusal as an error', async () => {
    const base = {
      trtllmServePath: null,
      defaultEngine: 'simulated' as const,
      simulatedGpuCount: 4,
      simulatedGpuModel: 'H100',
      readyTimeoutMs: 60_000,
      clusterMode: 'static' as const,
      etcdEndpoint: null,
      proxyPort: 8000,
      confirmedExecutables: [],
    };
    const { app, store } = setup({
      'settings:get': () => Promise.resolve(base),
      'settings:set': (patch) =>
        patch.proxyPort === 1
          ? Promise.reject(new AppError('PORT_IN_USE', 'port 1 is taken'))
          : Promise.resolve({ ...base, ...patch }),
    });
    await app.start();
    const s = store.getState;
    s().openSettings(true);
    await vi.waitFor(() => expect(s().settings?.simulatedGpuCount).toBe(4));
    expect(await s().saveSettings({ simulatedGpuCount: 8 })).toBe(true);
    expect(s().settings?.simulatedGpuCount).toBe(8);
    expect(await s().saveSettings({ proxyPort: 1 })).toBe(false);
    expect(s().settingsError).toMatch(/port 1 is taken. Pick another port/);
    app.dispose();
  });

  it('keeps what to confirm when a new trtllm-serve executable needs confirmation, and clears it once saved', async () => {
    const details = { kind: 'executable' as const, path: '/opt/x/trtllm-serve', realPath: '/opt/x/real', sha256: 'ab'.repeat(32), sizeBytes: 10 };
    const sent: unknown[] = [];
    const { app, store } = setup({
      'settings:set': (patch) => {
        sent.push(patch);
        return patch.confirmExecutable === true
          ? Promise.resolve({ trtllmServePath: details.path, defaultEngine: 'simulated', simulatedGpuCount: 4, simulatedGpuModel: 'H100', readyTimeoutMs: 60_000, clusterMode: 'static', etcdEndpoint: null, proxyPort: 8000, confirmedExecutables: [{ ...details, confirmedAtMs: 1 }] })
          : Promise.reject(new AppError('CONFIRMATION_REQUIRED', 'confirm it', details));
      },
    });
    await app.start();
    const s = store.getState;
    expect(await s().saveSettings({ trtllmServePath: details.path })).toBe(false);
    expect(s().settingsConfirmation).toEqual(details);
    expect(s().settingsError).toBeNull();
    expect(await s().saveSettings({ trtllmServePath: details.path, confirmExecutable: true })).toBe(true);
    expect(s().settingsConfirmation).toBeNull();
    expect(sent).toEqual([{ trtllmServePath: details.path }, { trtllmServePath: details.path, confirmExecutable: true }]);
    app.dispose();
  });
});
