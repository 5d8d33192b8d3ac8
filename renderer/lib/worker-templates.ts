// Add-worker helpers of the renderer: presets (feature C6) and their GPU plan, the tensor/pipeline split
// written into the options; re-exports the per-role options template and the default worker name from
// shared/logic. Layer: renderer (pure).

import { isMap, parseDocument } from 'yaml';

import type { WorkerEngine, WorkerRole } from '../../shared/model/worker';

// The template and the default name have one home in shared/logic (the backend uses the same ones).
export { nextWorkerName } from '../../shared/logic/worker-allocation';
export { workerOptionsTemplate } from '../../shared/logic/worker-template';

/** The engines a worker can run, as the forms offer them (settings, add worker, presets). */
export const ENGINE_CHOICES: readonly { value: WorkerEngine }[] = [
  { value: 'trtllm-serve' },
  { value: 'simulated' },
];

/**
 * The options YAML with tensor_parallel_size and pipeline_parallel_size set (comments and other keys kept),
 * so the file agrees with the GPUs picked (the YAML wins over --tp_size); the text unchanged when it is not a
 * YAML mapping (its lint says why).
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
