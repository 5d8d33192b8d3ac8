// Picks how the renderer reaches the backend: the Electron preload bridge when present, else the headless
// console's HTTP + SSE API on the page's own origin with the per-launch token from `?token=` (kept in
// sessionStorage so a reload keeps working, and removed from the address bar). Components never touch
// window.bridge (style-guide §3.5). Layer: renderer.

import type { ApiTransport } from '../../shared/api/client';
import { type ApiClient, createApiClient } from '../../shared/api/client';
import { type ApiEventName, isApiEvent } from '../../shared/api/contract';
import { type Envelope, errorEnvelope, parseEnvelope } from '../../shared/api/envelope';
import { httpTransport } from '../../shared/api/http-transport';

/** What preload.ts exposes as window.bridge. */
export interface RendererBridge {
  invoke(channel: string, args: unknown[]): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

const TOKEN_KEY = 'disagg-console.token';

/** The parts of the page's window this module uses (a narrow type, so it can be tested without a DOM). */
export interface PageWindow {
  location: { href: string; origin: string };
  sessionStorage: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
  };
  history: { replaceState(data: unknown, unused: string, url: string): void };
  bridge?: RendererBridge;
}

/** A transport over the preload bridge; the bridge already returns envelopes from the main-side dispatcher. */
function bridgeTransport(bridge: RendererBridge): ApiTransport {
  return {
    async invoke(channel: string, args: unknown[]): Promise<Envelope<unknown>> {
      try {
        return parseEnvelope(await bridge.invoke(channel, args));
      } catch (err) {
        return errorEnvelope('INTERNAL', err instanceof Error ? err.message : String(err));
      }
    },
    on(event: string, listener: (payload: unknown) => void): () => void {
      if (!isApiEvent(event)) return () => undefined;
      return bridge.on(event satisfies ApiEventName, listener);
    },
    whenConnected: () => Promise.resolve(),
    close: () => undefined,
  };
}

/** Reads the token from `?token=` (then hides it from the URL) or from sessionStorage. */
function takeToken(win: PageWindow): string | null {
  const url = new URL(win.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    win.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    win.history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return win.sessionStorage.getItem(TOKEN_KEY);
}

/** The typed client for this page, or null with a reason when there is no way to reach a backend. */
export function pickApiClient(
  win: PageWindow,
): { client: ApiClient; via: 'ipc' | 'http' } | { client: null; reason: string } {
  const bridge = win.bridge;
  if (bridge) return { client: createApiClient(bridgeTransport(bridge)), via: 'ipc' };
  const token = takeToken(win);
  if (!token) {
    return {
      client: null,
      reason:
        'This page needs the console token. Open the full URL that `disagg-console serve` printed (it ends in ?token=…).',
    };
  }
  return {
    client: createApiClient(httpTransport({ baseUrl: win.location.origin, token })),
    via: 'http',
  };
}
