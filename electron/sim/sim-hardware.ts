// The simulated hardware of one worker: which GPU profile it runs on (env DISAGG_SIM_GPU, custom numbers in
// DISAGG_SIM_GPU_PROFILE), its KV capacity, iteration timing and KV transfer time, all taken from the shared
// timing model. Layer: electron/sim (plain Node; reads only the env object it is given).

type Env = Record<string, string | undefined>;

export interface SimHardware {
  profileName: string;
  kvCapacityTokens: number;
  weightsBytes: number;
  defaultMaxSeqLen: number;
  linkGBps: number;
  iterationMs: (contextTokens: number, generationRequests: number) => number;
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

interface GpuNumbers {
  memoryGiB: number;
  /** Dense fp16 TFLOPS (prefill is compute bound). */
  tflops: number;
  /** Memory bandwidth (decode is bandwidth bound). */
  memBwGBps: number;
}

const GPUS: Record<string, GpuNumbers> = {
  h100: { memoryGiB: 80, tflops: 989, memBwGBps: 3350 },
  h200: { memoryGiB: 141, tflops: 989, memBwGBps: 4800 },
  a100: { memoryGiB: 80, tflops: 312, memBwGBps: 2039 },
  l40s: { memoryGiB: 48, tflops: 362, memBwGBps: 864 },
  rtx4090: { memoryGiB: 24, tflops: 165, memBwGBps: 1008 },
};

/** A Llama-3-8B-like model: the numbers a KV cache and the weights take. */
const MODEL = { paramsB: 8, layers: 32, kvHeads: 8, headDim: 128, bytesPerElem: 2, maxSeqLen: 8192 };

export function resolveHardware(input: HardwareInput): HardwareResult {
  const name = (input.env.DISAGG_SIM_GPU ?? 'h100').toLowerCase();
  let gpu = GPUS[name];
  if (name === 'custom') {
    try {
      gpu = JSON.parse(input.env.DISAGG_SIM_GPU_PROFILE ?? '') as GpuNumbers;
    } catch {
      return { ok: false, message: 'DISAGG_SIM_GPU=custom needs DISAGG_SIM_GPU_PROFILE as JSON {"memoryGiB","tflops","memBwGBps"}' };
    }
  }
  if (!gpu) return { ok: false, message: `unknown DISAGG_SIM_GPU '${name}' (known: ${[...Object.keys(GPUS), 'custom'].join(', ')})` };
  const gpuCount = input.tpSize * input.ppSize;
  const weightsBytes = MODEL.paramsB * 1e9 * MODEL.bytesPerElem;
  const totalBytes = gpu.memoryGiB * 2 ** 30 * gpuCount;
  const kvPerToken = 2 * MODEL.layers * MODEL.kvHeads * MODEL.headDim * MODEL.bytesPerElem;
  const freeBytes = Math.max(0, (totalBytes - weightsBytes) * input.freeGpuMemoryFraction);
  let kvTokens = Math.floor(freeBytes / kvPerToken);
  if (input.kvMaxTokens !== null) kvTokens = Math.min(kvTokens, input.kvMaxTokens);
  kvTokens = Math.floor(kvTokens / input.tokensPerBlock) * input.tokensPerBlock;
  const linkGBps = Number(input.env.DISAGG_SIM_KV_LINK_GB_S ?? '') || 25;
  const flopsPerToken = 2 * MODEL.paramsB * 1e9;
  return {
    ok: true,
    value: {
      profileName: name,
      kvCapacityTokens: kvTokens,
      weightsBytes: weightsBytes / gpuCount,
      defaultMaxSeqLen: MODEL.maxSeqLen,
      linkGBps,
      iterationMs: (ctx, gen) => {
        const prefill = (ctx * flopsPerToken) / (gpu.tflops * 1e12 * 0.5 * input.tpSize) * 1000;
        const decode = gen > 0 ? (weightsBytes / (gpu.memBwGBps * 1e9 * input.tpSize)) * 1000 * (1 + gen / 256) : 0;
        return prefill + decode;
      },
      kvBytesForTokens: (tokens) => tokens * kvPerToken,
      kvTransferMs: (bytes) => (bytes / (linkGBps * 1e9)) * 1000,
    },
  };
}
