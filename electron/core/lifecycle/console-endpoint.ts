// The console API's port and token, kept in `<dataDir>/console-endpoint.json` (mode 0600: the token grants the
// API) so that a restarted console on the same data dir answers at the same URL and a reloaded page reconnects
// (issue #12, liveness). `--port` still wins; a stored port that someone else took is replaced, saying so.
// Layer: core.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../fs/atomic-write';

export const ENDPOINT_FILE = 'console-endpoint.json';
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** What is stored: the port last listened on (null before the first start) and the token. */
export interface StoredEndpoint {
  port: number | null;
  token: string | null;
}

/** The stored endpoint; fields that are missing or malformed come back null (and are replaced on save). */
export function readStoredEndpoint(
  dataDir: string,
  log: (message: string) => void = () => undefined,
): StoredEndpoint {
  const path = join(dataDir, ENDPOINT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      log(`cannot read ${path}: ${(err as Error).message}; a new port and token are chosen`);
    }
    return { port: null, token: null };
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const port =
      typeof v.port === 'number' && Number.isInteger(v.port) && v.port > 0 && v.port <= 65535
        ? v.port
        : null;
    const token = typeof v.token === 'string' && TOKEN.test(v.token) ? v.token : null;
    return { port, token };
  } catch (err) {
    log(`${path} is not valid JSON (${(err as Error).message}); a new port and token are chosen`);
    return { port: null, token: null };
  }
}

/** Stores the endpoint atomically, readable by the owner only. */
export async function saveEndpoint(
  dataDir: string,
  endpoint: { port: number; token: string },
): Promise<void> {
  await writeFileAtomic(join(dataDir, ENDPOINT_FILE), JSON.stringify(endpoint) + '\n', 0o600);
}

export interface ListenPlan {
  /** Ports to try in order: [the one asked for], or [the stored one, then 0 = any free port], or [0]. */
  ports: number[];
}

/** Which port to listen on: `--port` wins, else the stored one with a free port as fallback, else a free one. */
export function planListenPort(requested: number | undefined, stored: StoredEndpoint): ListenPlan {
  if (requested !== undefined) return { ports: [requested] };
  if (stored.port !== null) return { ports: [stored.port, 0] };
  return { ports: [0] };
}

/**
 * Listens on the planned ports in order: a stored port that is taken (EADDRINUSE) falls through to a free one,
 * with a message; any other failure, or a taken `--port`, is thrown.
 */
export async function listenWithPlan<T>(
  plan: ListenPlan,
  listen: (port: number) => Promise<T>,
  log: (message: string) => void,
): Promise<T> {
  for (let i = 0; ; i++) {
    const port = plan.ports[i] as number;
    try {
      return await listen(port);
    } catch (err) {
      const isLast = i === plan.ports.length - 1;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || isLast) throw err;
      log(
        `the console's port ${port} from the last start is taken by another process; listening on a new port (reload the page at the new URL)`,
      );
    }
  }
}
