// Worker addresses as the console compares them: loopback names folded to 127.0.0.1, so `localhost:8001`,
// `http://0.0.0.0:8001/` and `127.0.0.1:8001` are one worker. Layer: shared (pure).

import type { WorkerPlacement } from '../model/worker';

const LOOPBACK = new Set(['localhost', '0.0.0.0', '::1', '::', '127.0.0.1']);

/** `http://host:port` with loopback names folded to 127.0.0.1; other text is returned as it is. */
export function normalizeUrl(url: string): string {
  const m = /^(?:https?:\/\/)?\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(url.trim());
  if (!m) return url;
  const host = (m[1] ?? '').toLowerCase();
  return `http://${LOOPBACK.has(host) ? '127.0.0.1' : host}:${m[2]}`;
}

/** The url the proxy routes to for a worker placed at host:port. */
export function workerUrlOf(placement: Pick<WorkerPlacement, 'host' | 'port'>): string {
  return normalizeUrl(`http://${placement.host}:${placement.port}`);
}

/** `host:port` of a url (what disagg_config.yaml's `urls` and the proxy's membership list hold). */
export function hostPortOf(url: string): string {
  return url.replace(/^https?:\/\//, '');
}
