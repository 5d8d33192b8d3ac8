// The simulated GPU inventory for machines without nvidia-smi: count and model set by the user, samples that
// move with the simulated workers' load, always flagged `simulated: true`. Layer: core.
import type {
  GpuHolder,
  GpuInfo,
  GpuLink,
  GpuSample,
  GpuTopology,
} from '../../../shared/model/gpu';

export const DEFAULT_SIMULATED_MODEL = 'NVIDIA H100 80GB HBM3';
export const DEFAULT_SIMULATED_COUNT = 4;

interface ModelFacts {
  memoryTotalMiB: number;
  powerLimitW: number;
  idlePowerW: number;
  maxSmClockMHz: number;
  computeCap: string;
  architecture: string;
  /** NVLinks between two GPUs of a board (NV#), null for PCIe-only cards. */
  nvlinks: number | null;
}

// Numbers as nvidia-smi reports them for these boards (H100 from tests/fixtures/nvidia-smi/h100-x1).
const MODELS: Record<string, ModelFacts> = {
  'NVIDIA H100 80GB HBM3': {
    memoryTotalMiB: 81559,
    powerLimitW: 700,
    idlePowerW: 70,
    maxSmClockMHz: 1980,
    computeCap: '9.0',
    architecture: 'Hopper',
    nvlinks: 18,
  },
  'NVIDIA H200': {
    memoryTotalMiB: 143771,
    powerLimitW: 700,
    idlePowerW: 75,
    maxSmClockMHz: 1980,
    computeCap: '9.0',
    architecture: 'Hopper',
    nvlinks: 18,
  },
  'NVIDIA B200': {
    memoryTotalMiB: 183359,
    powerLimitW: 1000,
    idlePowerW: 140,
    maxSmClockMHz: 1965,
    computeCap: '10.0',
    architecture: 'Blackwell',
    nvlinks: 18,
  },
  'NVIDIA A100-SXM4-80GB': {
    memoryTotalMiB: 81920,
    powerLimitW: 400,
    idlePowerW: 55,
    maxSmClockMHz: 1410,
    computeCap: '8.0',
    architecture: 'Ampere',
    nvlinks: 12,
  },
  'NVIDIA L40S': {
    memoryTotalMiB: 46068,
    powerLimitW: 350,
    idlePowerW: 35,
    maxSmClockMHz: 2520,
    computeCap: '8.9',
    architecture: 'Ada Lovelace',
    nvlinks: null,
  },
};

const facts = (model: string): ModelFacts =>
  MODELS[model] ?? (MODELS[DEFAULT_SIMULATED_MODEL] as ModelFacts);

export function simulatedGpus(count: number, model: string): GpuInfo[] {
  const f = facts(model);
  return Array.from({ length: count }, (_, index) => ({
    index,
    uuid: `GPU-51300000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    name: model,
    pciBusId: `00000000:${(0x18 + index * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
    memoryTotalMiB: f.memoryTotalMiB,
    powerLimitW: f.powerLimitW,
    maxSmClockMHz: f.maxSmClockMHz,
    driverVersion: null,
    computeCap: f.computeCap,
    architecture: f.architecture,
    simulated: true,
  }));
}

/** NVLink between every pair for SXM boards; PCIe cards split over two NUMA nodes. */
export function simulatedTopology(count: number, model: string): GpuTopology {
  const f = facts(model);
  const devices = Array.from({ length: count }, (_, i) => `GPU${i}`);
  const links: GpuTopology['links'] = {};
  const half = Math.max(1, Math.ceil(count / 2));
  devices.forEach((row, i) => {
    const r: Record<string, GpuLink> = {};
    devices.forEach((col, j) => {
      if (i === j) r[col] = { kind: 'self', nvlinkCount: null, raw: 'X' };
      else if (f.nvlinks !== null) {
        r[col] = { kind: 'nvlink', nvlinkCount: f.nvlinks, raw: `NV${f.nvlinks}` };
      } else if (Math.floor(i / half) === Math.floor(j / half)) {
        r[col] = { kind: 'node', nvlinkCount: null, raw: 'NODE' };
      } else r[col] = { kind: 'sys', nvlinkCount: null, raw: 'SYS' };
    });
    links[row] = r;
  });
  return {
    devices,
    links,
    gpus: devices.map((device, index) => ({
      device,
      index,
      cpuAffinity: null,
      numaAffinity: String(Math.floor(index / half)),
      gpuNumaId: null,
    })),
    nicNames: {},
  };
}

/**
 * One plausible reading: a GPU held by a worker has its memory taken (weights + KV cache, as trtllm-serve's
 * free_gpu_memory_fraction 0.9 would), utilization, power, clock and temperature follow `load` (0..1), with a
 * small deterministic wobble so charts move.
 */
export function simulatedSample(
  gpu: GpuInfo,
  holders: GpuHolder[],
  load: number,
  atMs: number,
): GpuSample {
  const f = facts(gpu.name);
  const wobble = Math.sin(atMs / 1700 + gpu.index * 1.3);
  const l = Math.min(1, Math.max(0, load));
  const held = holders.length > 0;
  const util = held ? Math.round(Math.min(100, Math.max(0, l * 95 + (l > 0 ? 3 * wobble : 0)))) : 0;
  const memoryUsedMiB = held
    ? Math.round(f.memoryTotalMiB * 0.9 + (l * 0.02 + 0.005 * wobble) * f.memoryTotalMiB)
    : 0;
  const powerDrawW =
    Math.round(
      (f.idlePowerW + (f.powerLimitW - f.idlePowerW) * (util / 100) * 0.9 + 2 * wobble) * 100,
    ) / 100;
  return {
    index: gpu.index,
    atMs,
    memoryUsedMiB: Math.min(memoryUsedMiB, f.memoryTotalMiB),
    memoryTotalMiB: f.memoryTotalMiB,
    utilizationPct: util,
    memoryUtilizationPct: Math.round(util * 0.6),
    temperatureC: Math.round(30 + util * 0.4 + wobble),
    powerDrawW,
    powerLimitW: f.powerLimitW,
    smClockMHz: util > 0 ? f.maxSmClockMHz : held ? Math.round(f.maxSmClockMHz * 0.9) : 345,
  };
}
