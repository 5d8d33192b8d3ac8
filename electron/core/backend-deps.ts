// What createBackend takes and returns, and the default data dir. Kept apart from the wiring so callers
// (Electron main, `serve`, tests) and the crash-safety start hooks read the contract in one place. Layer: core.

import { homedir } from 'node:os';
import { join } from 'node:path';

import type { ApiHandlers, OnApiEvent } from '../../shared/api/contract';
import type { RestartPolicy } from '../../shared/logic/restart-policy';
import type { ConsoleLogLevel } from '../../shared/model/logs';
import type { BackendLog } from './event-hub';
import type { CommandRunner } from './gpu/nvidia-smi-runner';
import type { LeftoverMode } from './lifecycle/leftovers';
import type { ConsoleLogger } from './logging/console-logger';
import type { ProcessLauncher } from './supervisor/process-launcher';
import type { SupervisorClock } from './supervisor/worker-supervisor';

/** Platform adapters (Electron passes its own; headless ones report what is not supported). */
export interface BackendPlatform {
  /** 'electron' or 'headless', shown in logs. */
  name: string;
}

/** What createBackend needs. Everything but dataDir has a real default. */
export interface BackendDeps {
  dataDir: string;
  platform?: BackendPlatform;
  launcher?: ProcessLauncher;
  clock?: SupervisorClock;
  /**
   * The console's log (`<dataDir>/logs/console.log`); `serve` passes the one it opened before the data-dir
   * lock. Default: one opened here, closed on dispose.
   */
  logger?: ConsoleLogger;
  /** Level of the logger opened here (default 'info'). */
  logLevel?: ConsoleLogLevel;
  /** Where the logger opened here echoes each record instead of a text line on stderr (tests: silence). */
  log?: BackendLog;
  /** The environment workers inherit (default process.env). */
  env?: Record<string, string | undefined>;
  /** bin/disagg-console.mjs, which runs `sim-worker` for simulated workers. */
  cliScript?: string;
  /** Node for simulated workers (default process.execPath). */
  nodeBinary?: string;
  /** The proxy port; wins over the setting (0 = a free port). */
  proxyPort?: number;
  /** Start the demo topology (1 context + 1 generation simulated worker) when none is applied yet. */
  isDemo?: boolean;
  /** Also start the demo on a first start without NVIDIA GPUs (what `serve` does). */
  isDemoOnFirstStartWithoutGpus?: boolean;
  isGpuSimulationForced?: boolean;
  gpuRunner?: CommandRunner;
  nvidiaSmiPath?: string;
  gpuPollIntervalMs?: number;
  /** Restart policy overrides for every worker (tests: short timeouts). */
  policy?: Partial<RestartPolicy>;
  /** The etcd binary for the embedded etcd (default `etcd` on PATH, then /usr/bin/etcd). */
  etcdBinary?: string;
  /** First port tried for a new worker (default 8001, as upstream's examples). */
  firstWorkerPort?: number;
  /** Workers a crashed console left running (from its pid file): 'adopt' those the topology has (default), or 'stop' all. */
  leftovers?: LeftoverMode;
  /** Poll period of the workers' /metrics and the registry. */
  pollIntervalMs?: number;
}

/** The backend: the API handlers, events, and shutdown. */
export interface Backend {
  api: ApiHandlers;
  onEvent: OnApiEvent;
  /** Where the LLM proxy listens (`http://127.0.0.1:<port>`). */
  readonly proxyUrl: string;
  readonly dataDir: string;
  /** Stops every worker this console started, the proxy, etcd and the timers. */
  dispose(): Promise<void>;
}

/** ~/.local/share/disagg-console, or $XDG_DATA_HOME/disagg-console. */
export function defaultDataDir(
  env: Record<string, string | undefined> = process.env,
  home: string = homedir(),
): string {
  const xdg = env.XDG_DATA_HOME;
  return join(
    xdg !== undefined && xdg !== '' ? xdg : join(home, '.local', 'share'),
    'disagg-console',
  );
}
