// Which IPC senders the main process answers: only the main frame of the console's own window, loaded from
// the app's own origin (VS Code's ValidatedIpcMain idea). A frame that navigated elsewhere, a subframe or
// another window gets UNAUTHORIZED. Layer: electron shell.

/** The parts of an IpcMainInvokeEvent this check reads (structural, so tests need no Electron). */
export interface SenderEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** What a sender must match. */
export interface TrustPolicy {
  /** webContents ids of the console's windows. */
  webContentsIds: () => readonly number[];
  /** Allowed page URL prefixes: the dev server origin or the packaged renderer's file:// directory. */
  allowedUrlPrefixes: readonly string[];
}

/** True when the event comes from the top frame of one of our windows showing our own page. */
export function isTrustedSender(event: SenderEventLike, policy: TrustPolicy): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!policy.webContentsIds().includes(event.sender.id)) return false;
  return policy.allowedUrlPrefixes.some((prefix) => frame.url.startsWith(prefix));
}

/** The URL prefix a loaded page must start with: the origin for http(s), the directory for file:. */
export function urlPrefixOf(pageUrl: string): string {
  const u = new URL(pageUrl);
  if (u.protocol === 'file:') return u.href.slice(0, u.href.lastIndexOf('/') + 1);
  return `${u.origin}/`;
}
