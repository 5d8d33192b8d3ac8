// What the console API says about a worker (workers:list, workers:statusChanged) and what workers:add takes.
// Builds on shared/model/worker.ts (the supervisor's types). Layer: shared (pure), JSON-safe.

import type { TrtllmVersion, VersionSource } from '../logic/trtllm-dialect';
import type { WorkerBackend, WorkerEngine, WorkerRole, WorkerSpec, WorkerStatus } from './worker';

/** A worker as the UI lists it: one the console started (local) or one found in the registry (remote). */
export interface WorkerView {
  id: string;
  role: WorkerRole;
  /** `http://host:port` the proxy routes to. */
  url: string;
  origin: 'local' | 'remote';
  /** The launch spec; null for remote workers. */
  spec: WorkerSpec | null;
  status: WorkerStatus;
  /** Present (true) while the worker is drained: the proxy sends it no new request (cluster command drainWorker). */
  isDrained?: true;
  /** Its TensorRT-LLM release once known (docs/upstream-versions.md section 8); absent until detected. */
  trtllm?: WorkerVersionInfo;
}

/** A worker's TensorRT-LLM release and where the console learnt it. */
export interface WorkerVersionInfo {
  /** The dialect row the console speaks to it. */
  version: TrtllmVersion;
  /** What the worker or binary reported ("1.2.0rc6"); null when it came from the setting. */
  reported: string | null;
  source: VersionSource;
}

/** workers:add: what the user chose when clicking a GPU; the backend fills in the rest. */
export interface WorkerAddRequest {
  role: WorkerRole;
  gpus: number[];
  model: string;
  engine: WorkerEngine;
  /** Unique name; default `ctx<n>` / `gen<n>`. */
  id?: string;
  /** Default: a free port. */
  port?: number;
  /** Default `localhost`. */
  host?: string;
  backend?: WorkerBackend;
  /** Default: gpus.length / ppSize. */
  tpSize?: number;
  ppSize?: number;
  /** The `--extra_llm_api_options` YAML text; default: the template for the role. */
  optionsYaml?: string;
  extraEnv?: Record<string, string>;
}

/** workers:remove options (safe removal, feature C4). */
export interface WorkerRemoveOptions {
  /** Bound on waiting for in-flight requests to finish. */
  drainTimeoutMs?: number;
}

/** proxy:info. */
export interface ProxyInfo {
  url: string;
  host: string;
  port: number;
  isRunning: boolean;
  /** The proxy thread's state while one exists: restarted with backoff after a crash, 'errored' when it gave up. */
  state?: 'running' | 'restarting' | 'errored' | 'stopped';
  /** Crash restarts of the proxy thread since it was started. */
  restarts?: number;
  /** Why the proxy thread last died; null while it never did. */
  lastError?: string | null;
  /** The TensorRT-LLM release whose dialect the proxy speaks (the oldest of its workers'). */
  trtllmVersion?: TrtllmVersion;
  /** Set while the workers run different releases: which ones, and that the oldest one's dialect is spoken. */
  versionWarning?: string | null;
}
