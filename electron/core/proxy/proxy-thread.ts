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
import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { ProxyRunSettings } from './proxy-runtime';
import { DEFAULT_RUN_SETTINGS } from './proxy-runtime';
import type { ProxyThreadCommand, ProxyThreadEvent, ProxyThreadInit, ProxyThreadOverrides } from './proxy-thread-protocol';
import type { LogLevel, MembershipUpdate, ProxyRequestRecord, RoutingUpdate } from './types';
import type { WorkerSnapshot } from './worker-pool';
import { normalizeWorkerUrl } from './worker-pool';

/** The part of the worker restart policy that applies to the proxy thread. */
export type ProxyThreadRestartPolicy = Pick<RestartPolicy, 'maxRestarts' | 'backoffBaseMs' | 'backoffMaxMs' | 'minUptimeMs'>;

/**
 * A thread starts in well under a second (no model to load): restart quickly, but stop after ten crashes
 * in a row (a run of a minute resets the count), since a proxy that dies at once every time is a bug.
 */
export const PROXY_THREAD_RESTART_POLICY: ProxyThreadRestartPolicy = { maxRestarts: 10, backoffBaseMs: 250, backoffMaxMs: 15_000, minUptimeMs: 60_000 };

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

type ThreadStats = { workers: WorkerSnapshot[]; isReady: boolean; metricsText: string };

export interface ProxyThreadHandle {
  readonly port: number;
  onRecords(cb: (records: ProxyRequestRecord[]) => void): () => void;
  updateMembership(update: MembershipUpdate): void;
  addWorker(role: 'context' | 'generation', url: string): void;
  removeWorker(role: 'context' | 'generation', url: string): void;
  setRouting(update: RoutingUpdate): void;
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
  const worker = new Worker(bootstrapCode(), { eval: true, workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
  return new Promise((resolve, reject) => {
    let run: ThreadRun | undefined;
    let lastError: Error | undefined;
    worker.on('error', (err) => {
      lastError = err;
      if (!run) reject(err);
    });
    worker.on('exit', (code) => {
      if (!run) reject(lastError ?? new Error(`proxy thread exited with code ${code} before listening`));
      else hooks.onExit(run, code, lastError);
    });
    worker.on('message', (ev: ProxyThreadEvent) => {
      if (ev.type === 'listening') {
        run = { worker, port: ev.port, startedAt: Date.now(), send: (cmd) => worker.postMessage(cmd) };
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

  commands(): ProxyThreadCommand[] {
    const out: ProxyThreadCommand[] = [];
    if (this.routing.context || this.routing.generation) out.push({ type: 'routing', update: { ...this.routing } });
    if (this.members.context || this.members.generation) out.push({ type: 'membership', update: { ...this.members } });
    return [...out, ...this.ops];
  }
}

/** Starts the proxy thread; resolves once it listens, rejects with the startup error. */
export async function startProxyInWorkerThread(options: ProxyThreadOptions): Promise<ProxyThreadHandle> {
  const init: ProxyThreadInit = {
    config: options.config,
    metadata: options.metadata,
    settings: { ...DEFAULT_RUN_SETTINGS, ...options.settings },
    env: options.env ?? { TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: process.env['TRTLLM_DISAGG_BENCHMARK_GEN_ONLY'] },
    overrides: options.overrides ?? {},
    recordBatchMs: options.recordBatchMs ?? 200,
    shouldWaitForWorkers: options.shouldWaitForWorkers ?? false,
  };
  const policy: ProxyThreadRestartPolicy = { ...PROXY_THREAD_RESTART_POLICY, ...options.restartPolicy };
  const log = (level: LogLevel, message: string): void => options.onLog?.(level, message);
  const recordListeners = new Set<(r: ProxyRequestRecord[]) => void>();
  const pendingStats = new Map<number, { resolve: (v: ThreadStats) => void; reject: (e: Error) => void }>();
  const applied = new AppliedChanges();
  let nextStatsId = 1;
  let state: ProxyThreadState = 'running';
  let restarts = 0;
  /** Crashes in a row (reset by a run of policy.minUptimeMs). */
  let crashes = 0;
  let lastError: string | null = null;
  let isStopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let launching: Promise<void> | undefined;
  const stopWaiters: Array<() => void> = [];
  let current: ThreadRun | undefined;

  const status = (): ProxyThreadStatus => ({ state, restarts, lastError });
  const setState = (s: ProxyThreadState): void => {
    state = s;
    options.onStatus?.(status());
  };

  const hooks: ThreadHooks = {
    onEvent(run, ev) {
      switch (ev.type) {
        case 'records':
          for (const cb of recordListeners) cb(ev.records);
          break;
        case 'log':
          log(ev.level, ev.message);
          break;
        case 'stats':
          pendingStats.get(ev.id)?.resolve({ workers: ev.workers, isReady: ev.isReady, metricsText: ev.metricsText });
          pendingStats.delete(ev.id);
          break;
        case 'stopped':
          void run.worker.terminate();
          break;
        case 'listening':
        case 'failed':
          // Startup events: launchThread handles them.
          break;
      }
    },
    onExit(run, code, error) {
      if (run !== current) return;
      current = undefined;
      for (const p of pendingStats.values()) p.reject(new Error('the proxy thread ended'));
      pendingStats.clear();
      if (isStopping) {
        setState('stopped');
        for (const w of stopWaiters.splice(0)) w();
        return;
      }
      lastError = error ? error.message : `exited with code ${code}`;
      if (Date.now() - run.startedAt >= policy.minUptimeMs) crashes = 0;
      crashAndMaybeRestart();
    },
  };

  const first = await launchThread(init, hooks);
  current = first;
  const port = first.port;
  // Restarts take the port the first run bound (the console's URL stays valid).
  const restartInit: ProxyThreadInit = { ...init, overrides: { ...init.overrides, port } };

  function crashAndMaybeRestart(): void {
    crashes += 1;
    if (!shouldRestart(crashes, policy)) {
      log('error', `proxy thread died (${lastError}); ${crashes - 1} restarts in a row failed, not restarting`);
      setState('errored');
      return;
    }
    const delayMs = nextRestartDelayMs(crashes, policy);
    log('warning', `proxy thread died (${lastError}); restarting it in ${delayMs} ms`);
    setState('restarting');
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      launching = relaunch().finally(() => (launching = undefined));
    }, delayMs);
  }

  async function relaunch(): Promise<void> {
    let run: ThreadRun;
    try {
      run = await launchThread(restartInit, hooks);
    } catch (err) {
      if (isStopping) return;
      lastError = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
      crashAndMaybeRestart();
      return;
    }
    if (isStopping) {
      await run.worker.terminate();
      return;
    }
    current = run;
    restarts += 1;
    for (const cmd of applied.commands()) run.send(cmd);
    log('warning', `proxy thread restarted on port ${run.port} (restart ${restarts})`);
    setState('running');
  }

  /** Sends to the running thread; while none runs the change is only remembered for the next one. */
  const send = (cmd: ProxyThreadCommand): void => current?.send(cmd);

  return {
    port,
    onRecords(cb) {
      recordListeners.add(cb);
      return () => recordListeners.delete(cb);
    },
    updateMembership(update) {
      applied.membership(update);
      send({ type: 'membership', update });
    },
    addWorker(role, url) {
      applied.add(role, url);
      send({ type: 'addWorker', role, url });
    },
    removeWorker(role, url) {
      applied.remove(role, url);
      send({ type: 'removeWorker', role, url });
    },
    setRouting(update) {
      applied.route(update);
      send({ type: 'routing', update });
    },
    stats() {
      const run = current;
      if (!run) return Promise.reject(new Error(`the proxy thread is ${state}`));
      const id = nextStatsId++;
      return new Promise((resolve, reject) => {
        pendingStats.set(id, { resolve, reject });
        run.send({ type: 'stats', id });
      });
    },
    status,
    crashForTesting(how) {
      send({ type: 'crash', how });
    },
    async stop(drainMs = 5_000) {
      isStopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = undefined;
      // A restart in progress finishes first (and ends its thread itself, seeing isStopping).
      if (launching) await launching;
      const run = current;
      if (!run) {
        if (state !== 'stopped') setState('stopped');
        return;
      }
      await new Promise<void>((resolve) => {
        stopWaiters.push(resolve);
        run.send({ type: 'stop', drainMs });
      });
    },
  };
}
