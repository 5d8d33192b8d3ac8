// A fake console API for the store tests: handlers in memory behind the real in-memory transport (so
// validation and envelopes are real), events emitted by the test.
import { createApiClient } from '../../../../shared/api/client';
import type { ApiEventMap, ApiEventName, ApiHandlers } from '../../../../shared/api/contract';
import { AppError } from '../../../../shared/api/envelope';
import { inMemoryTransport } from '../../../../shared/api/in-memory-transport';
import type { GpuInventorySnapshot } from '../../../../shared/model/gpu';
import type { WorkerStatus } from '../../../../shared/model/worker';
import type { WorkerView } from '../../../../shared/model/worker-view';

export function status(id: string, state: WorkerStatus['state']): WorkerStatus {
  return {
    id,
    state,
    pid: 1,
    restarts: 0,
    lastExit: null,
    startedAtMs: 1000,
    readyAtMs: state === 'ready' ? 2000 : null,
    progress: null,
    nextRestartAtMs: null,
    message: null,
  };
}

export function view(
  id: string,
  role: 'context' | 'generation',
  gpus: number[],
  state: WorkerStatus['state'] = 'ready',
  origin: 'local' | 'remote' = 'local',
): WorkerView {
  return {
    id,
    role,
    url: `http://localhost:${8001 + gpus[0]!}`,
    origin,
    spec:
      origin === 'local'
        ? {
            id,
            role,
            gpus,
            host: 'localhost',
            port: 8001 + gpus[0]!,
            model: 'tiny',
            engine: 'simulated',
            backend: 'pytorch',
            tpSize: gpus.length,
            ppSize: 1,
            optionsFile: null,
            extraEnv: {},
            registration: { kind: 'static' },
          }
        : null,
    status: status(id, state),
  };
}

export function inventory(count: number): GpuInventorySnapshot {
  return {
    simulated: true,
    simulatedReason: 'nvidia-smi not found',
    driverVersion: null,
    cudaVersion: null,
    gpus: Array.from({ length: count }, (_, index) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'Sim H100',
      pciBusId: '',
      memoryTotalMiB: 81_559,
      powerLimitW: 700,
      maxSmClockMHz: null,
      driverVersion: null,
      computeCap: '9.0',
      architecture: 'Hopper',
      simulated: true,
    })),
    samples: [],
    topology: null,
    apps: [],
    holders: {},
    lastError: null,
    sampledAtMs: null,
  };
}

export function createFakeApi(handlers: Partial<ApiHandlers>) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: { channel: string; args: unknown[] }[] = [];
  const api: Partial<ApiHandlers> = {};
  for (const [name, fn] of Object.entries(handlers)) {
    (api as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.push({ channel: name, args });
      return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  const backend = {
    api,
    onEvent: <E extends ApiEventName>(name: E, listener: (p: ApiEventMap[E]) => void) => {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
  const client = createApiClient(inMemoryTransport(backend));
  return {
    client,
    calls,
    emit<E extends ApiEventName>(name: E, payload: ApiEventMap[E]): void {
      for (const l of [...(listeners.get(name) ?? [])]) l(payload);
    },
    listenerCount: () => [...listeners.values()].reduce((a, s) => a + s.size, 0),
  };
}

export { AppError };
