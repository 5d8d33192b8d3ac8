// The GPU inventory (feature C1): inventory and live samples from `nvidia-smi` (query CSV, compute apps,
// `topo -m` and `-q -x` once), polled every few seconds, plus which worker holds which GPU. Without a working
// nvidia-smi, a simulated inventory the user sizes (default 4 x H100 80GB HBM3), flagged simulated. Layer: core.
import {
  COMPUTE_APP_FIELDS,
  GPU_QUERY_FIELDS,
  parseComputeAppsCsv,
  parseGpuQueryCsv,
  parseNvidiaSmiXml,
  parseTopoMatrix,
} from '../../../shared/logic/gpu-parse';
import type { GpuHolder, GpuInventorySnapshot } from '../../../shared/model/gpu';
import { type CommandRunner, execFileRunner } from './nvidia-smi-runner';
import {
  DEFAULT_SIMULATED_COUNT,
  DEFAULT_SIMULATED_MODEL,
  simulatedGpus,
  simulatedSample,
  simulatedTopology,
} from './simulated-gpus';

export interface GpuInventoryOptions {
  /** Path of nvidia-smi; found on PATH by default. */
  nvidiaSmiPath?: string;
  run?: CommandRunner;
  pollIntervalMs?: number;
  /** Time limit of one nvidia-smi call (it can hang when a GPU is in a bad state). */
  commandTimeoutMs?: number;
  /** Force the simulated inventory even where nvidia-smi works. */
  isSimulationForced?: boolean;
  simulatedCount?: number;
  simulatedModel?: string;
  /** GPU index (as string) -> workers assigned to it; the supervisor's gpuHolders(). */
  holders?: () => Record<string, GpuHolder[]>;
  /** 0..1 load of a simulated GPU (e.g. the sim workers' busy share); 0 when absent. */
  loadOf?: (gpuIndex: number) => number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export interface GpuInventory {
  /** Detects nvidia-smi, reads the static facts once, takes the first sample and starts polling. */
  start(): Promise<GpuInventorySnapshot>;
  /** One poll now. */
  refresh(): Promise<GpuInventorySnapshot>;
  snapshot(): GpuInventorySnapshot;
  onDidSample(cb: (snapshot: GpuInventorySnapshot) => void): () => void;
  stop(): void;
}

export const GPU_QUERY_ARGS = [
  `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];
export const COMPUTE_APPS_ARGS = [
  `--query-compute-apps=${COMPUTE_APP_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The static facts the CSV lacks (topology matrix, driver and CUDA versions, architectures), written into
 * `snap`; either query may fail (old drivers, containers) without making the inventory fail.
 */
async function addStaticFacts(
  current: () => GpuInventorySnapshot,
  query: (args: string[]) => Promise<string>,
  onError: (err: unknown) => void,
): Promise<void> {
  const [topo, xml] = await Promise.allSettled([query(['topo', '-m']), query(['-q', '-x'])]);
  // The snapshot as it is now: a poll may have replaced it while the queries ran.
  const snap = current();
  if (topo.status === 'fulfilled') snap.topology = parseTopoMatrix(topo.value);
  else onError(topo.reason);
  if (xml.status === 'fulfilled') {
    const x = parseNvidiaSmiXml(xml.value);
    snap.driverVersion = x.driverVersion;
    snap.cudaVersion = x.cudaVersion;
    snap.gpus = snap.gpus.map((g) => ({
      ...g,
      architecture: x.gpus.find((xg) => xg.uuid === g.uuid)?.architecture ?? null,
    }));
  } else {
    onError(xml.reason);
  }
  snap.driverVersion ??= snap.gpus[0]?.driverVersion ?? null;
}

/** The snapshot before the first detection: no GPUs, no samples, nothing known. */
function emptySnapshot(): GpuInventorySnapshot {
  return {
    simulated: false,
    simulatedReason: null,
    driverVersion: null,
    cudaVersion: null,
    gpus: [],
    samples: [],
    topology: null,
    apps: [],
    holders: {},
    lastError: null,
    sampledAtMs: null,
  };
}

export function createGpuInventory(opts: GpuInventoryOptions = {}): GpuInventory {
  const smi = opts.nvidiaSmiPath ?? 'nvidia-smi';
  const run = opts.run ?? execFileRunner;
  const pollIntervalMs = opts.pollIntervalMs ?? 3000;
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  const now = opts.now ?? Date.now;
  const holders = opts.holders ?? ((): Record<string, GpuHolder[]> => ({}));
  const onError = opts.onError ?? (() => undefined);
  const listeners = new Set<(s: GpuInventorySnapshot) => void>();
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<GpuInventorySnapshot> | null = null;
  let snap = emptySnapshot();

  const useSimulation = (reason: string): void => {
    const count = Math.max(0, Math.floor(opts.simulatedCount ?? DEFAULT_SIMULATED_COUNT));
    const model = opts.simulatedModel ?? DEFAULT_SIMULATED_MODEL;
    snap = {
      ...snap,
      simulated: true,
      simulatedReason: reason,
      gpus: simulatedGpus(count, model),
      topology: simulatedTopology(count, model),
      apps: [],
    };
  };

  const detect = async (): Promise<void> => {
    if (opts.isSimulationForced) {
      useSimulation('simulation chosen in the settings');
      return;
    }
    let csv: string;
    try {
      csv = await run(smi, GPU_QUERY_ARGS, timeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      useSimulation(code === 'ENOENT' ? `${smi} not found` : `nvidia-smi failed: ${errText(err)}`);
      return;
    }
    const atMs = now();
    const parsed = parseGpuQueryCsv(csv, atMs);
    if (parsed.gpus.length === 0) {
      useSimulation('nvidia-smi lists no GPU');
      return;
    }
    snap = {
      ...snap,
      simulated: false,
      simulatedReason: null,
      gpus: parsed.gpus,
      samples: parsed.samples,
      sampledAtMs: atMs,
    };
    await addStaticFacts(
      () => snap,
      (args) => run(smi, args, timeoutMs),
      onError,
    );
  };

  const poll = async (): Promise<GpuInventorySnapshot> => {
    const atMs = now();
    const held = holders();
    if (snap.simulated) {
      const samples = snap.gpus.map((g) =>
        simulatedSample(g, held[String(g.index)] ?? [], opts.loadOf?.(g.index) ?? 0, atMs),
      );
      snap = { ...snap, samples, holders: held, sampledAtMs: atMs, lastError: null };
    } else {
      try {
        const [csv, appsCsv] = await Promise.all([
          run(smi, GPU_QUERY_ARGS, timeoutMs),
          run(smi, COMPUTE_APPS_ARGS, timeoutMs).catch(() => ''),
        ]);
        const parsed = parseGpuQueryCsv(csv, atMs);
        snap = {
          ...snap,
          samples: parsed.samples,
          apps: parseComputeAppsCsv(appsCsv),
          holders: held,
          sampledAtMs: atMs,
          lastError: null,
        };
      } catch (err) {
        // Keep the last samples; the UI shows the error next to them.
        snap = { ...snap, holders: held, lastError: errText(err) };
        onError(err);
      }
    }
    for (const l of listeners) l(snap);
    return snap;
  };

  const refresh = (): Promise<GpuInventorySnapshot> => {
    // One nvidia-smi poll at a time: a slow one must not pile up behind the timer.
    polling ??= poll().finally(() => {
      polling = null;
    });
    return polling;
  };

  return {
    async start() {
      await detect();
      const first = await refresh();
      if (timer === null) {
        timer = setInterval(() => void refresh(), pollIntervalMs);
        timer.unref();
      }
      return first;
    },
    refresh,
    snapshot: () => snap,
    onDidSample(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
