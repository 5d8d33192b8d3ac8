// Validation of a worker's `--extra_llm_api_options` YAML (TorchLlmArgs, trtllm-protocol.md §2), also used for
// the LLM args inside the deprecated single-file `disaggregated_mpi_worker` format (§1.3). Layer: shared (pure).

import type { Document } from 'yaml';

import type {
  CacheTransceiverBackend,
  DisaggConfig,
  KvCacheConfig,
  WorkerOptions,
} from '../model/config';
import type { IssueSink, ParseResult } from './config-checks';
import {
  checkBool,
  checkEnum,
  checkInt,
  checkKnownKeys,
  checkMapping,
  checkNumber,
  checkString,
  createIssueSink,
  deepEqual,
  describeValue,
  isPlainObject,
  parseYamlFile,
  sortIssues,
} from './config-checks';
import { validateDisaggCluster } from './config-cluster';
import type { ConfigIssue } from './config-issues';
import { closestKey } from './config-suggest';
import {
  CACHE_TRANSCEIVER_BACKENDS,
  NESTED_OPTION_KEYS,
  nestedSectionOf,
  RENAMED_OPTION_HINTS,
  TRANSCEIVER_RUNTIMES,
  WORKER_OPTION_KEYS,
} from './worker-option-keys';
import type { ConfigPath } from './yaml-locate';
import { documentSource, findPath, locatePath } from './yaml-locate';

/** How one field is checked. Only fields with a known type are checked; the rest pass through. */
type FieldSpec =
  | { kind: 'bool' }
  | { kind: 'int'; min?: number; max?: number; nullable?: boolean }
  | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean; nullable?: boolean }
  | { kind: 'string'; nullable?: boolean }
  | { kind: 'enum'; values: readonly string[]; nullable?: boolean }
  | { kind: 'intList'; min: number; nullable?: boolean }
  | {
      kind: 'mapping';
      nullable?: boolean;
      section?: string;
      fields?: Readonly<Record<string, FieldSpec>>;
    };

const BOOL: FieldSpec = { kind: 'bool' };
const POSITIVE_INT: FieldSpec = { kind: 'int', min: 1 };
const OPTIONAL_POSITIVE_INT: FieldSpec = { kind: 'int', min: 1, nullable: true };
const NON_NEGATIVE_INT: FieldSpec = { kind: 'int', min: 0 };
const OPTIONAL_NON_NEGATIVE_INT: FieldSpec = { kind: 'int', min: 0, nullable: true };
const FRACTION: FieldSpec = { kind: 'number', min: 0, max: 1, nullable: true };
const STRING: FieldSpec = { kind: 'string' };
const OPTIONAL_STRING: FieldSpec = { kind: 'string', nullable: true };
const OPTIONAL_MAPPING: FieldSpec = { kind: 'mapping', nullable: true };
// MoE sizes default to None, which upstream turns into -1 ("derive it").
const MOE_SIZE: FieldSpec = { kind: 'int', min: -1, nullable: true };

const KV_CACHE_FIELDS: Readonly<Record<string, FieldSpec>> = {
  enable_block_reuse: BOOL,
  max_tokens: OPTIONAL_POSITIVE_INT,
  max_attention_window: { kind: 'intList', min: 1, nullable: true },
  sink_token_length: OPTIONAL_NON_NEGATIVE_INT,
  free_gpu_memory_fraction: FRACTION,
  host_cache_size: OPTIONAL_NON_NEGATIVE_INT,
  onboard_blocks: BOOL,
  cross_kv_cache_fraction: FRACTION,
  secondary_offload_min_priority: { kind: 'int', nullable: true },
  // Must be > 0 (e.g. 1024) for /kv_cache_events and the kv_cache_aware router (§2.3); 0 is valid but off.
  event_buffer_max_size: NON_NEGATIVE_INT,
  attention_dp_events_gather_period_ms: NON_NEGATIVE_INT,
  enable_partial_reuse: BOOL,
  copy_on_partial_reuse: BOOL,
  use_uvm: BOOL,
  max_gpu_total_bytes: NON_NEGATIVE_INT,
  dtype: STRING,
  mamba_ssm_cache_dtype: { kind: 'enum', values: ['auto', 'float16', 'bfloat16', 'float32'] },
  tokens_per_block: POSITIVE_INT,
};

const CACHE_TRANSCEIVER_FIELDS: Readonly<Record<string, FieldSpec>> = {
  // `backend` has its own check (case handling), see checkTransceiverBackend.
  max_tokens_in_buffer: OPTIONAL_POSITIVE_INT,
  kv_transfer_timeout_ms: OPTIONAL_POSITIVE_INT,
  transceiver_runtime: { kind: 'enum', values: TRANSCEIVER_RUNTIMES, nullable: true },
};

const CUDA_GRAPH_FIELDS: Readonly<Record<string, FieldSpec>> = {
  batch_sizes: { kind: 'intList', min: 1, nullable: true },
  max_batch_size: NON_NEGATIVE_INT,
  enable_padding: BOOL,
};

const MOE_FIELDS: Readonly<Record<string, FieldSpec>> = {
  backend: STRING,
  max_num_tokens: OPTIONAL_POSITIVE_INT,
  disable_finalize_fusion: BOOL,
  use_low_precision_moe_combine: BOOL,
};

const ATTENTION_DP_FIELDS: Readonly<Record<string, FieldSpec>> = {
  enable_balance: BOOL,
  timeout_iters: { kind: 'int' },
  batching_wait_iters: { kind: 'int' },
};

const TORCH_COMPILE_FIELDS: Readonly<Record<string, FieldSpec>> = {
  enable_fullgraph: BOOL,
  enable_inductor: BOOL,
  enable_piecewise_cuda_graph: BOOL,
  capture_num_tokens: { kind: 'intList', min: 1, nullable: true },
  enable_userbuffers: BOOL,
  max_num_streams: POSITIVE_INT,
};

const SCHEDULER_FIELDS: Readonly<Record<string, FieldSpec>> = {
  capacity_scheduler_policy: {
    kind: 'enum',
    values: ['MAX_UTILIZATION', 'GUARANTEED_NO_EVICT', 'STATIC_BATCH'],
  },
  context_chunking_policy: {
    kind: 'enum',
    values: ['FIRST_COME_FIRST_SERVED', 'EQUAL_PROGRESS'],
    nullable: true,
  },
  dynamic_batch_config: OPTIONAL_MAPPING,
};

/** Checks of the top-level TorchLlmArgs fields (§2.1-2.3); fields not listed are accepted as any value. */
const TOP_LEVEL_FIELDS: Readonly<Record<string, FieldSpec>> = {
  model: STRING,
  tokenizer: OPTIONAL_STRING,
  tokenizer_mode: { kind: 'enum', values: ['auto', 'slow'] },
  skip_tokenizer_init: BOOL,
  trust_remote_code: BOOL,
  tensor_parallel_size: POSITIVE_INT,
  pipeline_parallel_size: POSITIVE_INT,
  context_parallel_size: POSITIVE_INT,
  gpus_per_node: OPTIONAL_POSITIVE_INT,
  moe_cluster_parallel_size: MOE_SIZE,
  moe_tensor_parallel_size: MOE_SIZE,
  moe_expert_parallel_size: MOE_SIZE,
  enable_attention_dp: BOOL,
  enable_lm_head_tp_in_adp: BOOL,
  fail_fast_on_attention_window_too_large: BOOL,
  enable_lora: BOOL,
  kv_cache_config: { kind: 'mapping', section: 'kv_cache_config', fields: KV_CACHE_FIELDS },
  enable_chunked_prefill: BOOL,
  guided_decoding_backend: { kind: 'enum', values: ['xgrammar', 'llguidance'], nullable: true },
  iter_stats_max_iterations: OPTIONAL_NON_NEGATIVE_INT,
  request_stats_max_iterations: OPTIONAL_NON_NEGATIVE_INT,
  scheduler_config: { kind: 'mapping', section: 'scheduler_config', fields: SCHEDULER_FIELDS },
  cache_transceiver_config: {
    kind: 'mapping',
    nullable: true,
    section: 'cache_transceiver_config',
    fields: CACHE_TRANSCEIVER_FIELDS,
  },
  speculative_config: OPTIONAL_MAPPING,
  lora_config: OPTIONAL_MAPPING,
  peft_cache_config: OPTIONAL_MAPPING,
  sparse_attention_config: OPTIONAL_MAPPING,
  max_batch_size: OPTIONAL_POSITIVE_INT,
  max_input_len: OPTIONAL_POSITIVE_INT,
  max_seq_len: OPTIONAL_POSITIVE_INT,
  max_beam_width: OPTIONAL_POSITIVE_INT,
  max_num_tokens: OPTIONAL_POSITIVE_INT,
  gather_generation_logits: BOOL,
  num_postprocess_workers: NON_NEGATIVE_INT,
  postprocess_tokenizer_dir: OPTIONAL_STRING,
  reasoning_parser: OPTIONAL_STRING,
  backend: OPTIONAL_STRING,
  return_perf_metrics: BOOL,
  orchestrator_type: { kind: 'enum', values: ['rpc', 'ray'], nullable: true },
  garbage_collection_gen0_threshold: { kind: 'int' },
  cuda_graph_config: {
    kind: 'mapping',
    nullable: true,
    section: 'cuda_graph_config',
    fields: CUDA_GRAPH_FIELDS,
  },
  attention_dp_config: {
    kind: 'mapping',
    nullable: true,
    section: 'attention_dp_config',
    fields: ATTENTION_DP_FIELDS,
  },
  disable_overlap_scheduler: BOOL,
  moe_config: { kind: 'mapping', section: 'moe_config', fields: MOE_FIELDS },
  attn_backend: STRING,
  sampler_type: { kind: 'enum', values: ['TRTLLMSampler', 'TorchSampler', 'auto'] },
  enable_iter_perf_stats: BOOL,
  enable_iter_req_stats: BOOL,
  print_iter_log: BOOL,
  perf_metrics_max_requests: NON_NEGATIVE_INT,
  batch_wait_timeout_ms: { kind: 'number', min: 0 },
  batch_wait_timeout_iters: NON_NEGATIVE_INT,
  batch_wait_max_tokens_ratio: { kind: 'number', min: 0, max: 1 },
  torch_compile_config: {
    kind: 'mapping',
    nullable: true,
    section: 'torch_compile_config',
    fields: TORCH_COMPILE_FIELDS,
  },
  enable_autotuner: BOOL,
  enable_layerwise_nvtx_marker: BOOL,
  enable_min_latency: BOOL,
  stream_interval: POSITIVE_INT,
  force_dynamic_quantization: BOOL,
  allreduce_strategy: {
    kind: 'enum',
    values: [
      'AUTO',
      'NCCL',
      'UB',
      'MINLATENCY',
      'ONESHOT',
      'TWOSHOT',
      'LOWPRECISION',
      'MNNVL',
      'NCCL_SYMMETRIC',
    ],
    nullable: true,
  },
  checkpoint_format: OPTIONAL_STRING,
  kv_connector_config: OPTIONAL_MAPPING,
  mm_encoder_only: BOOL,
  ray_worker_extension_cls: OPTIONAL_STRING,
  // Serving options of 1.3 (docs/upstream-versions.md sections 2 and 6).
  internal_request_auth_key: OPTIONAL_STRING,
  allow_request_chat_template: BOOL,
};

const FORBID_WHY =
  'TensorRT-LLM rejects unknown keys (its config models forbid extra fields), so the worker would not start';

/**
 * Why an unknown key is only a warning: releases keep adding options (docs/upstream-versions.md), so a key this
 * console does not know may be valid for the user's release; one that is not stops the worker at startup.
 */
const UNKNOWN_WHY =
  'not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start';

function checkField(sink: IssueSink, path: ConfigPath, v: unknown, spec: FieldSpec): void {
  if ((v === null || v === undefined) && 'nullable' in spec && spec.nullable) return;
  switch (spec.kind) {
    case 'bool':
      checkBool(sink, path, v);
      return;
    case 'int':
      checkInt(sink, path, v, spec);
      return;
    case 'number':
      checkNumber(sink, path, v, spec);
      return;
    case 'string':
      checkString(sink, path, v);
      return;
    case 'enum':
      checkEnum(sink, path, v, spec.values);
      return;
    case 'intList':
      if (!Array.isArray(v) || v.length === 0) {
        sink.error(path, `must be a non-empty list of integers, got ${describeValue(v)}`);
        return;
      }
      v.forEach((item, i) => checkInt(sink, [...path, i], item, { min: spec.min }));
      return;
    case 'mapping': {
      const obj = checkMapping(sink, path, v);
      if (!obj) return;
      if (spec.section !== undefined) {
        const known = NESTED_OPTION_KEYS[spec.section] ?? [];
        checkKnownKeys(sink, path, obj, known, UNKNOWN_WHY, 'warning');
      }
      for (const [key, sub] of Object.entries(spec.fields ?? {})) {
        if (key in obj) checkField(sink, [...path, key], obj[key], sub);
      }
      return;
    }
  }
}

/** Returns the backend to store (uppercase) or undefined when invalid. */
function checkTransceiverBackend(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') {
    sink.error(
      path,
      `must be one of ${CACHE_TRANSCEIVER_BACKENDS.join(', ')}, got ${describeValue(v)}`,
    );
    return undefined;
  }
  const upper = v.toUpperCase();
  if (!(CACHE_TRANSCEIVER_BACKENDS as readonly string[]).includes(upper)) {
    sink.error(
      path,
      `must be one of ${CACHE_TRANSCEIVER_BACKENDS.join(', ')}, got ${JSON.stringify(v)}`,
    );
    return undefined;
  }
  if (upper !== v) {
    // Mid-2025 builds used lowercase literals; the Oct 2025 model is uppercase (protocol §2.1).
    sink.warn(
      path,
      `"${v}" is the mid-2025 lowercase spelling; current TensorRT-LLM expects uppercase`,
      `write ${upper}`,
    );
  }
  if (upper === 'MPI') {
    sink.warn(path, 'the MPI transceiver backend is deprecated upstream', 'use UCX or NIXL');
  }
  return upper;
}

export interface WorkerOptionsCheckOptions {
  /** The worker's `--disagg_cluster_uri`, which supplies/overrides `disagg_cluster.cluster_uri`. */
  disaggClusterUri?: string;
}

/**
 * Validates a worker options mapping at `path` of the sink's document and returns the typed options
 * (backend upper-cased, `disagg_cluster` parsed), or undefined when it is not a mapping.
 */
export function validateWorkerOptions(
  sink: IssueSink,
  path: ConfigPath,
  value: unknown,
  opts: WorkerOptionsCheckOptions = {},
): WorkerOptions | undefined {
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    sink.error(path, `must be a mapping of option names to values, got ${describeValue(value)}`);
    return undefined;
  }
  const out: WorkerOptions = { ...value };
  for (const [key, v] of Object.entries(value)) {
    const keyPath = [...path, key];
    if (key === 'pytorch_backend_config') {
      sink.error(
        keyPath,
        'pytorch_backend_config no longer exists in TensorRT-LLM; its options are top-level keys now',
        'move disable_overlap_scheduler and the other keys under it to the top level',
      );
      continue;
    }
    if (!WORKER_OPTION_KEYS.includes(key)) {
      const renamed = RENAMED_OPTION_HINTS[key];
      const section = nestedSectionOf(key);
      const guess =
        section !== undefined ? `${section}.${key}` : closestKey(key, WORKER_OPTION_KEYS);
      if (renamed !== undefined) {
        sink.error(keyPath, `unknown option "${key}": ${FORBID_WHY}`, renamed);
      } else {
        sink.warn(
          keyPath,
          `unknown option "${key}": ${UNKNOWN_WHY}`,
          guess ? `did you mean ${guess}?` : undefined,
        );
      }
      continue;
    }
    const spec = TOP_LEVEL_FIELDS[key];
    if (spec) checkField(sink, keyPath, v, spec);
  }

  const ctc = value.cache_transceiver_config;
  if (isPlainObject(ctc) && 'backend' in ctc) {
    const backend = checkTransceiverBackend(
      sink,
      [...path, 'cache_transceiver_config', 'backend'],
      ctc.backend,
    );
    if (backend) {
      out.cache_transceiver_config = {
        ...ctc,
        backend: backend as CacheTransceiverBackend,
      };
    }
  }

  // Popped by serve.py before the LLM args are built (§7.2). An empty section is falsy and ignored upstream.
  if ('disagg_cluster' in value) {
    const dc = value.disagg_cluster;
    const empty = dc === null || (isPlainObject(dc) && Object.keys(dc).length === 0);
    if (empty) {
      delete out.disagg_cluster;
      sink.warn([...path, 'disagg_cluster'], 'an empty disagg_cluster section is ignored');
    } else {
      const parsed = validateDisaggCluster(
        sink,
        [...path, 'disagg_cluster'],
        dc,
        opts.disaggClusterUri,
      );
      if (parsed) out.disagg_cluster = parsed;
      else delete out.disagg_cluster;
    }
  }
  return out;
}

/** Parses a worker's `--extra_llm_api_options` YAML. An empty file is an empty mapping (all defaults). */
export function parseWorkerOptions(
  text: string,
  file: string,
  opts: WorkerOptionsCheckOptions = {},
): ParseResult<WorkerOptions> {
  return parseYamlFile(text, file, (sink, root) => validateWorkerOptions(sink, [], root, opts));
}

/** Section keys of disagg_config.yaml that are not LLM args (they configure the proxy's view of the role). */
const NON_LLM_SECTION_KEYS = new Set(['num_instances', 'urls', 'router']);

/** The LLM args of one `disaggregated_mpi_worker` section (§1.3): everything but num_instances/urls/router. */
function mpiSectionArgs(section: DisaggConfig['context_servers']): WorkerOptions {
  const args: WorkerOptions = {};
  for (const [key, v] of Object.entries(section.other)) {
    if (!NON_LLM_SECTION_KEYS.has(key)) args[key] = v;
  }
  if (section.max_batch_size !== undefined) args.max_batch_size = section.max_batch_size;
  if (section.max_num_tokens !== undefined) args.max_num_tokens = section.max_num_tokens;
  if (section.tensor_parallel_size !== 1) args.tensor_parallel_size = section.tensor_parallel_size;
  if (section.pipeline_parallel_size !== 1) {
    args.pipeline_parallel_size = section.pipeline_parallel_size;
  }
  return args;
}

/**
 * Splits a deprecated single-file `disaggregated_mpi_worker` config into per-role worker options, checking
 * the LLM args with the worker-option rules. With `source`, issues point into that file (a key copied from
 * the top level is located there); a URL listed in both roles must have identical LLM args (upstream's
 * "mixed server" rule).
 */
export function extractMpiWorkerOptions(
  config: DisaggConfig,
  source?: { file: string; document: Document },
): { context: WorkerOptions; generation: WorkerOptions; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const file = source?.file ?? 'disagg_config.yaml';
  const lineCounter = source ? documentSource(source.document)?.lineCounter : undefined;
  const locate = (p: ConfigPath) =>
    source && lineCounter ? locatePath(source.document, lineCounter, p) : { line: 1, column: 1 };
  const result: Partial<Record<'context_servers' | 'generation_servers', WorkerOptions>> = {};
  for (const role of ['context_servers', 'generation_servers'] as const) {
    const mapPath = (p: ConfigPath): ConfigPath => {
      if (!source || p.length === 0) return [role, ...p];
      const inSection = findPath(source.document, [role, p[0]!]).found;
      return inSection ? [role, ...p] : p;
    };
    const sink = createIssueSink(file, locate, mapPath);
    const args = mpiSectionArgs(config[role]);
    // disaggregated_mpi_worker calls get_llm_args(**section): `model` is its required positional argument and
    // `free_gpu_memory_fraction` one of its CLI-style parameters (it builds kv_cache_config from it, and a
    // kv_cache_config in the section then replaces that object whole).
    if (args.model === undefined) {
      sink.error(
        [],
        'model is required for disaggregated_mpi_worker (write it at the top level or in the section)',
      );
    }
    if ('free_gpu_memory_fraction' in args) {
      const fraction = args.free_gpu_memory_fraction;
      delete args.free_gpu_memory_fraction;
      checkField(sink, ['free_gpu_memory_fraction'], fraction, FRACTION);
      const kv = args.kv_cache_config;
      if (kv === undefined || kv === null) {
        args.kv_cache_config = { free_gpu_memory_fraction: fraction } as KvCacheConfig;
      } else if (isPlainObject(kv) && !('free_gpu_memory_fraction' in kv)) {
        sink.warn(
          ['free_gpu_memory_fraction'],
          'has no effect: the kv_cache_config mapping replaces it, so the KV cache uses the default fraction 0.9',
          'set kv_cache_config.free_gpu_memory_fraction instead',
        );
      }
    }
    result[role] = validateWorkerOptions(sink, [], args) ?? {};
    issues.push(...sink.issues);
  }
  const context = result.context_servers ?? {};
  const generation = result.generation_servers ?? {};
  const genUrls = config.generation_servers.urls;
  config.context_servers.urls.forEach((url) => {
    const i = genUrls.indexOf(url);
    if (i >= 0 && !deepEqual(context, generation)) {
      const at = locate(['generation_servers', 'urls', i]);
      issues.push({
        file,
        line: at.line,
        column: at.column,
        path: `generation_servers.urls[${i}]`,
        message: `${url} is listed in both roles but the two sections have different LLM args; a mixed server needs identical args`,
        severity: 'error',
      });
    }
  });
  return { context, generation, issues: sortIssues(issues) };
}
