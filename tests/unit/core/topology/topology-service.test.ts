import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  type ApplyRequest,
  TopologyService,
} from '../../../../electron/core/topology/topology-service';
import { TopologyStore } from '../../../../electron/core/topology/topology-store';
import type { TopologyAppliedEvent } from '../../../../shared/api/contract';
import { AppError } from '../../../../shared/api/envelope';
import { validTopology, withEdit } from './fixture-topology';

let dataDir: string;
let requests: ApplyRequest[];
let failWith: Error | null;
let events: TopologyAppliedEvent[];
let service: TopologyService;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'topo-svc-'));
  requests = [];
  failWith = null;
  events = [];
  service = new TopologyService({
    store: new TopologyStore({ dataDir }),
    applier: {
      apply: (req) => {
        requests.push(req);
        return failWith ? Promise.reject(failWith) : Promise.resolve();
      },
    },
    isPortFree: () => Promise.resolve(true),
    emit: (e) => events.push(e),
    now: () => 42,
  });
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('TopologyService', () => {
  it('applies a first topology: starts every worker, keeps version 1, emits topology:applied', async () => {
    const result = await service.apply(validTopology());
    expect(result).toEqual({
      version: 1,
      plan: { start: ['ctx0', 'gen0'], restart: [], stop: [], unchanged: [], proxyChanged: true },
      warnings: [],
    });
    expect(events).toEqual([{ version: 1, plan: result.plan, atMs: 42 }]);
    const [req] = requests;
    expect(req?.dir).toBe(join(dataDir, 'topologies', 'default', 'versions', '1'));
    expect(
      req?.specs.map((s) => [
        s.id,
        s.role,
        s.gpus,
        s.port,
        s.optionsFile,
        s.registration.kind,
        s.tpSize,
      ]),
    ).toEqual([
      ['ctx0', 'context', [0], 8001, join(req!.dir, 'ctx.yaml'), 'static', 1],
      ['gen0', 'generation', [1], 8002, join(req!.dir, 'gen.yaml'), 'static', 1],
    ]);
    const view = await service.get();
    expect(view.appliedVersion).toBe(1);
    expect(view.files).toEqual(validTopology());
    expect(view.console?.workers.map((w) => w.name)).toEqual(['ctx0', 'gen0']);
  });

  it('plans a restart for a changed worker on the second apply', async () => {
    await service.apply(validTopology());
    const r = await service.apply(withEdit('gen.yaml', '2048', '4096'));
    expect(r.version).toBe(2);
    expect(r.plan).toEqual({
      start: [],
      restart: ['gen0'],
      stop: [],
      unchanged: ['ctx0'],
      proxyChanged: false,
    });
    expect(requests[1]?.previous?.files).toEqual(validTopology());
  });

  it('refuses an invalid topology with CONFIG_INVALID and every issue, without calling the applier', async () => {
    const err = await failure(
      service.apply(
        withEdit('ctx.yaml', 'disable_overlap_scheduler: true', 'disable_overlap_scheduler: false'),
      ),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(
      'the topology has 1 error; nothing was changed:\nctx.yaml:1:1 disable_overlap_scheduler: context worker ctx0 needs',
    );
    expect(err.details).toMatchObject({
      issues: [{ file: 'ctx.yaml', line: 1, column: 1, severity: 'error' }],
    });
    expect(requests).toEqual([]);
    expect(await service.history()).toEqual([]);
  });

  it('keeps the previous topology when the applier fails, and says why', async () => {
    await service.apply(validTopology());
    failWith = new AppError('PORT_IN_USE', 'port 8003 is taken');
    const err = await failure(service.apply(withEdit('console.yaml', 'gpus: [1]', 'gpus: [2]')));
    expect([err.code, err.message]).toEqual([
      'PORT_IN_USE',
      'apply failed, the previous topology keeps running: port 8003 is taken',
    ]);
    failWith = new Error('supervisor crashed');
    expect(
      (await failure(service.apply(withEdit('console.yaml', 'gpus: [1]', 'gpus: [2]')))).code,
    ).toBe('APPLY_FAILED');
    expect((await service.history()).map((v) => v.version)).toEqual([1]);
    expect((await service.get()).files).toEqual(validTopology());
  });

  it('diffs two versions and rolls back to an earlier one as a new version', async () => {
    await service.apply(validTopology());
    await service.apply(withEdit('gen.yaml', '2048', '4096'));
    const diff = await service.diff(1, 2);
    expect(diff.filter((d) => d.status !== 'unchanged')).toEqual([
      {
        file: 'gen.yaml',
        status: 'changed',
        unified:
          '--- v1/gen.yaml\n+++ v2/gen.yaml\n@@ -1,3 +1,3 @@\n cache_transceiver_config:\n   backend: UCX\n-  max_tokens_in_buffer: 2048\n+  max_tokens_in_buffer: 4096\n',
      },
    ]);
    const r = await service.rollback(1);
    expect(r.version).toBe(3);
    expect(r.plan.restart).toEqual(['gen0']);
    expect((await service.history())[0]).toMatchObject({ version: 3, note: 'rollback to 1' });
    expect((await service.get()).files).toEqual(validTopology());
    expect((await failure(service.rollback(9))).code).toBe('NOT_FOUND');
  });

  it('serialises concurrent applies', async () => {
    const [a, b] = await Promise.all([
      service.apply(validTopology()),
      service.apply(withEdit('gen.yaml', '2048', '4096')),
    ]);
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(b.plan.restart).toEqual(['gen0']);
  });

  it('exports only once there is a topology', async () => {
    expect((await failure(service.export({ format: 'files' }))).code).toBe('NOT_FOUND');
    await service.apply(validTopology());
    expect((await service.export({ format: 'files' })).map((f) => f.name)).toEqual([
      'console.yaml',
      'ctx.yaml',
      'disagg_config.yaml',
      'gen.yaml',
    ]);
  });

  it('validates without changing anything', async () => {
    const report = await service.validate(withEdit('console.yaml', 'gpus: [1]', 'gpus: [0]'));
    expect(report.ok).toBe(true);
    expect(report.issues.map((i) => i.severity)).toEqual(['warning']);
    expect(await service.history()).toEqual([]);
  });
});
