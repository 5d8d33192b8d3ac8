// Cluster membership as the console shows it (feature C5): mode, the etcd in use, workers registered by
// others. Layer: shared (pure), JSON-safe. Facts: docs/trtllm-protocol.md section 7.

import type { ClusterMode } from './topology';
import type { WorkerRole } from './worker';

/** Where the etcd the console uses comes from. */
export type EtcdState = 'off' | 'embedded' | 'external' | 'unavailable';

/** A worker found in the registry that the console did not start (another machine, a SLURM job). */
export interface RemoteWorker {
  /** etcd key id: `trtllm/<llm_id>` suffix (7.1) or the disagg_cluster worker_id (7.2). */
  id: string;
  role: WorkerRole;
  url: string;
  model: string | null;
  isHealthy: boolean | null;
  lastSeenMs: number;
}

/** cluster:status. */
export interface ClusterStatus {
  mode: ClusterMode;
  etcd: { state: EtcdState; endpoint: string | null; message: string | null };
  /** disagg_cluster readiness (7.4); null in the other modes. */
  isReady: boolean | null;
  remoteWorkers: RemoteWorker[];
}
