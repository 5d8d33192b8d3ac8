// The one `--extra_llm_api_options` template per role (feature C2): what the Add-worker panel offers, what
// workers:add writes when the request brings no options, what the planner's apply and the demo write.
// Following the minimal working pair of docs/trtllm-protocol.md 2.4, plus what the console's charts need
// (2.2: enable_iter_perf_stats for /metrics; 2.3: event_buffer_max_size for the kv_cache_aware router).
// Layer: shared (pure).

import type { WorkerRole } from '../model/worker';

// The lines both roles share (iteration stats for /metrics, the UCX KV transceiver, KV events for the
// router), written once so the two templates cannot drift apart.
const COMMON_OPTIONS: readonly string[] = [
  'enable_iter_perf_stats: true',
  'cache_transceiver_config:',
  '  backend: UCX',
  '  max_tokens_in_buffer: 8192',
  'kv_cache_config:',
  '  free_gpu_memory_fraction: 0.85',
  '  event_buffer_max_size: 1024',
  '',
];

/** The YAML template for a role. */
export function workerOptionsTemplate(role: WorkerRole): string {
  if (role === 'context') {
    return [
      '# Context worker: the overlap scheduler must be off for context-only requests (protocol 2.2).',
      'disable_overlap_scheduler: true',
      'max_batch_size: 8',
      'max_num_tokens: 8192',
      ...COMMON_OPTIONS,
    ].join('\n');
  }
  return [
    '# Generation worker: large batches, KV arrives from the context worker over UCX (protocol 2.4).',
    'max_batch_size: 256',
    'max_num_tokens: 512',
    ...COMMON_OPTIONS,
  ].join('\n');
}

/** The model a worker gets when nothing says otherwise (the demo, a planner layout on an empty topology). */
export const DEFAULT_MODEL_ID = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
