// GPU inventory, live samples and the `nvidia-smi topo -m` matrix as JSON-safe data for the console API.
// Layer: shared (pure). Values nvidia-smi reports as "[N/A]" / "[Not Supported]" are null here.

import type { WorkerRole } from './worker';

/** One GPU as it is seen once (static facts). */
export interface GpuInfo {
  /** nvidia-smi index, the number CUDA_VISIBLE_DEVICES takes. */
  index: number;
  uuid: string;
  name: string;
  pciBusId: string;
  memoryTotalMiB: number;
  powerLimitW: number | null;
  maxSmClockMHz: number | null;
  driverVersion: string | null;
  /** e.g. "9.0" for Hopper. */
  computeCap: string | null;
  /** e.g. "Hopper", from `nvidia-smi -q -x` (the CSV has no such field). */
  architecture: string | null;
  /** True for the simulated inventory used where nvidia-smi is absent. */
  simulated: boolean;
}

/** One live reading of one GPU. */
export interface GpuSample {
  index: number;
  atMs: number;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  utilizationPct: number | null;
  memoryUtilizationPct: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  smClockMHz: number | null;
}

/** A process using a GPU (`--query-compute-apps`, or `<processes>` of `-q -x`). */
export interface GpuComputeApp {
  pid: number;
  processName: string;
  /** UUID of the GPU (the CSV names GPUs by UUID, not by index). */
  gpuUuid: string | null;
  usedMemoryMiB: number | null;
}

/** How two devices of `topo -m` are connected (its legend). */
export type GpuLinkKind = 'self' | 'nvlink' | 'pix' | 'pxb' | 'phb' | 'node' | 'sys' | 'unknown';

export interface GpuLink {
  kind: GpuLinkKind;
  /** For NV#: the number of bonded NVLinks. */
  nvlinkCount: number | null;
  /** The cell as printed, e.g. "NV18", "SYS", "X". */
  raw: string;
}

/** One GPU row of `topo -m` with its affinity columns. */
export interface GpuTopologyRow {
  /** "GPU0" */
  device: string;
  index: number;
  cpuAffinity: string | null;
  numaAffinity: string | null;
  gpuNumaId: string | null;
}

/** The parsed `nvidia-smi topo -m` matrix. */
export interface GpuTopology {
  /** Column devices in printed order: "GPU0".."GPUn", then "NIC0".. when present. */
  devices: string[];
  /** links[rowDevice][columnDevice]. Rows cover GPUs and NICs. */
  links: Record<string, Record<string, GpuLink>>;
  gpus: GpuTopologyRow[];
  /** NIC legend, e.g. { NIC0: "mlx5_0" }. */
  nicNames: Record<string, string>;
}

/** Which workers hold a GPU (from the supervisor's specs). */
export interface GpuHolder {
  workerId: string;
  role: WorkerRole;
}

/** Everything the GPU view shows, as one JSON-safe snapshot. */
export interface GpuInventorySnapshot {
  simulated: boolean;
  /** Why the inventory is simulated (e.g. "nvidia-smi not found"), null when real. */
  simulatedReason: string | null;
  driverVersion: string | null;
  cudaVersion: string | null;
  gpus: GpuInfo[];
  /** Latest sample per GPU, same order as gpus (absent until the first poll). */
  samples: GpuSample[];
  topology: GpuTopology | null;
  apps: GpuComputeApp[];
  /** Keyed by GPU index (as a string: JSON object keys). */
  holders: Record<string, GpuHolder[]>;
  /** Last error running nvidia-smi, null when the last poll worked. */
  lastError: string | null;
  sampledAtMs: number | null;
}
