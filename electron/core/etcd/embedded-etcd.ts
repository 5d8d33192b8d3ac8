// The embedded etcd (feature C5): when the `etcd` binary is installed and no endpoint is configured, the
// console runs etcd as a child process on loopback (client and peer ports free ones, data in the data dir) for
// the metadata and disagg_cluster modes. Without the binary it reports a clear status instead of failing.
// Stopped by its pid: SIGTERM, then SIGKILL. Layer: core.

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import type { EtcdState } from '../../../shared/model/cluster';
import { freeLoopbackPort } from '../supervisor/port-allocator';

/** What the UI shows about etcd. */
export interface EtcdStatus {
  state: EtcdState;
  /** `http://127.0.0.1:<port>` while running or configured. */
  endpoint: string | null;
  message: string | null;
  pid: number | null;
}

/** Options of startEmbeddedEtcd. */
export interface EmbeddedEtcdOptions {
  /** Folder for etcd's data (created). */
  dataDir: string;
  /** The binary; default `etcd` on PATH, then /usr/bin/etcd and /usr/local/bin/etcd. */
  binary?: string;
  env?: Record<string, string | undefined>;
  /** Client port to listen on (e.g. the 2379 a metadata_config.yaml names); default a free one. */
  clientPort?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A running embedded etcd. */
export interface EmbeddedEtcd {
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  status(): EtcdStatus;
  /** SIGTERM, SIGKILL after stopTimeoutMs; resolves once it exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** The message the UI shows when no etcd can be started. */
export const ETCD_MISSING_MESSAGE =
  'etcd is not installed: install it (Debian/Ubuntu: apt install etcd-server) or set an external etcd endpoint in the settings; ' +
  "metadata and disagg_cluster-over-etcd modes need it (disagg_cluster over the proxy's HTTP store does not)";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The etcd binary to run (a path, or a name looked up on PATH; default `etcd`), or null when none is installed. */
export function findEtcdBinary(
  binary: string | undefined,
  env: Record<string, string | undefined> = process.env,
): string | null {
  const name = binary ?? 'etcd';
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  if (binary === undefined) {
    for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (isExecutable(p)) return p;
  }
  return null;
}

/** True once etcd's `GET /health` answers `{"health":"true"}` (also used by the tests' throw-away etcd). */
export async function isEtcdHealthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: unknown };
    return res.ok && String(body.health) === 'true';
  } catch {
    // Not listening yet (ECONNREFUSED) or not elected yet: the caller keeps polling until its deadline.
    return false;
  }
}

/** Resolves true when the child has exited (or already had), false after `ms`. */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Thrown when etcd cannot be started; `status` carries what the UI shows. */
export class EtcdStartError extends Error {
  constructor(
    message: string,
    readonly status: EtcdStatus,
  ) {
    super(message);
    this.name = 'EtcdStartError';
  }
}

/** Starts etcd on loopback and resolves once `/health` says true. */
export async function startEmbeddedEtcd(opts: EmbeddedEtcdOptions): Promise<EmbeddedEtcd> {
  const env = opts.env ?? process.env;
  const binary = findEtcdBinary(opts.binary, env);
  if (binary === null) {
    throw new EtcdStartError(ETCD_MISSING_MESSAGE, {
      state: 'unavailable',
      endpoint: null,
      message: ETCD_MISSING_MESSAGE,
      pid: null,
    });
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const host = '127.0.0.1';
  const port = opts.clientPort ?? (await freeLoopbackPort());
  let peerPort = await freeLoopbackPort();
  while (peerPort === port) peerPort = await freeLoopbackPort();
  const endpoint = `http://${host}:${port}`;
  const peer = `http://${host}:${peerPort}`;
  const args = [
    '--name',
    'disagg-console',
    '--data-dir',
    opts.dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `disagg-console=${peer}`,
    '--initial-cluster-state',
    'new',
    '--logger',
    'zap',
    '--log-level',
    'warn',
  ];
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  // etcd refuses to start on non-amd64 builds unless told the architecture is accepted.
  if (process.arch === 'arm64') childEnv.ETCD_UNSUPPORTED_ARCH = 'arm64';
  const child = spawn(binary, args, {
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
    shell: false,
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    for (const line of chunk.split('\n')) if (line.trim() !== '') opts.log?.(line);
  });
  const spawnError: { err: Error | null } = { err: null };
  child.once('error', (err) => {
    spawnError.err = err;
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, opts.stopTimeoutMs ?? 5000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
      }
    })();
    return stopping;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    let failure: string | null = null;
    if (spawnError.err) failure = `cannot start ${binary}: ${spawnError.err.message}`;
    else if (child.exitCode !== null || child.signalCode !== null) {
      failure = `etcd exited at start (code ${child.exitCode}, signal ${child.signalCode})`;
    } else if (await isEtcdHealthy(endpoint)) break;
    else if (Date.now() > deadline) {
      failure = `etcd did not become healthy within ${opts.startTimeoutMs ?? 20_000} ms`;
    }
    if (failure !== null) {
      await stop();
      const message = `${failure}${stderrTail ? `: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      throw new EtcdStartError(message, {
        state: 'unavailable',
        endpoint: null,
        message,
        pid: null,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid as number;
  return {
    endpoint,
    host,
    port,
    pid,
    status: () =>
      child.exitCode === null && child.signalCode === null
        ? { state: 'embedded', endpoint, message: null, pid }
        : {
            state: 'unavailable',
            endpoint,
            message: `embedded etcd exited (code ${child.exitCode}, signal ${child.signalCode})`,
            pid: null,
          },
    stop,
  };
}
