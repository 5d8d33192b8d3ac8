// Runs the proxy in a worker_threads Worker for the console backend: the same server as the CLI, on its
// own event loop, reporting request records in batches and taking membership and routing changes at
// run time. A thread that dies (uncaught error, exit) is started again on the same port with backoff
// (shared restart policy), and gets the membership and routing the console had set; stop() ends that.
// The worker module is TypeScript, so the thread first registers tsx's loader itself (this works
// whether or not the parent runs under tsx, e.g. under Vitest). Layer: core.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { RestartPolicy } from '../../../shared/logic/restart-policy';
import { nextRestartDelayMs, shouldRestart } from '../../../shared/logic/restart-policy';
import type { TrtllmVersion } from '../../../shared/logic/trtllm-dialect';
import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { ProxyCpuSample } from '../../../shared/model/proxy-cost';
import type { ProxyRunSettings } from './proxy-runtime';
import { DEFAULT_RUN_SETTINGS } from './proxy-runtime';
import type {
  ProxyThreadCommand,
  ProxyThreadEvent,
  ProxyThreadInit,
  ProxyThreadOverrides,
} from './proxy-thread-protocol';
import type { LogLevel, MembershipUpdate, ProxyRequestRecord, RoutingUpdate } from './types';
import type { WorkerSnapshot } from './worker-pool';
import { normalizeWorkerUrl } from './worker-pool';

/** The part of the worker restart policy that applies to the proxy thread. */
export type ProxyThreadRestartPolicy = Pick<
  RestartPolicy,
  'maxRestarts' | 'backoffBaseMs' | 'backoffMaxMs' | 'minUptimeMs'
>;

/**
 * A thread starts in well under a second (no model to load): restart quickly, but stop after ten crashes
 * in a row (a run of a minute resets the count), since a proxy that dies at once every time is a bug.
 */
export const PROXY_THREAD_RESTART_POLICY: ProxyThreadRestartPolicy = {
  maxRestarts: 10,
  backoffBaseMs: 250,
  backoffMaxMs: 15_000,
  minUptimeMs: 60_000,
};

export type ProxyThreadState = 'running' | 'restarting' | 'errored' | 'stopped';

export interface ProxyThreadStatus {
  state: ProxyThreadState;
  /** Restarts after a crash since start (successful ones). */
  restarts: number;
  /** Why the thread last died; null while it never did. */
  lastError: string | null;
}

export interface ProxyThreadOptions {
  config: DisaggConfig;
  metadata?: MetadataConfig;
  settings?: Partial<ProxyRunSettings>;
  overrides?: ProxyThreadOverrides;
  env?: Record<string, string | undefined>;
  /** How often records are flushed to the parent (default 200 ms). */
  recordBatchMs?: number;
  /** Wait for the static workers' /health before serving, like the CLI (default false: the console supervises them). */
  shouldWaitForWorkers?: boolean;
  restartPolicy?: Partial<ProxyThreadRestartPolicy>;
  onLog?: (level: LogLevel, message: string) => void;
  /** Called on every state change (a crash, a restart, giving up, stop). */
  onStatus?: (status: ProxyThreadStatus) => void;
}

type ThreadStats = {
  workers: WorkerSnapshot[];
  isReady: boolean;
  metricsText: string;
  cpu: ProxyCpuSample;
};

export interface ProxyThreadHandle {
  readonly port: number;
  onRecords(cb: (records: ProxyRequestRecord[]) => void): () => void;
  updateMembership(update: MembershipUpdate): void;
  addWorker(role: 'context' | 'generation', url: string): void;
  removeWorker(role: 'context' | 'generation', url: string): void;
  setRouting(update: RoutingUpdate): void;
  /** Speaks another release's dialect from the next request on (no restart). */
  setTrtllmVersion(version: TrtllmVersion): void;
  /** Rejects when no thread runs (restarting, errored, stopped) or the thread dies before answering. */
  stats(): Promise<ThreadStats>;
  status(): ProxyThreadStatus;
  /**
   * Makes the thread die as a bug would: an uncaught exception (`throw`) or process.exit(1) inside it
   * (`exit`). For tests and diagnostics of the restart path; the console never sends it.
   */
  crashForTesting(how: 'throw' | 'exit'): void;
  /** Drains (up to drainMs), then ends the thread; no restart after this. */
  stop(drainMs?: number): Promise<void>;
}

const ENTRY = new URL('./proxy-thread-entry.ts', import.meta.url).href;

/**
 * The eval'd bootstrap imports tsx's ESM API (the .mjs build beside the CommonJS one that require()
 * resolves to), registers its loader in this thread, then imports the TypeScript entry.
 */
function bootstrapCode(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const mjs = pathToFileURL(path.join(path.dirname(cjs), 'index.mjs')).href;
  return `import(${JSON.stringify(mjs)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY)}); });`;
}

/** One thread, listening. */
interface ThreadRun {
  readonly worker: Worker;
  readonly port: number;
  readonly startedAt: number;
  send(cmd: ProxyThreadCommand): void;
}

interface ThreadHooks {
  onEvent(run: ThreadRun, ev: ProxyThreadEvent): void;
  /** After listening: the thread ended; `error` is its uncaught error, if that is why. */
  onExit(run: ThreadRun, code: number, error: Error | undefined): void;
}

/** Starts one thread; resolves once it listens, rejects with the startup error. */
function launchThread(init: ProxyThreadInit, hooks: ThreadHooks): Promise<ThreadRun> {
  // A larger young generation (32 MB semi-spaces instead of 16): Node's HTTP objects make ~60 KB of
  // short-lived garbage per proxied request, and fewer scavenges promote fewer in-flight requests to
  // the old space. Measured with bench:proxy (--max-semi-space-size=32 on the CLI proxy): about 8% less
  // CPU per request.
  const worker = new Worker(bootstrapCode(), {
    eval: true,
    workerData: init,
    resourceLimits: { maxYoungGenerationSizeMb: 96 },
  });
  return new Promise((resolve, reject) => {
    let run: ThreadRun | undefined;
    let lastError: Error | undefined;
    worker.on('error', (err) => {
      lastError = err;
      if (!run) reject(err);
    });
    worker.on('exit', (code) => {
      if (!run) {
        reject(lastError ?? new Error(`proxy thread exited with code ${code} before listening`));
      } else hooks.onExit(run, code, lastError);
    });
    worker.on('message', (ev: ProxyThreadEvent) => {
      if (ev.type === 'listening') {
        run = {
          worker,
          port: ev.port,
          startedAt: Date.now(),
          send: (cmd) => worker.postMessage(cmd),
        };
        resolve(run);
      } else if (ev.type === 'failed') {
        const err = new Error(ev.message) as Error & { code?: string };
        if (ev.code !== undefined) err.code = ev.code;
        reject(err);
        void worker.terminate();
      } else if (run) {
        hooks.onEvent(run, ev);
      }
    });
  });
}

/** The membership and routing the owner set, folded, to give a restarted thread. */
class AppliedChanges {
  private readonly members: { context?: string[]; generation?: string[] } = {};
  /** add/remove of a role whose full list was never set (they apply on top of the file's urls). */
  private ops: ProxyThreadCommand[] = [];
  private routing: RoutingUpdate = {};
  private trtllmVersion: TrtllmVersion | undefined;

  membership(u: MembershipUpdate): void {
    for (const role of ['context', 'generation'] as const) {
      const list = u[role];
      if (!list) continue;
      this.members[role] = [...list];
      this.ops = this.ops.filter((c) => !('role' in c) || c.role !== role);
    }
  }

  add(role: 'context' | 'generation', url: string): void {
    const list = this.members[role];
    if (!list) this.ops.push({ type: 'addWorker', role, url });
    else if (!list.some((u) => normalizeWorkerUrl(u) === normalizeWorkerUrl(url))) list.push(url);
  }

  remove(role: 'context' | 'generation', url: string): void {
    const list = this.members[role];
    if (!list) this.ops.push({ type: 'removeWorker', role, url });
    else this.members[role] = list.filter((u) => normalizeWorkerUrl(u) !== normalizeWorkerUrl(url));
  }

  route(u: RoutingUpdate): void {
    // Each role's update replaces that role's router, so the last one per role is the state.
    this.routing = { ...this.routing, ...u };
  }

  version(v: TrtllmVersion): void {
    this.trtllmVersion = v;
  }

  commands(): ProxyThreadCommand[] {
    const out: ProxyThreadCommand[] = [];
    if (this.trtllmVersion) out.push({ type: 'trtllmVersion', version: this.trtllmVersion });
    if (this.routing.context || this.routing.generation) {
      out.push({ type: 'routing', update: { ...this.routing } });
    }
    if (this.members.context || this.members.generation) {
      out.push({ type: 'membership', update: { ...this.members } });
    }
    return [...out, ...this.ops];
  }
}

/**
 * Keeps one proxy thread running: starts it, restarts it after a crash with backoff (giving the new
 * thread the membership and routing set so far), and stops it on request. The handle forwards to it.
 */
class ProxyThreadSupervisor implements ThreadHooks {
  private readonly recordListeners = new Set<(r: ProxyRequestRecord[]) => void>();
  private readonly pendingStats = new Map<
    number,
    { resolve: (v: ThreadStats) => void; reject: (e: Error) => void }
  >();
  readonly applied = new AppliedChanges();
  private nextStatsId = 1;
  private state: ProxyThreadState = 'running';
  private restarts = 0;
  /** Crashes in a row (reset by a run of policy.minUptimeMs). */
  private crashes = 0;
  private lastError: string | null = null;
  private isStopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private launching: Promise<void> | undefined;
  private readonly stopWaiters: Array<() => void> = [];
  private current: ThreadRun | undefined;
  /** Restarts take the port the first run bound (the console's URL stays valid). */
  private restartInit: ProxyThreadInit;

  constructor(
    private readonly init: ProxyThreadInit,
    private readonly policy: ProxyThreadRestartPolicy,
    private readonly options: ProxyThreadOptions,
  ) {
    this.restartInit = init;
  }

  /** Starts the first thread; resolves with its port once it listens. */
  async start(): Promise<number> {
    const first = await launchThread(this.init, this);
    this.current = first;
    this.restartInit = { ...this.init, overrides: { ...this.init.overrides, port: first.port } };
    return first.port;
  }

  status(): ProxyThreadStatus {
    return { state: this.state, restarts: this.restarts, lastError: this.lastError };
  }

  onRecords(cb: (records: ProxyRequestRecord[]) => void): () => void {
    this.recordListeners.add(cb);
    return () => this.recordListeners.delete(cb);
  }

  /** Sends to the running thread; while none runs the change is only remembered for the next one. */
  send(cmd: ProxyThreadCommand): void {
    this.current?.send(cmd);
  }

  stats(): Promise<ThreadStats> {
    const run = this.current;
    if (!run) return Promise.reject(new Error(`the proxy thread is ${this.state}`));
    const id = this.nextStatsId++;
    return new Promise((resolve, reject) => {
      this.pendingStats.set(id, { resolve, reject });
      run.send({ type: 'stats', id });
    });
  }

  async stop(drainMs: number): Promise<void> {
    this.isStopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    // A restart in progress finishes first (and ends its thread itself, seeing isStopping).
    if (this.launching) await this.launching;
    const run = this.current;
    if (!run) {
      if (this.state !== 'stopped') this.setState('stopped');
      return;
    }
    await new Promise<void>((resolve) => {
      this.stopWaiters.push(resolve);
      run.send({ type: 'stop', drainMs });
    });
  }

  onEvent(run: ThreadRun, ev: ProxyThreadEvent): void {
    switch (ev.type) {
      case 'records':
        for (const cb of this.recordListeners) cb(ev.records);
        break;
      case 'log':
        this.log(ev.level, ev.message);
        break;
      case 'stats':
        this.pendingStats.get(ev.id)?.resolve({
          workers: ev.workers,
          isReady: ev.isReady,
          metricsText: ev.metricsText,
          cpu: ev.cpu,
        });
        this.pendingStats.delete(ev.id);
        break;
      case 'stopped':
        void run.worker.terminate();
        break;
      case 'listening':
      case 'failed':
        // Startup events: launchThread handles them.
        break;
    }
  }

  onExit(run: ThreadRun, code: number, error: Error | undefined): void {
    if (run !== this.current) return;
    this.current = undefined;
    for (const p of this.pendingStats.values()) p.reject(new Error('the proxy thread ended'));
    this.pendingStats.clear();
    if (this.isStopping) {
      this.setState('stopped');
      for (const w of this.stopWaiters.splice(0)) w();
      return;
    }
    this.lastError = error ? error.message : `exited with code ${code}`;
    if (Date.now() - run.startedAt >= this.policy.minUptimeMs) this.crashes = 0;
    this.crashAndMaybeRestart();
  }

  private log(level: LogLevel, message: string): void {
    this.options.onLog?.(level, message);
  }

  private setState(s: ProxyThreadState): void {
    this.state = s;
    this.options.onStatus?.(this.status());
  }

  private crashAndMaybeRestart(): void {
    this.crashes += 1;
    if (!shouldRestart(this.crashes, this.policy)) {
      this.log(
        'error',
        `proxy thread died (${this.lastError}); ${this.crashes - 1} restarts in a row failed, not restarting`,
      );
      this.setState('errored');
      return;
    }
    const delayMs = nextRestartDelayMs(this.crashes, this.policy);
    this.log('warning', `proxy thread died (${this.lastError}); restarting it in ${delayMs} ms`);
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.launching = this.relaunch().finally(() => (this.launching = undefined));
    }, delayMs);
  }

  private async relaunch(): Promise<void> {
    let run: ThreadRun;
    try {
      run = await launchThread(this.restartInit, this);
    } catch (err) {
      if (this.isStopping) return;
      this.lastError = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
      this.crashAndMaybeRestart();
      return;
    }
    if (this.isStopping) {
      await run.worker.terminate();
      return;
    }
    this.current = run;
    this.restarts += 1;
    for (const cmd of this.applied.commands()) run.send(cmd);
    this.log('warning', `proxy thread restarted on port ${run.port} (restart ${this.restarts})`);
    this.setState('running');
  }
}

/** Starts the proxy thread; resolves once it listens, rejects with the startup error. */
export async function startProxyInWorkerThread(
  options: ProxyThreadOptions,
): Promise<ProxyThreadHandle> {
  const init: ProxyThreadInit = {
    config: options.config,
    metadata: options.metadata,
    settings: { ...DEFAULT_RUN_SETTINGS, ...options.settings },
    env: options.env ?? {
      TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: process.env['TRTLLM_DISAGG_BENCHMARK_GEN_ONLY'],
    },
    overrides: options.overrides ?? {},
    recordBatchMs: options.recordBatchMs ?? 200,
    shouldWaitForWorkers: options.shouldWaitForWorkers ?? false,
  };
  const sup = new ProxyThreadSupervisor(
    init,
    { ...PROXY_THREAD_RESTART_POLICY, ...options.restartPolicy },
    options,
  );
  const port = await sup.start();
  const applied = sup.applied;
  return {
    port,
    onRecords: (cb) => sup.onRecords(cb),
    updateMembership(update) {
      applied.membership(update);
      sup.send({ type: 'membership', update });
    },
    addWorker(role, url) {
      applied.add(role, url);
      sup.send({ type: 'addWorker', role, url });
    },
    removeWorker(role, url) {
      applied.remove(role, url);
      sup.send({ type: 'removeWorker', role, url });
    },
    setRouting(update) {
      applied.route(update);
      sup.send({ type: 'routing', update });
    },
    setTrtllmVersion(version) {
      applied.version(version);
      sup.send({ type: 'trtllmVersion', version });
    },
    stats: () => sup.stats(),
    status: () => sup.status(),
    crashForTesting: (how) => sup.send({ type: 'crash', how }),
    stop: (drainMs = 5_000) => sup.stop(drainMs),
  };
}
