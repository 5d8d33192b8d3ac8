// createApiClient(transport): the typed client the renderer and tests use; it unwraps envelopes and
// re-throws AppError so callers branch on `err.code`. Layer: shared (pure).

import type { ApiChannelName, ApiEventMap, ApiEventName, ApiInvokeMap } from './contract';
import { appErrorFromPayload, type Envelope } from './envelope';

/** How a client reaches a backend: Electron IPC, HTTP + SSE, or in memory. */
export interface ApiTransport {
  /** Sends one call; resolves with the envelope (transport failures become INTERNAL/UNAUTHORIZED envelopes). */
  invoke(channel: string, args: unknown[]): Promise<Envelope<unknown>>;
  /** Subscribes to one event name; returns the unsubscribe function. */
  on(event: string, listener: (payload: unknown) => void): () => void;
  /** Resolves once events subscribed so far will be delivered (the SSE stream is open). */
  whenConnected(): Promise<void>;
  /** Releases connections. */
  close(): void;
}

/** The typed API surface. */
export interface ApiClient {
  /** Calls one channel; rejects with AppError on an error envelope. */
  invoke<K extends ApiChannelName>(
    channel: K,
    ...args: Parameters<ApiInvokeMap[K]>
  ): ReturnType<ApiInvokeMap[K]>;
  /** Subscribes to one event; returns the unsubscribe function. */
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEventMap[E]) => void): () => void;
  /** Resolves once subscriptions made so far are live. */
  whenConnected(): Promise<void>;
  /** Releases the transport. */
  close(): void;
}

/** Builds the typed client over any transport. */
export function createApiClient(transport: ApiTransport): ApiClient {
  return {
    invoke<K extends ApiChannelName>(
      channel: K,
      ...args: Parameters<ApiInvokeMap[K]>
    ): ReturnType<ApiInvokeMap[K]> {
      const call = async (): Promise<unknown> => {
        const envelope = await transport.invoke(channel, args);
        if (!envelope.ok) throw appErrorFromPayload(envelope.error);
        return envelope.value;
      };
      return call() as ReturnType<ApiInvokeMap[K]>;
    },
    on<E extends ApiEventName>(event: E, listener: (payload: ApiEventMap[E]) => void): () => void {
      return transport.on(event, (payload) => listener(payload as ApiEventMap[E]));
    },
    whenConnected: () => transport.whenConnected(),
    close: () => transport.close(),
  };
}
