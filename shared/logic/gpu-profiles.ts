// GPU profiles for the simulated engine's timing model: memory, bandwidth, compute and the default KV link of
// common data-centre and workstation GPUs, plus custom profiles from numbers. Layer: shared (pure data).
//
// Figures are public spec-sheet numbers (NVIDIA product pages / datasheets), dense (no sparsity):
//   H100 SXM5 80GB HBM3: 3.35 TB/s, ~989 TFLOPS BF16, NVLink 4 900 GB/s total (450 GB/s per direction).
//   H200 SXM 141GB HBM3e: 4.8 TB/s, ~989 TFLOPS BF16 (same Hopper die), NVLink 900 GB/s.
//   A100 SXM4 80GB HBM2e: 2.039 TB/s, 312 TFLOPS BF16, NVLink 3 600 GB/s total (300 per direction).
//   L40S 48GB GDDR6: 864 GB/s, ~362 TFLOPS BF16, PCIe Gen4 x16 only (~32 GB/s per direction; ~25 achieved).
//   RTX 4090 24GB GDDR6X: 1008 GB/s, ~165 TFLOPS FP16/BF16 tensor, PCIe Gen4 x16 only.
// Memory sizes are what nvidia-smi reports as memory.total (MiB), so capacity maths matches a real box.
// The KV link default is the per-direction GPU-to-GPU bandwidth a transfer can expect on one machine.

const MIB = 1024 * 1024;

export type GpuProfileId = 'h100' | 'h200' | 'a100' | 'l40s' | 'rtx4090';

export type GpuInterconnect = 'nvlink' | 'pcie';

export interface GpuProfile {
  id: GpuProfileId | 'custom';
  /** As nvidia-smi names it, e.g. "NVIDIA H100 80GB HBM3". */
  name: string;
  memoryBytes: number;
  /** Device memory bandwidth (HBM or GDDR), GB/s (10^9 bytes/s). */
  memoryBandwidthGBps: number;
  /** Dense BF16 tensor throughput, TFLOPS. */
  denseBf16Tflops: number;
  /**
   * Prefill throughput of the reference model (8B dense, BF16, TP1), tokens/s, at moderate prompt lengths.
   * Derived from the compute figure at PREFILL_MFU unless a custom profile gives it.
   */
  prefillTokensPerSec8B: number;
  interconnect: GpuInterconnect;
  /** Default bandwidth for KV-cache transfer between two GPUs of one machine, GB/s per direction. */
  kvLinkGBps: number;
}

/** Model FLOPs utilisation assumed for prefill (large GEMMs; 40-55% is what tuned engines report). */
export const PREFILL_MFU = 0.5;
/** FLOPs per token of the 8B reference model's linear layers: 2 x parameters. */
export const REFERENCE_8B_FLOPS_PER_TOKEN = 2 * 8.03e9;

function prefillFromTflops(tflops: number): number {
  return Math.round((tflops * 1e12 * PREFILL_MFU) / REFERENCE_8B_FLOPS_PER_TOKEN);
}

function profile(p: Omit<GpuProfile, 'prefillTokensPerSec8B'>): GpuProfile {
  return { ...p, prefillTokensPerSec8B: prefillFromTflops(p.denseBf16Tflops) };
}

export const GPU_PROFILES: Readonly<Record<GpuProfileId, GpuProfile>> = {
  h100: profile({
    id: 'h100',
    name: 'NVIDIA H100 80GB HBM3',
    memoryBytes: 81559 * MIB,
    memoryBandwidthGBps: 3350,
    denseBf16Tflops: 989,
    interconnect: 'nvlink',
    kvLinkGBps: 450,
  }),
  h200: profile({
    id: 'h200',
    name: 'NVIDIA H200',
    memoryBytes: 143771 * MIB,
    memoryBandwidthGBps: 4800,
    denseBf16Tflops: 989,
    interconnect: 'nvlink',
    kvLinkGBps: 450,
  }),
  a100: profile({
    id: 'a100',
    name: 'NVIDIA A100-SXM4-80GB',
    memoryBytes: 81920 * MIB,
    memoryBandwidthGBps: 2039,
    denseBf16Tflops: 312,
    interconnect: 'nvlink',
    kvLinkGBps: 300,
  }),
  l40s: profile({
    id: 'l40s',
    name: 'NVIDIA L40S',
    memoryBytes: 46068 * MIB,
    memoryBandwidthGBps: 864,
    denseBf16Tflops: 362,
    interconnect: 'pcie',
    kvLinkGBps: 25,
  }),
  rtx4090: profile({
    id: 'rtx4090',
    name: 'NVIDIA GeForce RTX 4090',
    memoryBytes: 24564 * MIB,
    memoryBandwidthGBps: 1008,
    denseBf16Tflops: 165,
    interconnect: 'pcie',
    kvLinkGBps: 25,
  }),
};

export const GPU_PROFILE_IDS = Object.keys(GPU_PROFILES) as GpuProfileId[];

/** Numbers for a GPU that is not in the table. */
export interface CustomGpuSpec {
  name?: string;
  memoryGiB: number;
  memoryBandwidthGBps: number;
  denseBf16Tflops: number;
  /** Defaults to the compute-derived figure. */
  prefillTokensPerSec8B?: number;
  interconnect?: GpuInterconnect;
  /** Defaults to 450 GB/s with NVLink, 25 GB/s with PCIe. */
  kvLinkGBps?: number;
}

/** A profile from spec numbers; throws RangeError on non-positive figures. */
export function customGpuProfile(spec: CustomGpuSpec): GpuProfile {
  for (const [key, value] of Object.entries(spec)) {
    if (typeof value === 'number' && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`custom GPU profile: ${key} must be a positive number, got ${value}`);
    }
  }
  const interconnect = spec.interconnect ?? 'pcie';
  return {
    id: 'custom',
    name: spec.name ?? 'Custom GPU',
    memoryBytes: Math.round(spec.memoryGiB * 1024 * MIB),
    memoryBandwidthGBps: spec.memoryBandwidthGBps,
    denseBf16Tflops: spec.denseBf16Tflops,
    prefillTokensPerSec8B: spec.prefillTokensPerSec8B ?? prefillFromTflops(spec.denseBf16Tflops),
    interconnect,
    kvLinkGBps: spec.kvLinkGBps ?? (interconnect === 'nvlink' ? 450 : 25),
  };
}

const ALIASES: Record<string, GpuProfileId> = {
  h100: 'h100',
  'h100-sxm': 'h100',
  h200: 'h200',
  a100: 'a100',
  l40s: 'l40s',
  rtx4090: 'rtx4090',
  '4090': 'rtx4090',
  'rtx-4090': 'rtx4090',
};

/** A built-in profile by id or alias ("h100", "H200", "4090", "rtx-4090"), or undefined. */
export function getGpuProfile(id: string): GpuProfile | undefined {
  const key = ALIASES[id.trim().toLowerCase()];
  return key === undefined ? undefined : GPU_PROFILES[key];
}

/**
 * The closest built-in profile for an nvidia-smi GPU name ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"),
 * with the memory replaced by the reported memory.total when given. Undefined for GPUs it does not know.
 */
export function gpuProfileFromName(name: string, memoryBytes?: number): GpuProfile | undefined {
  const n = name.toUpperCase();
  let id: GpuProfileId | undefined;
  if (n.includes('H200')) {
    id = 'h200';
  } else if (n.includes('H100') || n.includes('H800')) {
    id = 'h100';
  } else if (n.includes('A100') || n.includes('A800')) {
    id = 'a100';
  } else if (n.includes('L40S')) {
    id = 'l40s';
  } else if (n.includes('4090')) {
    id = 'rtx4090';
  }
  if (id === undefined) {
    return undefined;
  }
  let result: GpuProfile = { ...GPU_PROFILES[id], name };
  if (memoryBytes !== undefined && memoryBytes > 0) {
    result = { ...result, memoryBytes };
  }
  // PCIe cards of an SXM family (e.g. "NVIDIA H100 PCIe", "NVIDIA A100-PCIE-40GB") have no NVLink by default.
  if (n.includes('PCIE') && result.interconnect === 'nvlink') {
    result = { ...result, interconnect: 'pcie', kvLinkGBps: 25 };
  }
  return result;
}
