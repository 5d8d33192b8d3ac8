// A throw-away etcd server for integration tests: Debian's /usr/bin/etcd (3.4) on free loopback ports
// with a temp data dir, stopped by pid and cleaned up by stop(). The start-up, the wait for `/health` and
// the stop are the console's own (electron/core/etcd/embedded-etcd.ts); this adds the temp dir and the
// pointer to the setup script. Layer: tests (node).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startEmbeddedEtcd } from '../../electron/core/etcd/embedded-etcd';

export const ETCD_BINARY = process.env.ETCD_BINARY ?? '/usr/bin/etcd';

export interface EtcdServer {
  /** `http://127.0.0.1:PORT`, the client URL. */
  endpoint: string;
  host: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after a grace period; removes the data dir. Safe to call twice. */
  stop: () => Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;

export interface StartEtcdOptions {
  /** The etcd executable; default $ETCD_BINARY or /usr/bin/etcd. */
  binary?: string;
}

/** Starts etcd and resolves once `GET /health` answers `{"health":"true"}`. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const binary = options.binary ?? ETCD_BINARY;
  if (!existsSync(binary)) {
    throw new Error(
      `etcd not found at ${binary}: run scripts/setup-system.sh (installs Debian's etcd-server) or set ETCD_BINARY`,
    );
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'disagg-etcd-'));
  const removeDataDir = (): Promise<void> => rm(dataDir, { recursive: true, force: true });
  let etcd;
  try {
    etcd = await startEmbeddedEtcd({
      dataDir,
      binary,
      startTimeoutMs: START_TIMEOUT_MS,
      stopTimeoutMs: STOP_GRACE_MS,
    });
  } catch (err) {
    await removeDataDir();
    throw err;
  }
  const { endpoint, host, port, pid } = etcd;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => (stopping ??= etcd.stop().then(removeDataDir));
  return { endpoint, host, port, pid, stop };
}
