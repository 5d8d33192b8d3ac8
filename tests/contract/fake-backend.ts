// A small in-process backend implementing part of the console contract, for the contract suite: enough
// channels to exercise success, void results, AppErrors with details, unexpected errors, a missing handler
// and events.

import type { ApiBackend, ApiEventMap, ApiEventName, ApiHandlers } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import type { WorkerStatus } from '../../shared/model/worker';
import type { WorkerView } from '../../shared/model/worker-view';

/** The fake plus hooks a test uses to drive it. */
export interface FakeBackend extends ApiBackend {
  emit<E extends ApiEventName>(name: E, payload: ApiEventMap[E]): void;
  listenerCount(): number;
  calls: { channel: string; args: unknown[] }[];
}

function status(id: string, state: WorkerStatus['state']): WorkerStatus {
  return {
    id,
    state,
    pid: state === 'stopped' ? null : 4242,
    restarts: 0,
    lastExit: null,
    startedAtMs: 1_700_000_000_000,
    readyAtMs: null,
    progress: null,
    nextRestartAtMs: null,
    message: null,
  };
}

/** Builds the fake: one worker `ctx0`; `settings:set` is left out on purpose (NOT_SUPPORTED). */
export function createFakeBackend(): FakeBackend {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: { channel: string; args: unknown[] }[] = [];
  const workers = new Map<string, WorkerView>();
  workers.set('ctx0', {
    id: 'ctx0',
    role: 'context',
    url: 'http://localhost:8001',
    origin: 'local',
    spec: null,
    status: status('ctx0', 'ready'),
  });

  const emit = <E extends ApiEventName>(name: E, payload: ApiEventMap[E]): void => {
    for (const l of [...(listeners.get(name) ?? [])]) l(payload);
  };

  const api: Partial<ApiHandlers> = {
    'workers:list': () => {
      calls.push({ channel: 'workers:list', args: [] });
      return Promise.resolve([...workers.values()]);
    },
    'workers:add': (request) => {
      calls.push({ channel: 'workers:add', args: [request] });
      const id = request.id ?? `w${workers.size}`;
      if (workers.has(id)) {
        return Promise.reject(
          new AppError('CONFIG_INVALID', `worker '${id}' exists`, { field: 'id', id }),
        );
      }
      const view: WorkerView = {
        id,
        role: request.role,
        url: `http://${request.host ?? 'localhost'}:${request.port ?? 9000}`,
        origin: 'local',
        spec: null,
        status: status(id, 'starting'),
      };
      workers.set(id, view);
      emit('workers:statusChanged', view);
      return Promise.resolve(view);
    },
    'workers:remove': (id) => {
      calls.push({ channel: 'workers:remove', args: [id] });
      if (!workers.delete(id)) {
        return Promise.reject(new AppError('WORKER_NOT_FOUND', `no worker '${id}'`, { id }));
      }
      return Promise.resolve();
    },
    'workers:stop': (id) => {
      calls.push({ channel: 'workers:stop', args: [id] });
      return Promise.reject(new Error(`disk on fire while stopping ${id}`));
    },
    'workers:logs': (id, query) => {
      calls.push({ channel: 'workers:logs', args: [id, query] });
      const lines = ['loading model', 'Loading weights 50%', 'server ready', 'GET /health 200'].map(
        (text, i) => ({ seq: i + 1, atMs: 1000 + i, stream: 'stdout' as const, text }),
      );
      const search = query?.search?.toLowerCase();
      const filtered = search ? lines.filter((l) => l.text.toLowerCase().includes(search)) : lines;
      return Promise.resolve(filtered.slice(-(query?.tail ?? filtered.length)));
    },
    'proxy:info': () =>
      Promise.resolve({
        url: 'http://127.0.0.1:8000',
        host: '127.0.0.1',
        port: 8000,
        isRunning: true,
      }),
    'metrics:csv': () => Promise.resolve('atMs,requests\n1000,3\n'),
    'proxy:cost': () =>
      Promise.resolve({
        sample: { cpuUs: 80_000, requests: 1000, tokens: 4000, scope: 'thread', processes: 1 },
        floor: null,
        floorError: null,
      }),
  };

  return {
    api,
    calls,
    emit,
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
    onEvent(name, listener) {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      const l = listener as (p: unknown) => void;
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
  };
}
