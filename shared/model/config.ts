// Typed models of the upstream TensorRT-LLM files, with upstream's own (snake_case) field names so a
// parsed file maps 1:1 to what `trtllm-serve` reads. Defaults are filled in by the parsers in
// shared/logic/config-parse.ts. Layer: shared (pure). Facts: docs/trtllm-protocol.md sections 2 and 3.

/** `ServerRole` as upstream's IntEnum: CONTEXT=0, GENERATION=1, MM_ENCODER=2. */
export type ServerRoleName = 'CONTEXT' | 'GENERATION' | 'MM_ENCODER';
export const SERVER_ROLE_NUMBER: Record<ServerRoleName, number> = {
  CONTEXT: 0,
  GENERATION: 1,
  MM_ENCODER: 2,
};

export type RouterType = 'round_robin' | 'load_balancing' | 'kv_cache_aware';

/** A router section after parsing: `type` lower-cased, other keys kept as constructor args. */
export interface RouterConfig {
  type: RouterType;
  /** load_balancing / kv_cache_aware: count prompt tokens instead of requests. */
  use_tokens: boolean;
  /** kv_cache_aware: taken from the section's `max_batch_size` when present, else 64. */
  max_batch_size: number;
  /** kv_cache_aware block size. */
  tokens_per_block: number;
  /** Any other router keys (upstream swallows unknown ones with **kwargs). */
  extra: Record<string, unknown>;
  /**
   * Exactly the constructor args upstream's `extract_router_config` builds: the router keys other than `type`,
   * plus the section's `max_batch_size`/`max_num_tokens` when set (set by the parser; optional for callers).
   */
  args?: Record<string, unknown>;
  /**
   * The router name as written when it is one of the newer upstream routers this console's proxy does not
   * implement (`conversation`, `centralized_kv_cache_aware`, `remote_http`); `type` is then what the proxy uses.
   */
  declared_type?: string;
}

/** `context_servers` / `generation_servers`. */
export interface ServerSectionConfig {
  num_instances: number;
  /** `host:port` strings exactly as written (no scheme). */
  urls: string[];
  router: RouterConfig;
  max_batch_size?: number;
  max_num_tokens?: number;
  tensor_parallel_size: number;
  pipeline_parallel_size: number;
  /** Every other key of the section (LLM args for disaggregated_mpi_worker), after top-level keys were copied in. */
  other: Record<string, unknown>;
}

export interface DisaggClusterConfig {
  cluster_uri: string;
  cluster_name: string;
  minimal_instances: { context_servers: number; generation_servers: number };
  heartbeat_interval_sec: number;
  inactive_timeout_sec: number;
}

export interface ConditionalDisaggConfig {
  max_local_prefill_length: number;
}

/** disagg_config.yaml, the proxy's file (`trtllm-serve disaggregated -c`). */
export interface DisaggConfig {
  hostname: string;
  port: number;
  max_retries: number;
  perf_metrics_max_requests: number;
  context_servers: ServerSectionConfig;
  generation_servers: ServerSectionConfig;
  conditional_disagg_config?: ConditionalDisaggConfig;
  disagg_cluster?: DisaggClusterConfig;
  otlp_config?: { otlp_traces_endpoint?: string };
  /** Top-level keys that are not proxy settings (model, backend, ...), copied into both sections. */
  shared_keys: Record<string, unknown>;
  /** Disaggregated-server settings of TensorRT-LLM 1.2 and later (docs/upstream-versions.md section 5). */
  release_settings?: DisaggReleaseSettings;
}

/** Top-level disaggregated-server keys added after October 2025, as upstream's DisaggServerConfig names them. */
export interface DisaggReleaseSettings {
  node_id?: number;
  schedule_style?: 'context_first' | 'generation_first';
  return_perf_metrics?: boolean;
  perf_metrics_output_dir?: string;
  allow_request_chat_template?: boolean;
  gen_strip_message_history?: boolean;
  gen_tokids_ctxbytes?: boolean;
  num_workers?: number;
  disagg_coordinator_url?: string;
  server_keep_alive_timeout?: number;
  internal_request_auth_key?: string;
  bounded_replay_on_generation?: unknown;
}

/** metadata_config.yaml (`-m` / `--metadata_server_config_file`). */
export interface MetadataConfig {
  server_type: 'etcd';
  hostname: string;
  port: number;
  health_check_timeout: number;
  refresh_interval: number;
}

export type CacheTransceiverBackend = 'DEFAULT' | 'UCX' | 'NIXL' | 'MPI' | 'MOONCAKE';

export interface CacheTransceiverConfig {
  backend?: CacheTransceiverBackend;
  max_tokens_in_buffer?: number;
  kv_transfer_timeout_ms?: number;
}

export interface KvCacheConfig {
  free_gpu_memory_fraction?: number;
  max_tokens?: number;
  enable_block_reuse?: boolean;
  enable_partial_reuse?: boolean;
  copy_on_partial_reuse?: boolean;
  event_buffer_max_size?: number;
  tokens_per_block?: number;
  dtype?: string;
  [key: string]: unknown;
}

/**
 * The `--extra_llm_api_options` YAML: a dict of TorchLlmArgs fields. Only the fields the console and the
 * simulated worker act on are typed; the parser knows every accepted key and rejects unknown ones, as
 * upstream's pydantic model (extra="forbid") does.
 */
export interface WorkerOptions {
  cache_transceiver_config?: CacheTransceiverConfig;
  disable_overlap_scheduler?: boolean;
  kv_cache_config?: KvCacheConfig;
  max_batch_size?: number;
  max_num_tokens?: number;
  max_seq_len?: number;
  max_beam_width?: number;
  tensor_parallel_size?: number;
  pipeline_parallel_size?: number;
  context_parallel_size?: number;
  moe_expert_parallel_size?: number;
  enable_attention_dp?: boolean;
  enable_iter_perf_stats?: boolean;
  enable_iter_req_stats?: boolean;
  return_perf_metrics?: boolean;
  perf_metrics_max_requests?: number;
  print_iter_log?: boolean;
  stream_interval?: number;
  enable_chunked_prefill?: boolean;
  cuda_graph_config?: Record<string, unknown> | null;
  speculative_config?: Record<string, unknown> | null;
  /** Not an LLM arg: popped by serve.py to register the worker (protocol 7.2). */
  disagg_cluster?: DisaggClusterConfig;
  [key: string]: unknown;
}
