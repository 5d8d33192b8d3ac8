// Runs the proxy in a worker_threads Worker for the console backend: the same server as the CLI, on its
// own event loop, reporting request records in batches and taking membership and routing changes at
// run time. The worker module is TypeScript, so the thread first registers tsx's loader itself (this
// works whether or not the parent runs under tsx, e.g. under Vitest). Layer: core.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { ProxyRunSettings } from './proxy-runtime';
import { DEFAULT_RUN_SETTINGS } from './proxy-runtime';
import type { ProxyThreadCommand, ProxyThreadEvent, ProxyThreadInit, ProxyThreadOverrides } from './proxy-thread-protocol';
import type { LogLevel, MembershipUpdate, ProxyRequestRecord, RoutingUpdate } from './types';
import type { WorkerSnapshot } from './worker-pool';

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
  onLog?: (level: LogLevel, message: string) => void;
}

export interface ProxyThreadHandle {
  readonly port: number;
  onRecords(cb: (records: ProxyRequestRecord[]) => void): () => void;
  updateMembership(update: MembershipUpdate): void;
  addWorker(role: 'context' | 'generation', url: string): void;
  removeWorker(role: 'context' | 'generation', url: string): void;
  setRouting(update: RoutingUpdate): void;
  stats(): Promise<{ workers: WorkerSnapshot[]; isReady: boolean; metricsText: string }>;
  /** Drains (up to drainMs), then ends the thread. */
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

/** Starts the proxy thread; resolves once it listens, rejects with the startup error. */
export function startProxyInWorkerThread(options: ProxyThreadOptions): Promise<ProxyThreadHandle> {
  const init: ProxyThreadInit = {
    config: options.config,
    metadata: options.metadata,
    settings: { ...DEFAULT_RUN_SETTINGS, ...options.settings },
    env: options.env ?? { TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: process.env['TRTLLM_DISAGG_BENCHMARK_GEN_ONLY'] },
    overrides: options.overrides ?? {},
    recordBatchMs: options.recordBatchMs ?? 200,
    shouldWaitForWorkers: options.shouldWaitForWorkers ?? false,
  };
  // A larger young generation (32 MB semi-spaces instead of 16): Node's HTTP objects make ~60 KB of
  // short-lived garbage per proxied request, and fewer scavenges promote fewer in-flight requests to
  // the old space. Measured with bench:proxy (--max-semi-space-size=32 on the CLI proxy): about 8% less
  // CPU per request.
  const worker = new Worker(bootstrapCode(), { eval: true, workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
  const recordListeners = new Set<(r: ProxyRequestRecord[]) => void>();
  const pendingStats = new Map<number, (v: { workers: WorkerSnapshot[]; isReady: boolean; metricsText: string }) => void>();
  let nextStatsId = 1;
  let stopped: (() => void) | undefined;
  const send = (cmd: ProxyThreadCommand): void => worker.postMessage(cmd);

  return new Promise((resolve, reject) => {
    let isListening = false;
    worker.on('error', (err) => {
      if (!isListening) reject(err);
      else options.onLog?.('error', `proxy thread error: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (!isListening) reject(new Error(`proxy thread exited with code ${code} before listening`));
      stopped?.();
    });
    worker.on('message', (ev: ProxyThreadEvent) => {
      switch (ev.type) {
        case 'listening': {
          isListening = true;
          const port = ev.port;
          resolve({
            port,
            onRecords(cb) {
              recordListeners.add(cb);
              return () => recordListeners.delete(cb);
            },
            updateMembership: (update) => send({ type: 'membership', update }),
            addWorker: (role, url) => send({ type: 'addWorker', role, url }),
            removeWorker: (role, url) => send({ type: 'removeWorker', role, url }),
            setRouting: (update) => send({ type: 'routing', update }),
            stats() {
              const id = nextStatsId++;
              return new Promise((res) => {
                pendingStats.set(id, res);
                send({ type: 'stats', id });
              });
            },
            stop(drainMs = 5_000) {
              return new Promise<void>((res) => {
                stopped = res;
                send({ type: 'stop', drainMs });
              });
            },
          });
          break;
        }
        case 'failed': {
          const err = new Error(ev.message) as Error & { code?: string };
          if (ev.code !== undefined) err.code = ev.code;
          reject(err);
          void worker.terminate();
          break;
        }
        case 'records':
          for (const cb of recordListeners) cb(ev.records);
          break;
        case 'log':
          options.onLog?.(ev.level, ev.message);
          break;
        case 'stats':
          pendingStats.get(ev.id)?.({ workers: ev.workers, isReady: ev.isReady, metricsText: ev.metricsText });
          pendingStats.delete(ev.id);
          break;
        case 'stopped':
          void worker.terminate();
          break;
      }
    });
  });
}
