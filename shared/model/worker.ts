// A worker (one `trtllm-serve` or simulated process) as the console describes, launches and reports it.
// Layer: shared (pure), JSON-safe. Flags and roles: docs/trtllm-protocol.md sections 1.1 and 7.

export type WorkerRole = 'context' | 'generation';

/** 'trtllm-serve' runs the real binary; 'simulated' runs `disagg-console sim-worker` with the same flags. */
export type WorkerEngine = 'trtllm-serve' | 'simulated';

/** `trtllm-serve --backend` choices (protocol 1.1). */
export type WorkerBackend = 'pytorch' | 'tensorrt' | '_autodeploy';

export type WorkerState =
  'stopped' | 'starting' | 'ready' | 'degraded' | 'backoff' | 'stopping' | 'errored';

/**
 * How the worker registers itself for dynamic scaling (protocol 7). Both kinds add `--server_role`.
 * 'static' = listed in disagg_config.yaml `urls`, no role flag.
 */
export type WorkerRegistration =
  | { kind: 'static' }
  /** 7.1: `--metadata_server_config_file FILE` (etcd `trtllm/<id>` keys). */
  | { kind: 'metadata'; metadataServerConfigFile: string }
  /** 7.2: `--disagg_cluster_uri URI`; with uri null the `disagg_cluster` section of the options YAML is used. */
  | { kind: 'disagg_cluster'; clusterUri: string | null };

/**
 * Which model a worker serves on which GPUs and address, with which engine and backend: the fields a
 * console.yaml worker entry (TopologyWorker) carries over unchanged into its launch spec (WorkerSpec).
 */
export interface WorkerPlacement {
  role: WorkerRole;
  /** GPU indices; become CUDA_VISIBLE_DEVICES. TP x PP must equal their count for real workers. */
  gpus: number[];
  host: string;
  port: number;
  /** MODEL positional: HF id, checkpoint dir or engine dir. */
  model: string;
  engine: WorkerEngine;
  backend: WorkerBackend;
}

/** What the console needs to launch one worker. */
export interface WorkerSpec extends WorkerPlacement {
  id: string;
  tpSize: number;
  ppSize: number;
  /** Path of the `--extra_llm_api_options` YAML, null to omit the flag. */
  optionsFile: string | null;
  /** Extra environment for this worker (UCX_*, TRTLLM_* ...), merged over the console's. */
  extraEnv: Record<string, string>;
  registration: WorkerRegistration;
  /** Path of the trtllm-serve binary for engine 'trtllm-serve'; null = found on PATH. */
  binaryPath?: string | null;
}

/** Why the last run ended. */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** Last stderr lines of that run, oldest first. */
  stderrTail: string[];
  atMs: number;
  /** Set when the console ended the run or it never started, e.g. "ready timeout after 1800000 ms". */
  reason: string | null;
}

/** Loading progress parsed from the worker's log while it starts (real models take minutes). */
export interface WorkerProgress {
  message: string;
  /** 0..1 when the line carried a percentage or n/m count. */
  fraction: number | null;
  atMs: number;
}

/** The live status of one worker; carried in full by `workers:statusChanged`. */
export interface WorkerStatus {
  id: string;
  state: WorkerState;
  pid: number | null;
  /** Restarts the console made after crashes since the worker was added. */
  restarts: number;
  lastExit: WorkerExit | null;
  startedAtMs: number | null;
  readyAtMs: number | null;
  progress: WorkerProgress | null;
  /** When a restart is scheduled (state 'backoff'). */
  nextRestartAtMs: number | null;
  /** Human-readable cause for 'errored' / 'degraded'. */
  message: string | null;
}
