// The renderer store (renderer/store/*) against a fake API with a fake cluster document: event wiring once in
// the factory, snapshots, worker changes through the mirror, GPU selection and free GPUs, presets, removal,
// logs merge, config apply flow, metrics ticks. Runs under Node: the store has no DOM.
import { describe, expect, it, vi } from 'vitest';

import {
  selectDraftFiles,
  selectFreeGpus,
  selectLocalWorkers,
  selectRemoteWorkers,
  selectTopology,
  selectWorker,
  selectWorkerCounts,
} from '../../../../renderer/store/selectors';
import { mergeLogLines } from '../../../../renderer/store/workers-slice';
import { API_EVENTS } from '../../../../shared/api/contract';
import type { MetricsBucket } from '../../../../shared/model/metrics';
import type { WorkerAddRequest } from '../../../../shared/model/worker-view';
import { AppError, status, view } from './fake-api';
import { setup, TOPOLOGY_FILES } from './store-setup';

describe('createAppStore', () => {
  it('subscribes once to every event, loads snapshots, and unsubscribes on dispose', async () => {
    const { fake, app, store } = setup();
    await app.start();
    // One listener per event of the contract (the store factory wires each once); worker status comes
    // with the cluster mirror's events, so workers:statusChanged has no listener of its own.
    expect(fake.listenerCount()).toBe(
      API_EVENTS.filter((e) => e !== 'workers:statusChanged').length,
    );
    const s = store.getState();
    expect(s.connection).toBe('ok');
    expect(selectLocalWorkers(s).map((w) => w.id)).toEqual(['ctx0', 'gen0']);
    expect(selectRemoteWorkers(s).map((w) => w.id)).toEqual(['remote1']);
    expect(selectDraftFiles(s)).toEqual(TOPOLOGY_FILES);
    expect(s.proxy?.url).toBe('http://127.0.0.1:8000');
    app.dispose();
    expect(fake.listenerCount()).toBe(0);
  });

  it('applies worker changes from the mirror once and warns once when a worker crashes', async () => {
    const { fake, cluster, app, store } = setup();
    await app.start();
    const crashed = {
      ...view('gen0', 'generation', [1]),
      status: {
        ...status('gen0', 'errored'),
        lastExit: { code: 1, signal: null, stderrTail: ['CUDA OOM'], atMs: 5, reason: null },
      },
    };
    cluster.publish([{ kind: 'worker', id: 'gen0', worker: crashed }]);
    // The same event delivered twice (a reconnect replay) is ignored by version.
    fake.emit('cluster:changed', {
      epoch: 'e1',
      version: cluster.state.version,
      changes: [{ kind: 'worker', id: 'gen0', worker: crashed }],
    });
    expect(selectWorker(store.getState(), 'gen0')?.status.state).toBe('errored');
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
    const { cluster, app, store } = setup();
    await app.start();
    await store.getState().runPreset('1+1', 'tiny', 'simulated');
    const added = cluster.commands.flatMap((c): WorkerAddRequest[] =>
      c.command.kind === 'addWorker' ? [c.command.request] : [],
    );
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

  it('removes a worker, frees its GPU for the next add without a reload, and reports failures by code', async () => {
    const { app, store } = setup();
    await app.start();
    expect(await store.getState().removeWorker('ctx0')).toBe(true);
    expect(selectWorker(store.getState(), 'ctx0')).toBeUndefined();
    expect(selectFreeGpus(store.getState())).toEqual([0, 2, 3]);
    // Repro 1: the freed GPU and the freed name are usable at once.
    const outcome = await store
      .getState()
      .addWorker({ id: 'ctx0', role: 'context', gpus: [0], model: 'tiny', engine: 'simulated' });
    expect(outcome.ok).toBe(true);
    expect(selectWorker(store.getState(), 'ctx0')?.status.state).toBe('starting');
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
    const { cluster, app, store } = setup({
      'topology:validate': () => Promise.resolve({ ok: true, issues: [] }),
    });
    cluster.refuseWhen((request) =>
      shouldFail && request.command.kind === 'applyConfig'
        ? new AppError('CONFIG_INVALID', 'pre-flight failed', {
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
          })
        : null,
    );
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
    expect(selectTopology(s())?.files['console.yaml']).toBe(more);
    // The draft was saved to the backend before the apply, and the apply consumed it.
    expect(cluster.commands.map((c) => c.command.kind)).toEqual([
      'saveDraft',
      'applyConfig',
      'applyConfig',
    ]);
    expect(s().cluster?.draft).toBeNull();
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
    expect(store.getState().series.overall.length).toBe(2);
    expect(store.getState().series.perWorker.get('ctx0')?.length).toBe(1);
    expect(store.getState().metricsVersion).toBe(v0 + 2);
    app.dispose();
  });

  it('says the backend is offline when the first load fails', async () => {
    const { app, store } = setup({
      'cluster:snapshot': () =>
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
    const details = {
      kind: 'executable' as const,
      path: '/opt/x/trtllm-serve',
      realPath: '/opt/x/real',
      sha256: 'ab'.repeat(32),
      sizeBytes: 10,
    };
    const sent: unknown[] = [];
    const { app, store } = setup({
      'settings:set': (patch) => {
        sent.push(patch);
        return patch.confirmExecutable === true
          ? Promise.resolve({
              trtllmServePath: details.path,
              defaultEngine: 'simulated',
              simulatedGpuCount: 4,
              simulatedGpuModel: 'H100',
              readyTimeoutMs: 60_000,
              clusterMode: 'static',
              etcdEndpoint: null,
              proxyPort: 8000,
              confirmedExecutables: [{ ...details, confirmedAtMs: 1 }],
            })
          : Promise.reject(new AppError('CONFIRMATION_REQUIRED', 'confirm it', details));
      },
    });
    await app.start();
    const s = store.getState;
    expect(await s().saveSettings({ trtllmServePath: details.path })).toBe(false);
    expect(s().settingsConfirmation).toEqual(details);
    expect(s().settingsError).toBeNull();
    expect(await s().saveSettings({ trtllmServePath: details.path, confirmExecutable: true })).toBe(
      true,
    );
    expect(s().settingsConfirmation).toBeNull();
    expect(sent).toEqual([
      { trtllmServePath: details.path },
      { trtllmServePath: details.path, confirmExecutable: true },
    ]);
    app.dispose();
  });
});
