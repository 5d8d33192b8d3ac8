// The simulated hardware of one worker: the GPU profile it runs on (env DISAGG_SIM_GPU: h100 default, h200, a100,
// l40s, rtx4090, or `custom` with numbers in DISAGG_SIM_GPU_PROFILE), the model profile guessed from MODEL, and
// from the shared timing model: KV capacity, iteration time, KV bytes and KV transfer time. Settings come from the
// environment so the command line stays exactly upstream's. Layer: electron/sim (reads only the env it is given).
import {
  customGpuProfile,
  type CustomGpuSpec,
  getGpuProfile,
  GPU_PROFILE_IDS,
  type GpuProfile,
} from '../../shared/logic/gpu-profiles';
import {
  decodeStepMs,
  kvBytes,
  kvBytesPerToken,
  kvCapacityTokens,
  kvTransferMs,
  memoryPlan,
  modelProfileFromName,
  PREFILL_OVERHEAD_MS,
  prefillTimeMs,
} from '../../shared/logic/timing-model';

type Env = Record<string, string | undefined>;

/** Context length when neither --max_seq_len nor the options file sets one (the timing model has no per-model value). */
export const DEFAULT_SIM_MAX_SEQ_LEN = 8192;

export interface SimHardware {
  profileName: string;
  gpuName: string;
  modelParamsBillions: number;
  kvCapacityTokens: number;
  /** Weights per GPU, reported as iteration-stat `gpuMemUsage`. */
  weightsBytes: number;
  defaultMaxSeqLen: number;
  linkGBps: number;
  /** One executor iteration: the prefills of this iteration plus one decode step of `generationRequests` sequences. */
  iterationMs: (
    prefillTokens: readonly number[],
    generationRequests: number,
    avgContextTokens: number,
  ) => number;
  kvBytesForTokens: (tokens: number) => number;
  kvTransferMs: (bytes: number) => number;
}

export interface HardwareInput {
  model: string;
  env: Env;
  tpSize: number;
  ppSize: number;
  freeGpuMemoryFraction: number;
  /** `kv_cache_config.max_tokens`: the smaller of this and the memory fraction wins. */
  kvMaxTokens: number | null;
  tokensPerBlock: number;
}

export type HardwareResult = { ok: true; value: SimHardware } | { ok: false; message: string };

function gpuFromEnv(env: Env): { ok: true; gpu: GpuProfile } | { ok: false; message: string } {
  const id = (env.DISAGG_SIM_GPU ?? 'h100').trim().toLowerCase();
  if (id === 'custom') {
    try {
      return {
        ok: true,
        gpu: customGpuProfile(JSON.parse(env.DISAGG_SIM_GPU_PROFILE ?? '') as CustomGpuSpec),
      };
    } catch (err) {
      return {
        ok: false,
        message: `DISAGG_SIM_GPU=custom needs DISAGG_SIM_GPU_PROFILE as JSON, e.g. {"memoryGiB":48,"memoryBandwidthGBps":960,"denseBf16Tflops":180}: ${(err as Error).message}`,
      };
    }
  }
  const gpu = getGpuProfile(id);
  if (!gpu) {
    return {
      ok: false,
      message: `unknown DISAGG_SIM_GPU '${id}' (known: ${[...GPU_PROFILE_IDS, 'custom'].join(', ')})`,
    };
  }
  return { ok: true, gpu };
}

/** Resolves the simulated GPUs and model; an error when the model does not fit (as a real worker runs out of memory). */
export function resolveHardware(input: HardwareInput): HardwareResult {
  const picked = gpuFromEnv(input.env);
  if (!picked.ok) return picked;
  const { gpu } = picked;
  const model = modelProfileFromName(input.model);
  const { tpSize: tp, ppSize: pp } = input;
  if (!(input.freeGpuMemoryFraction >= 0 && input.freeGpuMemoryFraction <= 1)) {
    return {
      ok: false,
      message: `free_gpu_memory_fraction must be in [0, 1], got ${input.freeGpuMemoryFraction}`,
    };
  }
  const plan = memoryPlan(model, gpu, tp, pp);
  let capacity = kvCapacityTokens(
    model,
    gpu,
    tp,
    input.freeGpuMemoryFraction,
    input.kvMaxTokens ?? undefined,
    pp,
  );
  capacity = Math.floor(capacity / input.tokensPerBlock) * input.tokensPerBlock;
  if (plan.freeBytesPerGpu <= 0 || capacity < input.tokensPerBlock) {
    const needGiB = (plan.weightsBytesPerGpu / 2 ** 30).toFixed(1);
    return {
      ok: false,
      message: `CUDA out of memory (simulated): ${model.paramsBillions}B parameters need ${needGiB} GiB per GPU with tp_size=${tp} pp_size=${pp}, ${gpu.name} has ${(gpu.memoryBytes / 2 ** 30).toFixed(0)} GiB, leaving no room for the KV cache`,
    };
  }
  const envLink = Number(input.env.DISAGG_SIM_KV_LINK_GB_S ?? '');
  const linkGBps = Number.isFinite(envLink) && envLink > 0 ? envLink : gpu.kvLinkGBps;
  const bytesPerToken = kvBytesPerToken(model);
  return {
    ok: true,
    value: {
      profileName: gpu.id,
      gpuName: gpu.name,
      modelParamsBillions: model.paramsBillions,
      kvCapacityTokens: capacity,
      weightsBytes: plan.weightsBytesPerGpu,
      defaultMaxSeqLen: DEFAULT_SIM_MAX_SEQ_LEN,
      linkGBps,
      iterationMs: (prefillTokens, generationRequests, avgContextTokens) => {
        // Each prompt's attention is quadratic in its own length; the fixed per-prefill overhead is paid once.
        let prefillMs = 0;
        for (const n of prefillTokens) {
          prefillMs += prefillTimeMs(n, model, gpu, tp, pp) - PREFILL_OVERHEAD_MS;
        }
        if (prefillTokens.length > 0) prefillMs += PREFILL_OVERHEAD_MS;
        const decodeMs =
          generationRequests > 0
            ? decodeStepMs(generationRequests, model, gpu, tp, pp, avgContextTokens)
            : 0;
        return prefillMs + decodeMs;
      },
      kvBytesForTokens: (tokens) => kvBytes(tokens, model),
      kvTransferMs: (bytes) => kvTransferMs(bytes / bytesPerToken, model, linkGBps),
    },
  };
}
