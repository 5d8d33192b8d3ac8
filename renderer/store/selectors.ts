// Selectors over the app state. Ones that return arrays or objects are used through useShallow in
// components (style-guide §6). Layer: renderer (pure).

import type { WorkerView } from '../../shared/model/worker-view';
import type { AppState } from './store-types';

/** Local workers sorted by role (context first) then id. */
export function selectLocalWorkers(state: Pick<AppState, 'workers'>): WorkerView[] {
  return Object.values(state.workers)
    .filter((w) => w.origin === 'local')
    .sort((a, b) =>
      a.role === b.role
        ? a.id.localeCompare(b.id, 'en', { numeric: true })
        : a.role === 'context'
          ? -1
          : 1,
    );
}

/** Workers found in the registry that this console did not start. */
export function selectRemoteWorkers(state: Pick<AppState, 'workers'>): WorkerView[] {
  return Object.values(state.workers)
    .filter((w) => w.origin === 'remote')
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The local workers holding a GPU (from their launch specs, and the inventory's holders). */
export function selectWorkersOnGpu(
  state: Pick<AppState, 'workers' | 'inventory'>,
  index: number,
): WorkerView[] {
  const out = new Map<string, WorkerView>();
  for (const w of Object.values(state.workers)) if (w.spec?.gpus.includes(index)) out.set(w.id, w);
  for (const h of state.inventory?.holders[String(index)] ?? []) {
    const w = state.workers[h.workerId];
    if (w) out.set(w.id, w);
  }
  return [...out.values()];
}

/** GPU indices no worker holds. */
export function selectFreeGpus(state: Pick<AppState, 'workers' | 'inventory'>): number[] {
  return (state.inventory?.gpus ?? [])
    .map((g) => g.index)
    .filter((i) => selectWorkersOnGpu(state, i).length === 0);
}

/** The model the playground and presets default to: the first local worker's model. */
export function selectDefaultModel(state: Pick<AppState, 'workers'>): string {
  return (
    selectLocalWorkers(state).find((w) => w.spec)?.spec?.model ??
    'TinyLlama/TinyLlama-1.1B-Chat-v1.0'
  );
}

/** Counts by state for the header summary. */
export function selectWorkerCounts(state: Pick<AppState, 'workers'>): {
  ready: number;
  starting: number;
  failing: number;
  total: number;
} {
  let ready = 0;
  let starting = 0;
  let failing = 0;
  const local = selectLocalWorkers(state);
  for (const w of local) {
    if (w.status.state === 'ready') ready += 1;
    else if (w.status.state === 'starting') starting += 1;
    else if (
      w.status.state === 'errored' ||
      w.status.state === 'backoff' ||
      w.status.state === 'degraded'
    ) {
      failing += 1;
    }
  }
  return { ready, starting, failing, total: local.length };
}

/** True when the worker's engine or the GPU inventory is simulated. */
export function selectIsSimulated(state: Pick<AppState, 'workers' | 'inventory'>): boolean {
  return (
    Boolean(state.inventory?.simulated) ||
    Object.values(state.workers).some((w) => w.spec?.engine === 'simulated')
  );
}
