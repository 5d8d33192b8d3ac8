// Console settings (settings:get / settings:set). Layer: shared (pure), JSON-safe.

import type { ClusterMode } from './topology';
import type { WorkerEngine } from './worker';

/** Every console setting; settings:set takes a partial patch. */
export interface ConsoleSettings {
  /** Path of `trtllm-serve`; null = found on PATH. */
  trtllmServePath: string | null;
  defaultEngine: WorkerEngine;
  /** Simulated GPU inventory (used without nvidia-smi). */
  simulatedGpuCount: number;
  simulatedGpuModel: string;
  /** How long a worker may take to answer /health 200 before it counts as failed. */
  readyTimeoutMs: number;
  clusterMode: ClusterMode;
  /** External etcd `http://host:port`; null = embedded etcd when the binary exists. */
  etcdEndpoint: string | null;
  /** Port of the LLM proxy. */
  proxyPort: number;
}

/** settings:set argument. */
export type ConsoleSettingsPatch = Partial<ConsoleSettings>;
