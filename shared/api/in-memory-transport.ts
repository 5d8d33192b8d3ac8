// inMemoryTransport(backend): the console API without any wire, for tests and for embedding. It goes
// through the same dispatchCall as IPC and HTTP and round-trips every payload through JSON, so a value
// that would not survive the wire fails here too. Layer: shared (pure).

import type { ApiTransport } from './client';
import { type ApiBackend, isApiEvent } from './contract';
import { dispatchCall, type UnexpectedErrorSink } from './dispatch-core';
import type { Envelope } from './envelope';

function jsonRoundTrip<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** A transport that calls the backend's handlers directly (with validation and error mapping). */
export function inMemoryTransport(
  backend: ApiBackend,
  onUnexpected: UnexpectedErrorSink = () => undefined,
): ApiTransport {
  const disposers = new Set<() => void>();
  return {
    async invoke(channel: string, args: unknown[]): Promise<Envelope<unknown>> {
      const envelope = await dispatchCall(backend.api, channel, jsonRoundTrip(args), onUnexpected);
      return jsonRoundTrip(envelope);
    },
    on(event: string, listener: (payload: unknown) => void): () => void {
      // Unknown names are ignored, as the SSE stream never carries them.
      if (!isApiEvent(event)) return () => undefined;
      const off = backend.onEvent(event, (payload) => listener(jsonRoundTrip(payload)));
      const dispose = (): void => {
        if (disposers.delete(dispose)) off();
      };
      disposers.add(dispose);
      return dispose;
    },
    whenConnected: () => Promise.resolve(),
    close(): void {
      for (const dispose of [...disposers]) dispose();
    },
  };
}
