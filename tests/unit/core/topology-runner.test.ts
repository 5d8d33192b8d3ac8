// The topology runner against a fake supervisor: order of steps, and undo on failure (new workers removed,
// changed workers brought back with their old spec and state), stops last through safe removal.
import { describe, expect, it } from 'vitest';

import type { WorkerSupervisor } from '../../../electron/core/supervisor/worker-supervisor';
import type { ApplyRequest } from '../../../electron/core/topology/topology-service';
import { createTopologyRunner } from '../../../electron/core/topology-runner';
import { AppError } from '../../../shared/api/envelope';
import { stoppedStatus } from '../../../shared/logic/worker-state';
import type { ApplyPlan } from '../../../shared/model/topology';
import type { WorkerSpec, WorkerState, WorkerStatus } from '../../../shared/model/worker';
import { workerSpec } from '../../helpers/worker-spec';

function spec(id: string, model = 'm'): WorkerSpec {
  return workerSpec({ id, role: 'generation', port: 1, model, engine: 'simulated' });
}

function fakeSupervisor(failing: Set<string>): {
  sup: WorkerSupervisor;
  log: string[];
  specs: Map<string, WorkerSpec>;
  states: Map<string, WorkerState>;
} {
  const specs = new Map<string, WorkerSpec>();
  const states = new Map<string, WorkerState>();
  const log: string[] = [];
  const status = (id: string): WorkerStatus => ({
    ...stoppedStatus(id),
    state: states.get(id) ?? 'stopped',
    message: failing.has(`${id}:${specs.get(id)?.model}`) ? 'not found' : null,
  });
  const sup = {
    add(s: WorkerSpec) {
      log.push(`add ${s.id}:${s.model}`);
      specs.set(s.id, s);
      states.set(s.id, 'stopped');
      return status(s.id);
    },
    start(id: string) {
      log.push(`start ${id}`);
      states.set(id, failing.has(`${id}:${specs.get(id)?.model}`) ? 'errored' : 'starting');
      return Promise.resolve(status(id));
    },
    remove(id: string) {
      log.push(`remove ${id}`);
      specs.delete(id);
      states.delete(id);
      return Promise.resolve();
    },
    list: () => [...specs.keys()].map(status),
    spec: (id: string) => specs.get(id) as WorkerSpec,
    status,
  } as unknown as WorkerSupervisor;
  return { sup, log, specs, states };
}

function request(plan: Partial<ApplyPlan>, specs: WorkerSpec[]): ApplyRequest {
  return {
    plan: { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false, ...plan },
    specs,
    next: {} as ApplyRequest['next'],
    previous: null,
    dir: '/v/2',
    version: 2,
  };
}

describe('topology runner', () => {
  it('starts new workers, swaps changed ones, then removes gone ones safely', async () => {
    const f = fakeSupervisor(new Set());
    f.sup.add(spec('gen0'));
    await f.sup.start('gen0');
    f.sup.add(spec('old'));
    const removed: string[] = [];
    const runner = createTopologyRunner({
      supervisor: f.sup,
      removeWorker: (id) => Promise.resolve(void removed.push(id)),
    });
    f.log.length = 0;
    await runner.apply(
      request({ start: ['gen1'], restart: ['gen0'], stop: ['old'] }, [
        spec('gen1'),
        spec('gen0', 'm2'),
      ]),
    );
    expect(f.log).toEqual(['add gen1:m', 'start gen1', 'remove gen0', 'add gen0:m2', 'start gen0']);
    expect(removed).toEqual(['old']);
  });

  it('undoes its steps when a changed worker cannot start: the old run comes back, new ones go', async () => {
    const f = fakeSupervisor(new Set(['gen0:bad']));
    f.sup.add(spec('gen0'));
    await f.sup.start('gen0');
    const runner = createTopologyRunner({
      supervisor: f.sup,
      removeWorker: () => Promise.reject(new Error('must not stop anything')),
    });
    f.log.length = 0;
    const err = await runner
      .apply(
        request({ start: ['gen1'], restart: ['gen0'], stop: ['x'] }, [
          spec('gen1'),
          spec('gen0', 'bad'),
        ]),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('WORKER_START_FAILED');
    expect((err as AppError).message).toContain('gen0 did not start: not found');
    expect(f.log).toEqual([
      'add gen1:m',
      'start gen1',
      'remove gen0',
      'add gen0:bad',
      'start gen0',
      'remove gen0',
      'add gen0:m',
      'start gen0',
      'remove gen1',
    ]);
    expect([...f.specs.keys()]).toEqual(['gen0']);
    expect(f.specs.get('gen0')?.model).toBe('m');
  });
});
