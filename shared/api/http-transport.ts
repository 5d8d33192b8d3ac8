// The console API over HTTP + SSE, for the browser (headless console) and for Node tests: POST
// /api/<channel> with a JSON array of arguments, GET /api/events as Server-Sent Events read through a fetch
// stream (Node 20 has no EventSource, and EventSource cannot send an Authorization header). Layer: shared
// (pure): it reaches fetch, TextDecoder, AbortController and timers through globalThis with minimal types,
// because tsconfig.shared has neither DOM nor Node typings.

import type { ApiTransport } from './client';
import { AppError, type Envelope, errorEnvelope, parseEnvelope } from './envelope';

interface StreamReaderLike {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

/** The parts of a fetch Response this transport uses. */
export interface FetchResponseLike {
  status: number;
  text(): Promise<string>;
  body: { getReader(): StreamReaderLike } | null;
}

interface AbortSignalLike {
  readonly aborted: boolean;
}

/** The parts of fetch this transport uses (the global fetch of browsers and Node 18+ fits). */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal?: AbortSignalLike;
  },
) => Promise<FetchResponseLike>;

interface HostGlobals {
  fetch?: FetchLike;
  TextDecoder: new () => { decode(input?: Uint8Array, options?: { stream?: boolean }): string };
  AbortController: new () => { signal: AbortSignalLike; abort(): void };
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const host = globalThis as unknown as HostGlobals;

/** Options of httpTransport. */
export interface HttpTransportOptions {
  /** e.g. `http://127.0.0.1:5173` (no trailing slash needed). */
  baseUrl: string;
  /** The per-launch token printed by `disagg-console serve`. */
  token: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Delay before reopening a dropped event stream. */
  reconnectDelayMs?: number;
}

/** The SSE event the server sends first on every stream, so a client knows it is subscribed. */
export const SSE_CONNECTED_EVENT = 'console:connected';

/** A minimal incremental SSE parser: `event:` and `data:` fields, comments, LF / CRLF / CR line ends. */
export class TinySseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): { event: string; data: string }[] {
    this.buffer += text;
    const out: { event: string; data: string }[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A trailing lone CR may be half of a CRLF: wait for the next chunk.
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length > 0) {
          out.push({ event: this.event || 'message', data: this.data.join('\n') });
        }
        this.data = [];
        this.event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
    }
    return out;
  }
}

/** Settles when the event stream says it is connected; replaced by a fresh one while reconnecting. */
interface ConnectedSignal {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  isSettled: boolean;
}

function newConnectedPromise(): ConnectedSignal {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody waits for must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject, isSettled: false };
}

/** Reads an SSE answer to its end, handing each event to `deliver`. */
async function readEventStream(
  res: FetchResponseLike,
  deliver: (event: string, data: string) => void,
): Promise<void> {
  if (res.status !== 200 || !res.body) {
    throw new Error(`event stream answered HTTP ${res.status}`);
  }
  const reader = res.body.getReader();
  const decoder = new host.TextDecoder();
  const parser = new TinySseParser();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
      deliver(ev.event, ev.data);
    }
  }
}

/** `POST /api/<channel>` with the arguments; every failure comes back as an error envelope. */
async function postInvoke(
  server: { doFetch: FetchLike; baseUrl: string; authHeaders: Record<string, string> },
  channel: string,
  args: unknown[],
): Promise<Envelope<unknown>> {
  const { doFetch, baseUrl, authHeaders } = server;
  let res: FetchResponseLike;
  try {
    res = await doFetch(`${baseUrl}/api/${encodeURIComponent(channel)}`, {
      method: 'POST',
      headers: { ...authHeaders, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
  } catch (err) {
    return errorEnvelope(
      'INTERNAL',
      `cannot reach the console at ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const text = await res.text();
  try {
    return parseEnvelope(JSON.parse(text));
  } catch {
    return errorEnvelope('INTERNAL', `the console answered HTTP ${res.status} without an envelope`);
  }
}

/** A transport to a console API server (api-server.ts) over HTTP + SSE. */
export function httpTransport(options: HttpTransportOptions): ApiTransport {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const reconnectDelayMs = options.reconnectDelayMs ?? 1000;
  // Bound to globalThis: browsers reject a fetch called with another `this` ("Illegal invocation").
  const doFetch = options.fetch ?? host.fetch?.bind(globalThis);
  if (!doFetch) throw new AppError('NOT_SUPPORTED', 'no fetch available in this runtime');
  const authHeaders = { authorization: `Bearer ${options.token}` };

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let controller: { signal: AbortSignalLike; abort(): void } | null = null;
  let reconnectTimer: unknown = null;
  let isClosed = false;
  let connected: ConnectedSignal | null = null;

  const hasListeners = (): boolean => [...listeners.values()].some((s) => s.size > 0);

  const deliver = (event: string, data: string): void => {
    if (event === SSE_CONNECTED_EVENT) {
      if (connected && !connected.isSettled) {
        connected.isSettled = true;
        connected.resolve();
      }
      return;
    }
    const set = listeners.get(event);
    if (!set || set.size === 0) return;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return; // A malformed frame is dropped; the stream itself stays usable.
    }
    for (const listener of [...set]) listener(payload);
  };

  const scheduleReconnect = (): void => {
    if (isClosed || !hasListeners() || reconnectTimer !== null) return;
    reconnectTimer = host.setTimeout(() => {
      reconnectTimer = null;
      openStream();
    }, reconnectDelayMs);
  };

  const openStream = (): void => {
    if (isClosed || controller) return;
    const ctl = new host.AbortController();
    controller = ctl;
    if (!connected || connected.isSettled) connected = newConnectedPromise();
    const current = connected;
    const run = async (): Promise<void> => {
      const res = await doFetch(`${baseUrl}/api/events`, {
        method: 'GET',
        headers: { ...authHeaders, accept: 'text/event-stream' },
        signal: ctl.signal,
      });
      if (res.status === 401) {
        current.isSettled = true;
        current.reject(new AppError('UNAUTHORIZED', 'the console rejected the token'));
        isClosed = true;
        return;
      }
      await readEventStream(res, deliver);
    };
    run()
      .catch(() => undefined) // Dropped or refused streams are retried below; there is nobody to report to.
      .finally(() => {
        if (controller === ctl) controller = null;
        if (ctl.signal.aborted || isClosed) return;
        // Until the stream is back, whenConnected() must wait again.
        if (connected?.isSettled) connected = newConnectedPromise();
        scheduleReconnect();
      });
  };

  const closeStream = (): void => {
    if (reconnectTimer !== null) {
      host.clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
    const ctl = controller;
    controller = null;
    ctl?.abort();
  };

  return {
    invoke: (channel: string, args: unknown[]): Promise<Envelope<unknown>> =>
      postInvoke({ doFetch, baseUrl, authHeaders }, channel, args),
    on(event: string, listener: (payload: unknown) => void): () => void {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      openStream();
      return () => {
        listeners.get(event)?.delete(listener);
        if (!hasListeners()) closeStream();
      };
    },
    whenConnected(): Promise<void> {
      if (!hasListeners() || !connected) return Promise.resolve();
      return connected.promise;
    },
    close(): void {
      isClosed = true;
      listeners.clear();
      closeStream();
    },
  };
}
