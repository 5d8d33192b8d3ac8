// Add-worker helpers of the renderer: presets (feature C6) and their GPU plan; re-exports the per-role
// options template and the default worker name from shared/logic. Layer: renderer (pure).

import type { WorkerRole } from '../../shared/model/worker';

// The template and the default name have one home in shared/logic (the backend uses the same ones).
export { nextWorkerName } from '../../shared/logic/worker-allocation';
export { workerOptionsTemplate } from '../../shared/logic/worker-template';

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
