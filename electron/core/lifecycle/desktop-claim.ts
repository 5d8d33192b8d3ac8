// The desktop app's share of "one console per data dir" (issue #15 item 3): electron/main.ts takes the same
// lock as `serve` (data-dir-lock.ts) before the backend touches the dir. When another console holds it, this
// says what the app shows before it quits: whose the dir is and the address to open it at, with the token
// when the endpoint file of that dir names the same port (this user can read it: it is their data dir). The
// logic lives here, under plain Node and tested there, so main.ts stays a few lines. Layer: core.
import { mkdirSync } from 'node:fs';

import { AppError } from '../../../shared/api/envelope';
import { readStoredEndpoint } from './console-endpoint';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock';

/** What the refusal dialog shows; openUrl is the running console's page (null: nothing to open). */
export interface DataDirRefusal {
  title: string;
  message: string;
  detail: string;
  openUrl: string | null;
}

export type DesktopClaim = { ok: true; lock: DataDirLock } | { ok: false; refusal: DataDirRefusal };

/** The refusal for a DATA_DIR_LOCKED error of acquireDataDirLock on dataDir. */
export function refusalOf(dataDir: string, err: AppError): DataDirRefusal {
  const details = (err.details ?? {}) as { url?: unknown; kind?: unknown };
  const url = typeof details.url === 'string' ? details.url : null;
  const title = 'Disagg Console is already running';
  if (url === null) {
    const isDesktop = details.kind === 'desktop';
    return {
      title,
      message: isDesktop
        ? 'Another Disagg Console window owns this data folder.'
        : 'Another console is starting on this data folder.',
      detail: `${err.message}\n\nThis app quits now; its workers and topologies are left as they are.`,
      openUrl: null,
    };
  }
  return {
    title,
    message: `A console started with \`disagg-console serve\` owns this data folder. Open it at ${url}`,
    detail: `${err.message}\n\nThis app quits now; the running console keeps its workers.`,
    openUrl: pageUrlOf(dataDir, url),
  };
}

/** The console page with its token when the dir's endpoint file matches url's port, else the bare URL. */
function pageUrlOf(dataDir: string, url: string): string {
  const stored = readStoredEndpoint(dataDir, () => undefined);
  let port: number;
  try {
    port = Number(new URL(url).port);
  } catch {
    return url;
  }
  if (stored.token === null || stored.port !== port) return url;
  return `${url}/?token=${encodeURIComponent(stored.token)}`;
}

/** Takes dataDir's lock for the desktop app, or says whose it is. Other failures are thrown. */
export async function claimDataDirForDesktop(
  dataDir: string,
  log?: (message: string) => void,
): Promise<DesktopClaim> {
  mkdirSync(dataDir, { recursive: true });
  try {
    return { ok: true, lock: await acquireDataDirLock(dataDir, { log, kind: 'desktop' }) };
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'DATA_DIR_LOCKED') throw err;
    return { ok: false, refusal: refusalOf(dataDir, err) };
  }
}
