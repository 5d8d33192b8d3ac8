// Hardening of the console window (features D1, architecture "Security"): no new windows (http(s) links open
// in the system browser instead), no navigation away from the app's own page, no <webview>, and the strict
// CSP also as a response header where the page comes over http (the dev server). Layer: electron shell.

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

/** Adds the CSP header to every http(s) response of the session (file: pages use the meta tag). */
export function applyCspHeader(session: Pick<Session, 'webRequest'>): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    if (/^https?:/.test(details.url) && details.resourceType === 'mainFrame') {
      headers['Content-Security-Policy'] = [CONSOLE_CSP];
    }
    callback({ responseHeaders: headers });
  });
}
