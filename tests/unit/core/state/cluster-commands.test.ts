import { describe, expect, it } from 'vitest';

import { ClusterCommandExecutor } from '../../../../electron/core/state/cluster-commands';
import type { ClusterOps } from '../../../../electron/core/state/cluster-ops';
import { ClusterStateService } from '../../../../electron/core/state/cluster-state-service';
import { AppError } from '../../../../shared/api/envelope';
import { stepMirror } from '../../../../shared/logic/cluster-mirror';
import type {
  ClusterChangedEvent,
  ClusterState,
  ConfigDraft,
  StaleStateDetails,
} from '../../../../shared/model/cluster-state';
import type { ConsoleTopology, TopologyWorker } from '../../../../shared/model/topology';

/** A fake cluster behind the ops port: a topology with versions, no processes. */
function world() {
  const versions = new Map<number, TopologyWorker[]>();
  let workers: TopologyWorker[] = [];
  let applied: number | null = null;
  let draft: ConfigDraft | null = null;
  const events: ClusterChangedEvent[] = [];
  const release: (() => void)[] = [];
  let isAddBlocked = false;
  const consoleOf = (ws: TopologyWorker[]): ConsoleTopology => ({
    clusterMode: 'static',
    expectedMaxInputTokens: null,
    workers: ws,
  });
  const parts = () => ({
    topology: { name: 'default', files: {}, console: consoleOf(workers), appliedVersion: applied },
    workers: [],
    draft,
    pending: [],
    proxyPort: 8000,
  });
  const state = new ClusterStateService({
    epoch: 'e1',
    initial: parts(),
    publish: (e) => events.push(e),
  });
  const commit = (next: TopologyWorker[]) => {
    workers = next;
    applied = (applied ?? 0) + 1;
    versions.set(applied, next);
    return {
      version: applied,
      plan: { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false },
      warnings: [],
    };
  };
  const ops: ClusterOps = {
    refresh: () => Promise.resolve(void state.update(parts())),
    async addWorker(req) {
      if (isAddBlocked) await new Promise<void>((r) => release.push(r));
      const name = req.id ?? `gen${workers.length}`;
      commit([
        ...workers,
        {
          name,
          role: req.role,
          gpus: req.gpus,
          host: '127.0.0.1',
          port: 9000 + workers.length,
          model: 'm',
          engine: 'simulated',
          backend: 'pytorch',
          tpSize: 1,
          ppSize: 1,
          optionsFile: null,
          env: {},
        },
      ]);
      return { summary: `added ${name}`, warnings: [] };
    },
    removeWorker(id) {
      commit(workers.filter((w) => w.name !== id));
      return Promise.resolve({ summary: `removed ${id}`, warnings: [] });
    },
    drainWorker: () => Promise.reject(new Error('not used')),
    undrainWorker: () => Promise.reject(new Error('not used')),
    restartWorker: () => Promise.reject(new Error('not used')),
    stopWorker: () => Promise.reject(new Error('not used')),
    apply: (files) =>
      'boom' in files
        ? Promise.reject(new AppError('APPLY_FAILED', 'boom'))
        : Promise.resolve(commit(workers)),
    rollback: () => Promise.resolve(commit(workers)),
    validate: () => Promise.resolve([]),
    importFiles: (files) => ({
      files: 'bad.yaml' in files ? {} : files,
      format: 'files',
      issues:
        'bad.yaml' in files
          ? [
              {
                file: 'bad.yaml',
                line: 2,
                column: 5,
                path: '',
                message: 'bad indentation',
                severity: 'error',
              },
            ]
          : [],
    }),
    setDraft: (d) => Promise.resolve(void state.update({ draft: (draft = d) })),
    consoleAt: (v) => Promise.resolve(versions.has(v) ? consoleOf(versions.get(v) ?? []) : null),
  };
  const executor = new ClusterCommandExecutor({ state, ops, now: () => 42 });
  return {
    state,
    executor,
    events,
    blockAdds: () => (isAddBlocked = true),
    release: () => release.splice(0).forEach((r) => r()),
  };
}

const addOn = (gpu: number, id?: string) => ({
  kind: 'addWorker' as const,
  request: {
    role: 'generation' as const,
    gpus: [gpu],
    model: 'm',
    engine: 'simulated' as const,
    ...(id ? { id } : {}),
  },
});

async function staleOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('STALE_STATE');
  return err as AppError;
}

describe('ClusterCommandExecutor', () => {
  it('runs commands from two windows one at a time: the second, built on the same version, is refused naming the GPU', async () => {
    const w = world();
    const v = w.state.version;
    const [a, b] = await Promise.allSettled([
      w.executor.run({ command: addOn(1, 'gen0'), expectedVersion: v }),
      w.executor.run({ command: addOn(1, 'gen1'), expectedVersion: v }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    const err = (b as PromiseRejectedResult).reason as AppError;
    expect(err.code).toBe('STALE_STATE');
    expect(err.message).toContain('GPU 1 is now used by gen0');
    expect((err.details as unknown as StaleStateDetails).changed).toEqual([
      'GPU 1 is now used by gen0',
    ]);
  });

  it('rebases a stale command whose facts still hold, and says so', async () => {
    const w = world();
    const v = w.state.version;
    await w.executor.run({ command: addOn(1, 'gen0'), expectedVersion: v });
    const r = await w.executor.run({ command: addOn(2, 'gen1'), expectedVersion: v });
    expect(r.rebased).toBe(true);
    expect(r.version).toBe(w.state.version);
    const fresh = await w.executor.run({
      command: addOn(3, 'gen2'),
      expectedVersion: w.state.version,
    });
    expect(fresh.rebased).toBe(false);
  });

  it('refuses a fresh command whose facts do not hold with the plain error code', async () => {
    const w = world();
    await w.executor.run({ command: addOn(1, 'gen0'), expectedVersion: w.state.version });
    const err: unknown = await w.executor
      .run({ command: addOn(1), expectedVersion: w.state.version })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AppError);
    expect([(err as AppError).code, (err as AppError).message]).toEqual([
      'CONFIG_INVALID',
      'GPU 1 is used by gen0',
    ]);
  });

  it('refuses a draft built on an older topology, naming the workers removed since (repro 2)', async () => {
    const w = world();
    await w.executor.run({ command: addOn(1, 'gen0'), expectedVersion: w.state.version });
    await w.executor.run({ command: addOn(2, 'gen1'), expectedVersion: w.state.version });
    const base = w.state.snapshot().topology.appliedVersion;
    await w.executor.run({
      command: { kind: 'removeWorker', id: 'gen1' },
      expectedVersion: w.state.version,
    });
    const err = await staleOf(
      w.executor.run({
        command: { kind: 'applyConfig', files: {}, baseTopologyVersion: base },
        expectedVersion: w.state.version,
      }),
    );
    expect(err.message).toContain('removed since: gen1');
    expect(err.message).toContain(`topology version ${base} -> ${(base ?? 0) + 1}`);
    await staleOf(
      w.executor.run({
        command: { kind: 'saveDraft', files: {}, baseTopologyVersion: base },
        expectedVersion: w.state.version,
      }),
    );
  });

  it('keeps the draft when an import is broken, with the issue at its line and column (repro 8)', async () => {
    const w = world();
    await w.executor.run({
      command: { kind: 'saveDraft', files: { 'a.yaml': 'x: 1\n' }, baseTopologyVersion: null },
      expectedVersion: w.state.version,
    });
    const r = await w.executor.run({
      command: { kind: 'importFiles', files: { 'bad.yaml': 'a:\n b: [\n' } },
      expectedVersion: w.state.version,
    });
    expect(r.summary).toContain('the draft is kept');
    expect(r.imported?.issues[0]).toMatchObject({ file: 'bad.yaml', line: 2, column: 5 });
    expect(w.state.snapshot().draft).toMatchObject({
      files: { 'a.yaml': 'x: 1\n' },
      issues: [{ line: 2, column: 5 }],
    });
    await w.executor.run({
      command: { kind: 'importFiles', files: { 'b.yaml': 'y: 2\n' } },
      expectedVersion: w.state.version,
    });
    expect(w.state.snapshot().draft?.files).toEqual({ 'b.yaml': 'y: 2\n' });
  });

  it('shows the command as pending while it runs and clears it after, also when it fails', async () => {
    const w = world();
    w.blockAdds();
    const running = w.executor.run({ command: addOn(1, 'gen0'), expectedVersion: w.state.version });
    await expect
      .poll(() => w.state.snapshot().pending.map((p) => p.summary))
      .toEqual(['add generation worker gen0 on GPU 1']);
    w.release();
    await running;
    expect(w.state.snapshot().pending).toEqual([]);
    const base = w.state.snapshot().topology.appliedVersion;
    await expect(
      w.executor.run({
        command: { kind: 'applyConfig', files: { boom: '' }, baseTopologyVersion: base },
        expectedVersion: w.state.version,
      }),
    ).rejects.toThrow('boom');
    expect(w.state.snapshot().pending).toEqual([]);
  });

  it('publishes one event per version, and a mirror fed by them equals the snapshot', async () => {
    const w = world();
    let mirror: ClusterState = w.state.snapshot();
    await w.executor.run({ command: addOn(1, 'gen0'), expectedVersion: w.state.version });
    await w.executor.run({
      command: { kind: 'removeWorker', id: 'gen0' },
      expectedVersion: w.state.version,
    });
    expect(w.events.map((e) => e.version)).toEqual(w.events.map((_, i) => i + 1));
    for (const e of w.events) {
      const step = stepMirror(mirror, e);
      if (step.kind !== 'applied') throw new Error(`mirror step ${step.kind}`);
      mirror = step.state;
    }
    expect(mirror).toEqual(w.state.snapshot());
  });
});
