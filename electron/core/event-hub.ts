// The backend's event fan-out: services emit console API events here, transports subscribe with onEvent.
// A listener that throws is logged and the others still get the event. Layer: core.

import type { ApiEventMap, ApiEventName, OnApiEvent } from '../../shared/api/contract';
import type { StructuredLog as BackendLog } from './logging/console-logger';

/** Where the backend logs: one structured record each (logging/console-logger.ts). */
export type { StructuredLog as BackendLog } from './logging/console-logger';

/** An error's message, for log lines. */
export const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Emits events to the subscribed listeners. */
export interface EventHub {
  emit: <E extends ApiEventName>(name: E, payload: ApiEventMap[E]) => void;
  onEvent: OnApiEvent;
}

/** A hub with no listeners yet. */
export function createEventHub(log: BackendLog): EventHub {
  const listeners = new Map<ApiEventName, Set<(payload: unknown) => void>>();
  return {
    emit(name, payload) {
      for (const l of [...(listeners.get(name) ?? [])]) {
        try {
          l(payload);
        } catch (err) {
          log('error', `listener of ${name} failed: ${errText(err)}`, { event: name, err });
        }
      }
    },
    onEvent(name, listener) {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      const l = listener as (payload: unknown) => void;
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
  };
}
