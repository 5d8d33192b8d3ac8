import { describe, expect, it } from 'vitest';

import { clusterChangesBetween } from '../../../../shared/logic/cluster-diff';
import { applyClusterChange } from '../../../../shared/logic/cluster-mirror';
import {
  commandConflicts,
  roleWarnings,
  topologyChanges,
} from '../../../../shared/logic/cluster-preconditions';
import {
  busyGpus,
  doubleBookedGpus,
  firstFreePort,
  gpuAssignmentsOf,
  nextWorkerName,
} from '../../../../shared/logic/worker-allocation';
import type { ClusterState } from '../../../../shared/model/cluster-state';
import type { TopologyWorker } from '../../../../shared/model/topology';
import type { WorkerView } from '../../../../shared/model/worker-view';

function topoWorker(
  name: string,
  role: 'context' | 'generation',
  gpus: number[],
  port: number,
): TopologyWorker {
  return {
    name,
    role,
    gpus,
    host: '127.0.0.1',
    port,
    model: 'm',
    engine: 'simulated',
    backend: 'pytorch',
    tpSize: 1,
    ppSize: 1,
    optionsFile: `${name}.yaml`,
    env: {},
  };
}

function liveView(w: TopologyWorker): WorkerView {
  return {
    id: w.name,
    role: w.role,
    url: `http://127.0.0.1:${w.port}`,
    origin: 'local',
    spec: {
      id: w.name,
      role: w.role,
      gpus: w.gpus,
      host: w.host,
      port: w.port,
      model: w.model,
      engine: w.engine,
      backend: w.backend,
      tpSize: 1,
      ppSize: 1,
      optionsFile: null,
      extraArgs: [],
      env: {},
    } as unknown as WorkerView['spec'],
    status: {
      id: w.name,
      state: 'ready',
      pid: 1,
      restarts: 0,
      lastExit: null,
      startedAtMs: 0,
      readyAtMs: 0,
      progress: null,
      nextRestartAtMs: null,
      message: null,
    },
  };
}

function stateOf(workers: TopologyWorker[], version = 5): ClusterState {
  return {
    epoch: 'e',
    version,
    topology: {
      name: 'default',
      files: {},
      console: { clusterMode: 'static', expectedMaxInputTokens: null, workers },
      appliedVersion: 3,
    },
    workers: workers.map(liveView),
    gpuAssignments: gpuAssignmentsOf(workers),
    proxyPort: 8000,
    draft: null,
    pending: [],
  };
}

const ctx0 = topoWorker('ctx0', 'context', [0], 8001);
const gen1 = topoWorker('gen1', 'generation', [2], 8002);

describe('worker allocation', () => {
  it('names the next worker of a role after the taken names', () => {
    expect(nextWorkerName('generation', ['gen0', 'gen2', 'ctx1'])).toBe('gen1');
    expect(nextWorkerName('context', [])).toBe('ctx0');
  });

  it('lists GPU holders, the busy GPUs of a request and double bookings', () => {
    const a = gpuAssignmentsOf([ctx0, gen1, { name: 'gen1', gpus: [2] }, { name: 'x', gpus: [0] }]);
    expect(a).toEqual({ '0': ['ctx0', 'x'], '2': ['gen1'] });
    expect(busyGpus([1, 2, 2], a)).toEqual([{ gpu: 2, holders: ['gen1'] }]);
    expect(busyGpus([2], a, 'gen1')).toEqual([]);
    expect(doubleBookedGpus(a)).toEqual([{ gpu: 0, holders: ['ctx0', 'x'] }]);
  });

  it('takes the first port that is neither taken nor held by another process', async () => {
    const probed: number[] = [];
    const port = await firstFreePort({
      first: 8001,
      last: 8010,
      taken: new Set([8001, 8002]),
      isFree: (p) => Promise.resolve((probed.push(p), p !== 8003)),
    });
    expect([port, probed]).toEqual([8004, [8003, 8004]]);
    expect(
      await firstFreePort({
        first: 1,
        last: 2,
        taken: new Set([1, 2]),
        isFree: () => Promise.resolve(true),
      }),
    ).toBeNull();
  });
});

describe('command preconditions', () => {
  const state = stateOf([ctx0, gen1]);
  const add = (over: object) => ({
    kind: 'addWorker' as const,
    request: {
      role: 'generation' as const,
      gpus: [1],
      model: 'm',
      engine: 'simulated' as const,
      ...over,
    },
  });

  it('lets a command run when everything it relies on holds', () => {
    expect(commandConflicts(add({}), state, true)).toEqual([]);
    expect(commandConflicts({ kind: 'removeWorker', id: 'gen1' }, state, false)).toEqual([]);
  });

  it('names what is taken, in present tense for a fresh command and with "now" for a stale one', () => {
    expect(commandConflicts(add({ gpus: [2] }), state, false)).toEqual([
      { code: 'CONFIG_INVALID', message: 'GPU 2 is used by gen1' },
    ]);
    expect(
      commandConflicts(add({ gpus: [2], id: 'ctx0', port: 8000 }), state, true).map(
        (c) => c.message,
      ),
    ).toEqual([
      'the name ctx0 is now used by another worker',
      'GPU 2 is now used by gen1',
      'port 8000 is now used by the console proxy',
    ]);
    expect(commandConflicts(add({ gpus: [] }), state, false)[0]?.message).toBe(
      'a worker needs at least one GPU',
    );
  });

  it('says a worker no longer exists, and that a remote one cannot be restarted', () => {
    expect(commandConflicts({ kind: 'restartWorker', id: 'gen9' }, state, true)).toEqual([
      { code: 'WORKER_NOT_FOUND', message: 'worker gen9 no longer exists' },
    ]);
    expect(commandConflicts({ kind: 'removeWorker', id: 'gen9' }, state, false)).toEqual([
      { code: 'WORKER_NOT_FOUND', message: "no worker 'gen9'" },
    ]);
    const remote: ClusterState = {
      ...state,
      workers: [...state.workers, { ...liveView(gen1), id: 'r1', origin: 'remote', spec: null }],
    };
    expect(commandConflicts({ kind: 'stopWorker', id: 'r1' }, remote, false)[0]?.message).toContain(
      'registered by another machine',
    );
  });

  it('names the topology changes a stale draft missed', () => {
    expect(
      topologyChanges(
        { version: 3, workers: [ctx0, gen1] },
        { version: 5, workers: [ctx0, topoWorker('gen2', 'generation', [3], 8004)] },
      ),
    ).toEqual(['topology version 3 -> 5', 'removed since: gen1', 'added since: gen2']);
  });

  it('warns when a role has no worker left (the proxy answers 503), only once something was applied', () => {
    expect(roleWarnings(stateOf([ctx0]))).toEqual([
      'no generation worker in the topology: the proxy answers 503 to every request until one is added',
    ]);
    expect(roleWarnings(stateOf([ctx0, gen1]))).toEqual([]);
    const fresh = stateOf([]);
    expect(
      roleWarnings({ ...fresh, topology: { ...fresh.topology, appliedVersion: null } }),
    ).toEqual([]);
  });
});

describe('cluster diff', () => {
  it('gives the changes that take one document to the other through the mirror step', () => {
    const a = stateOf([ctx0, gen1]);
    const gen2 = topoWorker('gen2', 'generation', [3], 8004);
    const b = stateOf([ctx0, gen2]);
    const changes = clusterChangesBetween(a, b);
    expect(changes.map((c) => c.kind)).toEqual(['worker', 'worker', 'topology', 'gpuAssignments']);
    expect(changes.reduce(applyClusterChange, a)).toEqual(b);
    expect(clusterChangesBetween(a, a)).toEqual([]);
  });
});
