// The backend side of issue #12's repros, each against the real backend with simulated workers; each fails
// on the code before the cluster document (no cluster:* channels, a last worker kept in the topology, a
// stale draft applied, a taken GPU given twice, a broken import wiping the draft).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AppError } from '../../../shared/api/envelope';
import type { StaleStateDetails } from '../../../shared/model/cluster-state';
import { complete, MODEL } from '../core/backend/backend-kit';
import { checkInvariants, StateHarness, topologyOnDisk } from './state-kit';

const gen = (gpu: number, id?: string) => ({
  kind: 'addWorker' as const,
  request: {
    role: 'generation' as const,
    gpus: [gpu],
    model: MODEL,
    engine: 'simulated' as const,
    ...(id ? { id } : {}),
  },
});

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('cluster state repros (real backend, demo ctx0 on GPU 0 + gen0 on GPU 1)', () => {
  let s: StateHarness;
  beforeAll(async () => {
    s = await StateHarness.start({ isDemo: true });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('repro 1: a GPU freed by a removal is free in the state at once, and a worker can be added on it', async () => {
    await s.command(gen(2, 'gen1'));
    expect((await s.snapshot()).gpuAssignments['2']).toEqual(['gen1']);
    const removed = await s.command({ kind: 'removeWorker', id: 'gen1' });
    expect(removed.summary).toContain('removed gen1');
    expect((await s.snapshot()).gpuAssignments['2']).toBeUndefined();
    const again = await s.command(gen(2, 'gen1'));
    expect(again.worker?.spec?.gpus).toEqual([2]);
    await checkInvariants(s, { workers: { ctx0: [0], gen0: [1], gen1: [2] }, removed: new Set() });
  }, 60_000);

  it('repro 5: an add built on a version before another window took the GPU is refused naming the holder', async () => {
    const seen = (await s.snapshot()).version;
    await s.command(gen(3, 'gen2'), seen);
    const err = await rejection(s.command(gen(3, 'gen3'), seen));
    expect(err.code).toBe('STALE_STATE');
    expect(err.message).toContain('GPU 3 is now used by gen2');
    expect((err.details as unknown as StaleStateDetails).expectedVersion).toBe(seen);
    expect((await s.snapshot()).gpuAssignments['3']).toEqual(['gen2']);
    // Two windows at once, both on the version they saw: one gets the GPU, the other a clear refusal.
    await s.command({ kind: 'removeWorker', id: 'gen2' });
    const v = (await s.snapshot()).version;
    const both = await Promise.allSettled([
      s.command(gen(3, 'gen2'), v),
      s.command(gen(3, 'gen3'), v),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await s.snapshot()).gpuAssignments['3']).toHaveLength(1);
  }, 60_000);

  it('repro 2: a draft built before a removal is refused on apply, and the removed worker does not come back', async () => {
    const before = await s.snapshot();
    const draftBase = before.topology.appliedVersion;
    await s.command({
      kind: 'saveDraft',
      files: before.topology.files,
      baseTopologyVersion: draftBase,
    });
    await s.command({ kind: 'removeWorker', id: 'gen2' });
    const err = await rejection(
      s.command({
        kind: 'applyConfig',
        files: before.topology.files,
        baseTopologyVersion: draftBase,
      }),
    );
    expect(err.code).toBe('STALE_STATE');
    expect(err.message).toContain('removed since: gen2');
    expect(Object.keys(await topologyOnDisk(s.harness.dataDir))).not.toContain('gen2');
    expect((await s.snapshot()).draft?.files).toEqual(before.topology.files);
    await checkInvariants(s, {
      workers: { ctx0: [0], gen0: [1], gen1: [2] },
      removed: new Set(['gen2']),
    });
  }, 60_000);

  it('repro 8: a broken import keeps the draft and gives the error with its line and column', async () => {
    const draft = (await s.snapshot()).draft;
    const r = await s.command({
      kind: 'importFiles',
      files: { 'disagg_config.yaml': 'hostname: localhost\ncontext_servers:\n  urls: [\n' },
    });
    expect(r.summary).toContain('the draft is kept');
    const issue = r.imported?.issues.find((i) => i.severity === 'error');
    expect(issue).toMatchObject({ file: 'disagg_config.yaml' });
    expect(issue?.line).toBeGreaterThan(1);
    expect((await s.snapshot()).draft?.files).toEqual(draft?.files);
    // The old channel answers the same, and keeps the draft too.
    const old = await s.harness.client.invoke('topology:import', {
      'disagg_config.yaml': 'port: [\n',
    });
    expect(old.issues.some((i) => i.severity === 'error')).toBe(true);
    expect((await s.snapshot()).draft?.files).toEqual(draft?.files);
  }, 30_000);

  it('removes a worker that is still starting, and the old channel says so when the worker does not exist', async () => {
    const added = await s.command(gen(3, 'gen4'));
    expect(added.worker?.status.state).toBe('starting');
    await s.command({ kind: 'removeWorker', id: 'gen4' });
    expect((await s.snapshot()).workers.map((w) => w.id)).not.toContain('gen4');
    expect((await rejection(s.harness.client.invoke('workers:remove', 'gen4'))).code).toBe(
      'WORKER_NOT_FOUND',
    );
  }, 60_000);

  it('repro 4: removing the last generation worker drops it from the topology; the proxy answers 503; a restart keeps it gone', async () => {
    await s.command({ kind: 'removeWorker', id: 'gen1' });
    const r = await s.command({ kind: 'removeWorker', id: 'gen0' });
    expect(r.warnings).toContain(
      'no generation worker in the topology: the proxy answers 503 to every request until one is added',
    );
    expect(await topologyOnDisk(s.harness.dataDir)).toEqual({ ctx0: [0] });
    const answer = await complete(s.harness.backend.proxyUrl);
    expect(answer.status).toBe(503);
    const epoch = (await s.snapshot()).epoch;
    await s.restart();
    const after = await s.snapshot();
    expect(after.epoch).not.toBe(epoch);
    expect(after.workers.map((w) => w.id)).toEqual(['ctx0']);
    await checkInvariants(s, {
      workers: { ctx0: [0] },
      removed: new Set(['gen0', 'gen1', 'gen2']),
    });
    // The draft survived the restart (it lives in the data dir).
    expect(after.draft).not.toBeNull();
  }, 90_000);
});
