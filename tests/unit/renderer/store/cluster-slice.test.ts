// The cluster mirror (renderer/store/cluster-slice.ts) and the actions built on it, against the fake cluster
// document: ordered events, re-sync on a gap or a new backend epoch, events that race the snapshot, stale
// commands refused with what changed (and the caller's input kept), the backend's draft (repro 2 and 8),
// and liveness (disconnected on a missed heartbeat, re-sync when back).
import { afterEach, describe, expect, it, vi } from 'vitest';

import { commandErrorText } from '../../../../renderer/store/cluster-slice';
import { HEARTBEAT_MS, HEARTBEAT_TIMEOUT_MS } from '../../../../renderer/store/create-app-store';
import {
  selectDraftFiles,
  selectFreeGpus,
  selectWorker,
} from '../../../../renderer/store/selectors';
import { AppError, view } from './fake-api';
import { setup } from './store-setup';

afterEach(() => {
  vi.useRealTimers();
});

describe('cluster mirror', () => {
  it('applies the next event, ignores replays, and re-syncs after a gap', async () => {
    const { cluster, app, store } = setup();
    await app.start();
    const s = store.getState;
    expect(s().cluster).toEqual(cluster.state);
    expect(s().clusterSyncs).toBe(1);
    cluster.publish([{ kind: 'proxyPort', proxyPort: 8100 }]);
    expect(s().cluster?.proxyPort).toBe(8100);
    cluster.dropNextEvent();
    cluster.publish([{ kind: 'worker', id: 'gen0', worker: null }]);
    expect(selectWorker(s(), 'gen0')).toBeDefined(); // the lost event: the mirror has not seen it
    cluster.publish([{ kind: 'proxyPort', proxyPort: 8200 }]);
    await vi.waitFor(() => expect(s().clusterSyncs).toBe(2));
    expect(s().lastResyncReason).toMatch(/missed versions/);
    expect(s().cluster).toEqual(cluster.state);
    expect(selectWorker(s(), 'gen0')).toBeUndefined();
    app.dispose();
  });

  it('re-syncs when the backend restarted (another epoch), even at a lower version', async () => {
    const { cluster, app, store } = setup();
    await app.start();
    cluster.publish([{ kind: 'proxyPort', proxyPort: 8100 }]);
    cluster.restart('e2');
    cluster.publish([{ kind: 'proxyPort', proxyPort: 8300 }]);
    await vi.waitFor(() => expect(store.getState().cluster?.epoch).toBe('e2'));
    expect(store.getState().cluster).toEqual(cluster.state);
    expect(store.getState().lastResyncReason).toMatch(/backend restarted/);
    app.dispose();
  });

  it('applies events that arrive while the snapshot is on its way on top of it', async () => {
    const { cluster, app, store } = setup();
    const release = cluster.holdSnapshots();
    const started = app.start();
    await vi.waitFor(() => expect(cluster.snapshotsTaken).toBe(1));
    // The snapshot holds version 1; these two events reach the page before it does.
    cluster.publish([{ kind: 'proxyPort', proxyPort: 8101 }]);
    cluster.publish([{ kind: 'worker', id: 'gen0', worker: null }]);
    release();
    await started;
    expect(store.getState().cluster).toEqual(cluster.state);
    expect(store.getState().clusterSyncs).toBe(1);
    app.dispose();
  });
});

describe('commands on the mirror', () => {
  it('sends the mirror version; a stale add is refused with what changed and nothing is placed', async () => {
    const { cluster, app, store } = setup();
    await app.start();
    const s = store.getState;
    const seen = s().cluster!.version;
    // Another window takes GPU 2 after this one looked (repro 5).
    const other = view('gen7', 'generation', [2], 'starting');
    cluster.publish([
      { kind: 'worker', id: 'gen7', worker: other },
      {
        kind: 'gpuAssignments',
        gpuAssignments: { ...cluster.state.gpuAssignments, '2': ['gen7'] },
      },
    ]);
    expect(selectFreeGpus(s())).toEqual([3]);
    const outcome = await s().addWorker(
      { id: 'gen1', role: 'generation', gpus: [2], model: 'tiny', engine: 'simulated' },
      seen,
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.code).toBe('STALE_STATE');
    expect(outcome.stale?.changed).toEqual(['GPU 2 is now used by gen7']);
    expect(outcome.message).toMatch(/changed since you looked \(GPU 2 is now used by gen7\)/);
    expect(cluster.commands.at(-1)?.expectedVersion).toBe(seen);
    expect(cluster.state.gpuAssignments['2']).toEqual(['gen7']);
    app.dispose();
  });

  it('says what a STALE_STATE error names, and falls back to the plain message otherwise', () => {
    const stale = new AppError('STALE_STATE', 'stale', {
      expectedVersion: 3,
      currentVersion: 5,
      changed: ['topology version 1 -> 2'],
    });
    expect(commandErrorText(stale)).toBe(
      'Not done: the cluster changed since you looked (topology version 1 -> 2). Check the form against the current state and try again.',
    );
    expect(commandErrorText(new AppError('WORKER_NOT_FOUND', "no worker 'x'"))).toMatch(
      /^no worker 'x'/,
    );
  });

  it('refuses to apply a draft started before the topology moved on (repro 2), and keeps the draft', async () => {
    const { cluster, app, store } = setup({
      'topology:validate': () => Promise.resolve({ ok: true, issues: [] }),
    });
    await app.start();
    const s = store.getState;
    const edited = selectDraftFiles(s())['console.yaml'] + '# edited\n';
    s().setDraft('console.yaml', edited);
    expect(await s().flushDraft()).toBe(true);
    expect(s().cluster?.draft?.baseTopologyVersion).toBe(1);
    // The cluster view removes a worker: the applied topology becomes version 2.
    cluster.publish([
      { kind: 'topology', topology: { ...cluster.state.topology, appliedVersion: 2 } },
    ]);
    expect(await s().confirmApply()).toBe(false);
    expect(s().applyError?.message).toMatch(/topology version 1 -> 2/);
    expect(s().cluster?.draft?.files['console.yaml']).toBe(edited);
    expect(s().cluster?.topology.appliedVersion).toBe(2);
    app.dispose();
  });

  it('keeps the draft when an import does not parse and shows the error at line and column (repro 8)', async () => {
    const { app, store } = setup();
    await app.start();
    const s = store.getState;
    s().setDraft('console.yaml', 'cluster_mode: static\nworkers: []\n# mine\n');
    await s().flushDraft();
    const draft = s().cluster?.draft;
    await s().importFiles({ 'disagg_config.yaml': 'hostname: localhost\nurls: [a, b\n' });
    expect(s().importError?.issues[0]).toMatchObject({
      file: 'disagg_config.yaml',
      line: 2,
      column: 7,
    });
    expect(s().cluster?.draft).toEqual(draft);
    expect(selectDraftFiles(s())['console.yaml']).toContain('# mine');
    await s().importFiles({ 'disagg_config.yaml': 'hostname: localhost\n' });
    expect(s().importError).toBeNull();
    expect(selectDraftFiles(s())).toEqual({ 'disagg_config.yaml': 'hostname: localhost\n' });
    app.dispose();
  });

  it('saves typed edits after a pause and shows the backend draft once it holds them', async () => {
    vi.useFakeTimers();
    const { cluster, app, store } = setup();
    await app.start();
    const s = store.getState;
    s().setDraft('console.yaml', 'a: 1\n');
    s().setDraft('console.yaml', 'a: 2\n');
    expect(cluster.commands).toHaveLength(0);
    expect(selectDraftFiles(s())['console.yaml']).toBe('a: 2\n');
    await vi.advanceTimersByTimeAsync(600);
    expect(cluster.commands.map((c) => c.command.kind)).toEqual(['saveDraft']);
    expect(s().draftEdits).toBeNull();
    expect(s().cluster?.draft?.files['console.yaml']).toBe('a: 2\n');
    await s().revertDrafts();
    expect(s().cluster?.draft).toBeNull();
    expect(selectDraftFiles(s())).toEqual(cluster.state.topology.files);
    app.dispose();
  });
});

describe('liveness', () => {
  it('says disconnected when a heartbeat fails, and re-syncs by itself when the backend is back', async () => {
    vi.useFakeTimers();
    let isUp = true;
    const { cluster, app, store } = setup({
      'proxy:info': () =>
        isUp
          ? Promise.resolve({
              url: 'http://127.0.0.1:8000',
              host: '127.0.0.1',
              port: 8000,
              isRunning: true,
            })
          : Promise.reject(new AppError('INTERNAL', 'cannot reach the console')),
    });
    await app.start();
    const s = store.getState;
    isUp = false;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + 10);
    expect(s().connection).toBe('lost');
    expect(s().connectionError).toMatch(/cannot reach the console/);
    // The backend restarts (another epoch) with a change this page never saw.
    cluster.restart('e2');
    cluster.dropNextEvent();
    cluster.publish([{ kind: 'worker', id: 'gen0', worker: null }]);
    isUp = true;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + 10);
    expect(s().connection).toBe('ok');
    expect(s().cluster).toEqual(cluster.state);
    expect(selectWorker(s(), 'gen0')).toBeUndefined();
    app.dispose();
  });

  it('counts a heartbeat that hangs past its timeout as lost', async () => {
    vi.useFakeTimers();
    let hang = false;
    const { app, store } = setup({
      'proxy:info': () =>
        hang
          ? new Promise(() => undefined)
          : Promise.resolve({
              url: 'http://127.0.0.1:8000',
              host: '127.0.0.1',
              port: 8000,
              isRunning: true,
            }),
    });
    await app.start();
    hang = true;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS - 10);
    expect(store.getState().connection).toBe('ok');
    await vi.advanceTimersByTimeAsync(20);
    expect(store.getState().connection).toBe('lost');
    expect(store.getState().connectionError).toMatch(/did not answer within/);
    app.dispose();
  });
});
