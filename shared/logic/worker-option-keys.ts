// Every key that upstream's `--extra_llm_api_options` YAML accepts (TorchLlmArgs and its nested configs,
// TensorRT-LLM main around October 2025). Upstream models are pydantic with extra="forbid", so any other key
// makes the worker fail at startup. Layer: shared (pure).
//
// Source: tensorrt_llm/llmapi/llm_args.py (NVIDIA/TensorRT-LLM, the revision whose CacheTransceiverConfig
// has `backend: DEFAULT|UCX|NIXL|MPI` and `kv_transfer_timeout_ms`, i.e. Oct 2025): BaseLlmArgs fields plus
// TorchLlmArgs fields. See trtllm-protocol.md §2.

/** BaseLlmArgs fields (shared by the PyTorch and TensorRT backends). */
const BASE_LLM_ARGS_KEYS = [
  'model',
  'tokenizer',
  'tokenizer_mode',
  'skip_tokenizer_init',
  'trust_remote_code',
  'tensor_parallel_size',
  'dtype',
  'revision',
  'tokenizer_revision',
  'pipeline_parallel_size',
  'context_parallel_size',
  'gpus_per_node',
  'moe_cluster_parallel_size',
  'moe_tensor_parallel_size',
  'moe_expert_parallel_size',
  'enable_attention_dp',
  'enable_lm_head_tp_in_adp',
  'cp_config',
  'load_format',
  'fail_fast_on_attention_window_too_large',
  'enable_lora',
  'lora_config',
  'kv_cache_config',
  'enable_chunked_prefill',
  'guided_decoding_backend',
  'batched_logits_processor',
  'iter_stats_max_iterations',
  'request_stats_max_iterations',
  'peft_cache_config',
  'scheduler_config',
  'cache_transceiver_config',
  'sparse_attention_config',
  'speculative_config',
  'max_batch_size',
  'max_input_len',
  'max_seq_len',
  'max_beam_width',
  'max_num_tokens',
  'gather_generation_logits',
  'num_postprocess_workers',
  'postprocess_tokenizer_dir',
  'reasoning_parser',
  'decoding_config',
  'backend',
  'return_perf_metrics',
  'orchestrator_type',
] as const;

/**
 * Serving options newer releases accept in the same file (docs/upstream-versions.md sections 2, 6): the
 * serve schema in tensorrt_llm/commands adds them next to the LLM args and pops them before building those.
 */
const SERVE_ONLY_KEYS = ['internal_request_auth_key', 'allow_request_chat_template'] as const;

/** Fields that only TorchLlmArgs (the default `pytorch` backend) adds. */
const TORCH_ONLY_KEYS = [
  'build_config',
  'garbage_collection_gen0_threshold',
  'cuda_graph_config',
  'attention_dp_config',
  'disable_overlap_scheduler',
  'moe_config',
  'attn_backend',
  'sampler_type',
  'enable_iter_perf_stats',
  'enable_iter_req_stats',
  'print_iter_log',
  'perf_metrics_max_requests',
  'batch_wait_timeout_ms',
  'batch_wait_timeout_iters',
  'batch_wait_max_tokens_ratio',
  'torch_compile_config',
  'enable_autotuner',
  'enable_layerwise_nvtx_marker',
  'enable_min_latency',
  'stream_interval',
  'force_dynamic_quantization',
  'allreduce_strategy',
  'checkpoint_loader',
  'checkpoint_format',
  'kv_connector_config',
  'mm_encoder_only',
  'ray_worker_extension_cls',
  // A property with a setter on TorchLlmArgs rather than a field; YAMLs in the wild set it, so accept it.
  'quant_config',
] as const;

/**
 * Top-level keys accepted in a worker's options file: the TorchLlmArgs fields plus `disagg_cluster`, which
 * `trtllm-serve` pops out before building the LLM args (trtllm-protocol.md §2.2, §7.2).
 */
export const WORKER_OPTION_KEYS: readonly string[] = [
  ...BASE_LLM_ARGS_KEYS,
  ...TORCH_ONLY_KEYS,
  ...SERVE_ONLY_KEYS,
  'disagg_cluster',
];

/** KvCacheConfig fields (§2.3). */
export const KV_CACHE_CONFIG_KEYS: readonly string[] = [
  'enable_block_reuse',
  'max_tokens',
  'max_attention_window',
  'sink_token_length',
  'free_gpu_memory_fraction',
  'host_cache_size',
  'onboard_blocks',
  'cross_kv_cache_fraction',
  'secondary_offload_min_priority',
  'event_buffer_max_size',
  'attention_dp_events_gather_period_ms',
  'enable_partial_reuse',
  'copy_on_partial_reuse',
  'use_uvm',
  'max_gpu_total_bytes',
  'dtype',
  'mamba_ssm_cache_dtype',
  'tokens_per_block',
];

/** CacheTransceiverConfig fields (§2.1). */
export const CACHE_TRANSCEIVER_CONFIG_KEYS: readonly string[] = [
  'backend',
  'max_tokens_in_buffer',
  'kv_transfer_timeout_ms',
  // 2026 (docs/upstream-versions.md section 5; upstream test_configs/*transceiver_runtime_python.yaml and
  // examples/disaggregated/slurm/simple_example/ctx_extra-llm-api-config.yaml): CPP or PYTHON.
  'transceiver_runtime',
];

/**
 * Literal values of `cache_transceiver_config.backend` (uppercase; mid-2025 builds used lowercase). MOONCAKE
 * arrived in 1.2 (release notes: "Mooncake transfer engine as a cache transceiver backend").
 */
export const CACHE_TRANSCEIVER_BACKENDS = ['DEFAULT', 'UCX', 'NIXL', 'MPI', 'MOONCAKE'] as const;

/** `cache_transceiver_config.transceiver_runtime` values (2026). */
export const TRANSCEIVER_RUNTIMES = ['CPP', 'PYTHON'] as const;

/** CudaGraphConfig fields. */
export const CUDA_GRAPH_CONFIG_KEYS: readonly string[] = [
  'batch_sizes',
  'max_batch_size',
  'enable_padding',
];

/** MoeConfig fields. */
export const MOE_CONFIG_KEYS: readonly string[] = [
  'backend',
  'max_num_tokens',
  'load_balancer',
  'disable_finalize_fusion',
  'use_low_precision_moe_combine',
];

/** AttentionDpConfig fields. */
export const ATTENTION_DP_CONFIG_KEYS: readonly string[] = [
  'enable_balance',
  'timeout_iters',
  'batching_wait_iters',
];

/** TorchCompileConfig fields. */
export const TORCH_COMPILE_CONFIG_KEYS: readonly string[] = [
  'enable_fullgraph',
  'enable_inductor',
  'enable_piecewise_cuda_graph',
  'capture_num_tokens',
  'enable_userbuffers',
  'max_num_streams',
];

/** SchedulerConfig fields. */
export const SCHEDULER_CONFIG_KEYS: readonly string[] = [
  'capacity_scheduler_policy',
  'context_chunking_policy',
  'dynamic_batch_config',
];

/** Nested option sections whose keys are checked (all are strict pydantic models upstream). */
export const NESTED_OPTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  kv_cache_config: KV_CACHE_CONFIG_KEYS,
  cache_transceiver_config: CACHE_TRANSCEIVER_CONFIG_KEYS,
  cuda_graph_config: CUDA_GRAPH_CONFIG_KEYS,
  moe_config: MOE_CONFIG_KEYS,
  attention_dp_config: ATTENTION_DP_CONFIG_KEYS,
  torch_compile_config: TORCH_COMPILE_CONFIG_KEYS,
  scheduler_config: SCHEDULER_CONFIG_KEYS,
};

/** Section that owns `key` when it is written at the top level by mistake (e.g. `free_gpu_memory_fraction`). */
export function nestedSectionOf(key: string): string | undefined {
  // cuda_graph_config/moe_config share names with top-level fields (max_batch_size, backend...): skip them.
  for (const section of ['kv_cache_config', 'cache_transceiver_config'] as const) {
    if (NESTED_OPTION_KEYS[section]!.includes(key)) return section;
  }
  return undefined;
}

/**
 * Names from the old `pytorch_backend_config` (PyTorchConfig) that users still write at the top level, and where
 * the setting lives in TorchLlmArgs now (llm_args.py `get_pytorch_backend_config` maps them back).
 */
export const RENAMED_OPTION_HINTS: Readonly<Record<string, string>> = {
  enable_overlap_scheduler:
    'it is disable_overlap_scheduler now, with the opposite meaning: enable_overlap_scheduler: false is disable_overlap_scheduler: true',
  use_cuda_graph:
    'it is cuda_graph_config now: a mapping turns CUDA graphs on, null turns them off',
  cuda_graph_batch_sizes: 'it is cuda_graph_config.batch_sizes now',
  cuda_graph_max_batch_size: 'it is cuda_graph_config.max_batch_size now',
  cuda_graph_padding_enabled: 'it is cuda_graph_config.enable_padding now',
  kv_cache_dtype: 'it is kv_cache_config.dtype now',
  moe_backend: 'it is moe_config.backend now',
  moe_max_num_tokens: 'it is moe_config.max_num_tokens now',
  torch_compile_enabled: 'it is torch_compile_config now: a mapping turns torch.compile on',
};
