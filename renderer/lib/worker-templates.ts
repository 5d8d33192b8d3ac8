// Per-role `--extra_llm_api_options` templates offered when adding a worker (feature C2), following the
// minimal working pair of docs/trtllm-protocol.md 2.4 plus what the console's charts need (2.2:
// enable_iter_perf_stats for /metrics; 2.3: event_buffer_max_size for the kv_cache_aware router).
// Layer: renderer (pure).

import { isMap, parseDocument } from 'yaml';

import type { WorkerRole } from '../../shared/model/worker';

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

/** The YAML template for a role on `gpuCount` GPUs (tensor parallel over all of them, no pipeline split). */
export function workerOptionsTemplate(role: WorkerRole, gpuCount = 1): string {
  const parallel = [`tensor_parallel_size: ${gpuCount}`, 'pipeline_parallel_size: 1'];
  if (role === 'context') {
    return [
      '# Context worker: the overlap scheduler must be off for context-only requests (protocol 2.2).',
      'disable_overlap_scheduler: true',
      ...parallel,
      'max_batch_size: 8',
      'max_num_tokens: 8192',
      ...COMMON_OPTIONS,
    ].join('\n');
  }
  return [
    '# Generation worker: large batches, KV arrives from the context worker over UCX (protocol 2.4).',
    ...parallel,
    'max_batch_size: 256',
    'max_num_tokens: 512',
    ...COMMON_OPTIONS,
  ].join('\n');
}

/**
 * The options YAML with tensor_parallel_size and pipeline_parallel_size set (comments and other keys kept),
 * so the file agrees with the GPUs picked; the text unchanged when it is not a YAML mapping (its lint says why).
 */
export function withParallelism(optionsYaml: string, tpSize: number, ppSize: number): string {
  const doc = parseDocument(optionsYaml);
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) return optionsYaml;
  if (doc.get('tensor_parallel_size') === tpSize && doc.get('pipeline_parallel_size') === ppSize) {
    return optionsYaml;
  }
  doc.set('tensor_parallel_size', tpSize);
  doc.set('pipeline_parallel_size', ppSize);
  return doc.toString({ lineWidth: 0 });
}

/** Pipeline sizes that split `gpuCount` GPUs evenly (TP = gpuCount / PP). */
export function pipelineChoices(gpuCount: number): number[] {
  return Array.from({ length: gpuCount }, (_, i) => i + 1).filter((pp) => gpuCount % pp === 0);
}

/** The default name for the next worker of a role: ctx0, ctx1 ... not already taken. */
export function nextWorkerName(role: WorkerRole, taken: readonly string[]): string {
  const prefix = role === 'context' ? 'ctx' : 'gen';
  for (let i = 0; ; i += 1) if (!taken.includes(`${prefix}${i}`)) return `${prefix}${i}`;
}

export type PresetName = '1+1' | '2+1' | '1+2';

/** Presets (feature C6): how many context and generation workers, one GPU each. */
export const PRESETS: Record<PresetName, { context: number; generation: number }> = {
  '1+1': { context: 1, generation: 1 },
  '2+1': { context: 2, generation: 1 },
  '1+2': { context: 1, generation: 2 },
};

/** Assigns free GPUs to a preset, context workers first; null when there are not enough free GPUs. */
export function planPreset(
  preset: PresetName,
  freeGpus: readonly number[],
): { role: WorkerRole; gpus: number[] }[] | null {
  const { context, generation } = PRESETS[preset];
  if (freeGpus.length < context + generation) return null;
  const sorted = [...freeGpus].sort((a, b) => a - b);
  const out: { role: WorkerRole; gpus: number[] }[] = [];
  let next = 0;
  for (let i = 0; i < context; i += 1) out.push({ role: 'context', gpus: [sorted[next++]!] });
  for (let i = 0; i < generation; i += 1) out.push({ role: 'generation', gpus: [sorted[next++]!] });
  return out;
}
