// GPU inventory (feature C1): the snapshot from gpus:list, live samples from gpus:sampled, the user's GPU
// selection for adding a worker (several GPUs = tensor parallel). Layer: renderer.

import { TimeSeries } from '../../shared/logic/series';
import { describeError } from '../lib/error-text';
import type { GpusSlice, SliceCreator } from './store-types';

/** One hour of 1 s GPU samples per GPU. */
export const GPU_HISTORY_POINTS = 3600;

export const createGpusSlice: SliceCreator<GpusSlice> = (set, get, { api }) => ({
  inventory: null,
  gpusError: null,
  selectedGpus: [],
  loadGpus: async () => {
    try {
      const inventory = await api.invoke('gpus:list');
      set({ inventory, gpusError: null });
      for (const s of inventory.samples) get().applyGpuSamples([s], s.atMs);
    } catch (err) {
      set({ gpusError: describeError(err) });
    }
  },
  applyGpuSamples: (samples, atMs) => {
    const { inventory, series } = get();
    for (const s of samples) {
      let ring = series.gpus.get(s.index);
      if (!ring) {
        ring = new TimeSeries(GPU_HISTORY_POINTS);
        series.gpus.set(s.index, ring);
      }
      ring.push(s);
    }
    if (!inventory) {
      set({ metricsVersion: get().metricsVersion + 1 });
      return;
    }
    const byIndex = new Map(inventory.samples.map((s) => [s.index, s]));
    for (const s of samples) byIndex.set(s.index, s);
    const merged = inventory.gpus.map((g) => byIndex.get(g.index)).filter((s) => s !== undefined);
    set({
      inventory: { ...inventory, samples: merged, sampledAtMs: atMs },
      metricsVersion: get().metricsVersion + 1,
    });
  },
  selectGpu: (index, isAdditive) => {
    const current = get().selectedGpus;
    if (!isAdditive) {
      set({ selectedGpus: current.length === 1 && current[0] === index ? [] : [index] });
      return;
    }
    const next = current.includes(index)
      ? current.filter((i) => i !== index)
      : [...current, index].sort((a, b) => a - b);
    set({ selectedGpus: next });
  },
  clearGpuSelection: () => set({ selectedGpus: [] }),
});
