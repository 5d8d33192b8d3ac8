// A throw-away etcd server for integration tests: Debian's /usr/bin/etcd (3.4) on free loopback ports
// with a temp data dir, stopped by pid and cleaned up by stop(). Layer: tests (node).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isEtcdHealthy, waitForExit } from '../../electron/core/etcd/embedded-etcd';
import { getFreePort } from './free-port';

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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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
  const host = '127.0.0.1';
  const port = await getFreePort();
  const peerPort = await getFreePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'disagg-etcd-'));
  const endpoint = `http://${host}:${port}`;
  const peer = `http://${host}:${peerPort}`;
  const args = [
    '--name',
    'test',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `test=${peer}`,
    '--initial-cluster-state',
    'new',
    '--logger',
    'zap',
    '--log-level',
    'error',
  ];
  // etcd refuses to start on arm64 (and other non-amd64 builds) unless this is set.
  const env = {
    ...process.env,
    ETCD_UNSUPPORTED_ARCH:
      process.arch === 'arm64' ? 'arm64' : (process.env.ETCD_UNSUPPORTED_ARCH ?? ''),
  };
  const child = spawn(binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  // Spawn failures arrive as an 'error' event; kept in an object so the wait loop sees later updates.
  const spawnState: { error: Error | null } = { error: null };
  child.once('error', (err) => {
    spawnState.error = err;
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      if (!(await waitForExit(child, STOP_GRACE_MS))) {
        process.kill(child.pid, 'SIGKILL');
        await waitForExit(child, STOP_GRACE_MS);
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let failure: string | null = null;
  for (;;) {
    if (spawnState.error !== null) {
      failure = `could not spawn ${binary}: ${spawnState.error.message}`;
    } else if (child.exitCode !== null || child.signalCode !== null) {
      failure = `etcd exited early (code ${child.exitCode}, signal ${child.signalCode})`;
    } else if (await isEtcdHealthy(endpoint)) break;
    else if (Date.now() > deadline) {
      failure = `etcd did not become healthy within ${START_TIMEOUT_MS} ms`;
    }
    if (failure !== null) {
      await stop();
      throw new Error(`${failure}; stderr tail:\n${stderr}`);
    }
    await sleep(50);
  }
  if (child.pid === undefined) throw new Error('etcd has no pid');
  return { endpoint, host, port, pid: child.pid, stop };
}
