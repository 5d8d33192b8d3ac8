// Hardening of the console window (features D1, architecture "Security"): no new windows (http(s) links open
// in the system browser instead), no navigation away from the app's own page, no <webview>, the strict CSP
// also as a response header where the page comes over http (the dev server), and CORS on the console's own
// LLM proxy for the playground. Layer: electron shell.

import type { Session, WebContents } from 'electron';

/** The CSP of renderer/index.html, repeated as a header for pages served over http. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:*; object-src 'none'; base-uri 'none'; form-action 'none'";

/** True for a URL the system browser may open (never file:, javascript: or custom schemes). */
export function isExternalWebUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Blocks new windows, navigation away from `allowedUrlPrefix` and webviews on one window's contents. */
export function hardenWebContents(
  contents: Pick<WebContents, 'setWindowOpenHandler' | 'on'>,
  allowedUrlPrefix: string,
  openExternal: (url: string) => void,
): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url)) openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(allowedUrlPrefix)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Headers the playground reads from the proxy's answers (see renderer/lib/openai-request.ts). */
export const PROXY_EXPOSED_HEADERS =
  'x-disagg-context-worker, x-disagg-generation-worker, x-disagg-request-id, x-disagg-context-ms, x-disagg-handoff-ms';

interface HeadersDetails {
  url: string;
  method?: string;
  resourceType: string;
  responseHeaders?: Record<string, string[]>;
}

/**
 * Response headers of the session, in one handler (Electron keeps one onHeadersReceived listener per session):
 * the CSP on http(s) main frames (file: pages use the meta tag), and CORS on the LLM proxy's answers so the
 * playground, whose page is a file: URL, may read them. Only the console's own proxy gets CORS, and preflights
 * it would answer 404 are answered 204 here.
 */
export function applyResponseHeaders(
  session: Pick<Session, 'webRequest'>,
  proxyUrl: () => string | null,
): void {
  session.webRequest.onHeadersReceived(
    (
      details: HeadersDetails,
      callback: (r: { responseHeaders: Record<string, string[]>; statusLine?: string }) => void,
    ) => {
      const headers = { ...(details.responseHeaders ?? {}) };
      if (/^https?:/.test(details.url) && details.resourceType === 'mainFrame') {
        headers['Content-Security-Policy'] = [CONSOLE_CSP];
      }
      const proxy = proxyUrl();
      if (proxy !== null && details.url.startsWith(proxy.replace(/\/+$/, '') + '/')) {
        for (const k of Object.keys(headers)) {
          if (k.toLowerCase().startsWith('access-control-')) delete headers[k];
        }
        headers['Access-Control-Allow-Origin'] = ['*'];
        headers['Access-Control-Expose-Headers'] = [PROXY_EXPOSED_HEADERS];
        if (details.method === 'OPTIONS') {
          headers['Access-Control-Allow-Methods'] = ['GET, POST'];
          headers['Access-Control-Allow-Headers'] = [
            'content-type, authorization, x-disagg-context-worker, x-disagg-generation-worker',
          ];
          callback({ responseHeaders: headers, statusLine: 'HTTP/1.1 204 No Content' });
          return;
        }
      }
      callback({ responseHeaders: headers });
    },
  );
}
