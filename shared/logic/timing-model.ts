// The simulated engine's timing and memory model: model profiles from a model name, prefill time, decode step
// time against batch size, KV-cache capacity and KV transfer time. Layer: shared (pure functions).
//
// Assumptions (a first-order roofline model, good for planning and for a believable simulation, not a benchmark):
// - Prefill is compute-bound: 2 x active parameters FLOPs per token plus causal attention (2 x layers x hidden x
//   n^2 FLOPs for n tokens), at the GPU's `prefillTokensPerSec8B` rate (BF16 TFLOPS at PREFILL_MFU).
// - A decode step is memory-bound: it reads the weights once and each sequence's KV cache, at DECODE_BW_EFFICIENCY
//   of the memory bandwidth; large batches become compute-bound (2 x active params FLOPs per sequence). Plus a
//   fixed per-step overhead (scheduler, sampling, launches) and a small per-sequence overhead.
// - Tensor parallelism splits weights, KV heads and FLOPs over `tp` GPUs but adds two all-reduces per layer per
//   step, so speed-up is sub-linear: prefill scales as tp^TP_PREFILL_EXPONENT; decode pays ALLREDUCE_US per
//   all-reduce (NVLink or PCIe).
// - Pipeline parallelism splits layers (memory) but one request still passes every stage in turn: no latency
//   gain, a small hand-off cost per extra stage.
// - KV cache: upstream's `free_gpu_memory_fraction` is the share of the memory left after weights and runtime
//   overhead (trtllm-protocol.md 2.3); `max_tokens` caps it. KV bytes/token = 2 (K and V) x layers x kv heads x
//   head dim x bytes per element (e.g. Llama-3.1-8B in BF16: 128 KiB/token).

import { type GpuProfile, REFERENCE_8B_FLOPS_PER_TOKEN } from './gpu-profiles';

export interface ModelProfile {
  name: string;
  /** Total parameters, billions. */
  paramsBillions: number;
  /** Parameters used per token (equal to the total for dense models; less for mixture-of-experts). */
  activeParamsBillions: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  hiddenSize: number;
  /** 2 for BF16/FP16 weights, 1 for FP8/INT8, 0.5 for 4-bit. */
  bytesPerParam: number;
  /** 2 for a BF16/FP16 KV cache, 1 for FP8. */
  kvBytesPerElement: number;
}

/** Default model size when the name carries none. */
export const DEFAULT_MODEL_PARAMS_BILLIONS = 8;

export const PREFILL_OVERHEAD_MS = 1;
export const TP_PREFILL_EXPONENT = 0.9;
export const DECODE_BW_EFFICIENCY = 0.8;
export const DECODE_STEP_OVERHEAD_MS = 0.5;
export const DECODE_PER_SEQUENCE_MS = 0.01;
/** Latency of one all-reduce of a decode step's activations, microseconds. */
export const ALLREDUCE_US = { nvlink: 8, pcie: 30 } as const;
export const PP_STAGE_OVERHEAD = 0.04;
/** CUDA context, workspaces and activations that stay out of the KV budget, per GPU. */
export const RUNTIME_OVERHEAD_BYTES = 2 * 1024 ** 3;
/** Fixed cost of one KV transfer (connection set-up and hand-shake), ms. */
export const KV_TRANSFER_LATENCY_MS = 0.2;
/** Average context per sequence assumed by `decodeStepMs` when the caller gives none. */
export const DEFAULT_DECODE_CONTEXT_TOKENS = 1024;

interface Architecture {
  upToBillions: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  hiddenSize: number;
}

// Representative published configs by size: Qwen2.5-0.5B, TinyLlama-1.1B, Qwen2.5-1.5B, Llama-3.2-3B,
// Llama-3.1-8B, Qwen2.5-14B, Qwen2.5-32B, Llama-3.1-70B, Mistral-Large-123B, Llama-3.1-405B.
const LARGEST: Architecture = {
  upToBillions: Infinity,
  layers: 126,
  kvHeads: 8,
  headDim: 128,
  hiddenSize: 16384,
};
const ARCHITECTURES: readonly Architecture[] = [
  { upToBillions: 0.8, layers: 24, kvHeads: 2, headDim: 64, hiddenSize: 896 },
  { upToBillions: 1.3, layers: 22, kvHeads: 4, headDim: 64, hiddenSize: 2048 },
  { upToBillions: 2.2, layers: 28, kvHeads: 2, headDim: 128, hiddenSize: 1536 },
  { upToBillions: 4.5, layers: 28, kvHeads: 8, headDim: 128, hiddenSize: 3072 },
  { upToBillions: 10, layers: 32, kvHeads: 8, headDim: 128, hiddenSize: 4096 },
  { upToBillions: 20, layers: 48, kvHeads: 8, headDim: 128, hiddenSize: 5120 },
  { upToBillions: 45, layers: 64, kvHeads: 8, headDim: 128, hiddenSize: 5120 },
  { upToBillions: 100, layers: 80, kvHeads: 8, headDim: 128, hiddenSize: 8192 },
  { upToBillions: 200, layers: 88, kvHeads: 8, headDim: 128, hiddenSize: 12288 },
  LARGEST,
];

function architectureFor(paramsBillions: number): Architecture {
  return ARCHITECTURES.find((a) => paramsBillions <= a.upToBillions) ?? LARGEST;
}

/** Families whose size the name does not tell (or tells misleadingly): published configs. */
const KNOWN_MODELS: readonly {
  pattern: RegExp;
  profile: Omit<ModelProfile, 'name' | 'kvBytesPerElement'>;
}[] = [
  {
    // MoE, MXFP4 expert weights (~0.5 byte/param)
    pattern: /gpt-oss-120b/i,
    profile: {
      paramsBillions: 117,
      activeParamsBillions: 5.1,
      layers: 36,
      kvHeads: 8,
      headDim: 64,
      hiddenSize: 2880,
      bytesPerParam: 0.5,
    },
  },
  {
    pattern: /gpt-oss-20b/i,
    profile: {
      paramsBillions: 21,
      activeParamsBillions: 3.6,
      layers: 24,
      kvHeads: 8,
      headDim: 64,
      hiddenSize: 2880,
      bytesPerParam: 0.5,
    },
  },
  {
    pattern: /mixtral-8x7b/i,
    profile: {
      paramsBillions: 46.7,
      activeParamsBillions: 12.9,
      layers: 32,
      kvHeads: 8,
      headDim: 128,
      hiddenSize: 4096,
      bytesPerParam: 2,
    },
  },
  {
    pattern: /mixtral-8x22b/i,
    profile: {
      paramsBillions: 141,
      activeParamsBillions: 39,
      layers: 56,
      kvHeads: 8,
      headDim: 128,
      hiddenSize: 6144,
      bytesPerParam: 2,
    },
  },
  {
    // MLA: one 576-wide latent per token and layer (written here as 1 head x 288 for K and for V); FP8 weights.
    pattern: /deepseek-(v3|r1)(?!.*distill)/i,
    profile: {
      paramsBillions: 671,
      activeParamsBillions: 37,
      layers: 61,
      kvHeads: 1,
      headDim: 288,
      hiddenSize: 7168,
      bytesPerParam: 1,
    },
  },
];

const NUM = String.raw`(\d+(?:\.\d+)?)`;
// "8B", "1.1B", "70b", "120b" as a whole token (not followed by a letter or digit, not part of "3.1-8B"'s "3.1").
const BILLIONS = new RegExp(String.raw`(?<![\d.])${NUM}[bB](?![a-zA-Z0-9])`);
const MILLIONS = new RegExp(String.raw`(?<![\d.])${NUM}[mM](?![a-zA-Z0-9])`);
// Mixture of experts: "Mixtral-8x7B" (experts x size) and "Qwen3-30B-A3B" (total, active).
const EXPERTS = new RegExp(String.raw`(?<![\d.])(\d+)x${NUM}[bB](?![a-zA-Z0-9])`, 'i');
const ACTIVE = new RegExp(String.raw`-A${NUM}B(?![a-zA-Z0-9])`, 'i');

/**
 * A model profile guessed from a model name or path ("TinyLlama/TinyLlama-1.1B-Chat-v1.0",
 * "meta-llama/Llama-3.1-8B-Instruct", "Llama-3.1-70B-Instruct-FP8", "Qwen3-30B-A3B"); 8B dense BF16 when the
 * name says nothing. Layer counts and heads come from a representative model of that size; `overrides` wins.
 */
export function modelProfileFromName(
  name: string,
  overrides: Partial<ModelProfile> = {},
): ModelProfile {
  const base =
    name
      .split(/[\\/]/)
      .filter((s) => s.length > 0)
      .pop() ?? name;
  const known = KNOWN_MODELS.find((k) => k.pattern.test(base));
  if (known) {
    return { name, ...known.profile, kvBytesPerElement: 2, ...overrides };
  }
  let params = DEFAULT_MODEL_PARAMS_BILLIONS;
  let active: number | undefined;
  const experts = EXPERTS.exec(base);
  const billions = BILLIONS.exec(base);
  const millions = MILLIONS.exec(base);
  if (experts) {
    const perExpert = Number(experts[2]);
    params = Number(experts[1]) * perExpert;
    active = Math.min(params, 2 * perExpert); // top-2 routing, as in Mixtral
  } else if (billions) {
    params = Number(billions[1]);
  } else if (millions) {
    params = Number(millions[1]) / 1000;
  }
  const activeMatch = ACTIVE.exec(base);
  if (activeMatch) {
    active = Math.min(params, Number(activeMatch[1]));
  }
  const arch = architectureFor(params);
  const upper = base.toUpperCase();
  const bytesPerParam = /(FP4|INT4|W4A|AWQ|GPTQ|4BIT)/.test(upper)
    ? 0.5
    : /(FP8|INT8|W8A8|8BIT)/.test(upper)
      ? 1
      : 2;
  const profile: ModelProfile = {
    name,
    paramsBillions: params,
    activeParamsBillions: active ?? params,
    layers: arch.layers,
    kvHeads: arch.kvHeads,
    headDim: arch.headDim,
    hiddenSize: arch.hiddenSize,
    bytesPerParam,
    kvBytesPerElement: 2,
    ...overrides,
  };
  return profile;
}

function checkParallel(tp: number, pp: number): void {
  if (!(Number.isInteger(tp) && tp >= 1 && Number.isInteger(pp) && pp >= 1)) {
    throw new RangeError(`tp and pp must be positive integers, got tp=${tp} pp=${pp}`);
  }
}

/** Bytes of the weights (all GPUs together). */
export function weightsBytes(model: ModelProfile): number {
  return model.paramsBillions * 1e9 * model.bytesPerParam;
}

/** KV-cache bytes per token of context (all GPUs together). */
export function kvBytesPerToken(model: ModelProfile): number {
  return 2 * model.layers * model.kvHeads * model.headDim * model.kvBytesPerElement;
}

/** KV-cache bytes of `tokens` tokens (what a context worker hands to a generation worker). */
export function kvBytes(tokens: number, model: ModelProfile): number {
  return Math.max(0, tokens) * kvBytesPerToken(model);
}

function ppFactor(pp: number): number {
  return 1 + PP_STAGE_OVERHEAD * (pp - 1);
}

/** Time to prefill `promptTokens` tokens of one request (ms): compute-bound, TP helps sub-linearly. */
export function prefillTimeMs(
  promptTokens: number,
  model: ModelProfile,
  gpu: GpuProfile,
  tp = 1,
  pp = 1,
): number {
  checkParallel(tp, pp);
  if (promptTokens <= 0) {
    return 0;
  }
  const linearFlops = 2 * model.activeParamsBillions * 1e9 * promptTokens;
  const attentionFlops = 2 * model.layers * model.hiddenSize * promptTokens * promptTokens;
  const flopsPerSec =
    gpu.prefillTokensPerSec8B * REFERENCE_8B_FLOPS_PER_TOKEN * tp ** TP_PREFILL_EXPONENT;
  return ((linearFlops + attentionFlops) / flopsPerSec) * 1000 * ppFactor(pp) + PREFILL_OVERHEAD_MS;
}

/**
 * Time of one decode step for `batchSize` sequences (ms), each with `contextTokens` tokens of context on average:
 * the larger of reading weights + KV caches at memory bandwidth and the step's FLOPs, plus overheads.
 */
export function decodeStepMs(
  batchSize: number,
  model: ModelProfile,
  gpu: GpuProfile,
  tp = 1,
  pp = 1,
  contextTokens = DEFAULT_DECODE_CONTEXT_TOKENS,
): number {
  checkParallel(tp, pp);
  if (batchSize <= 0) {
    return 0;
  }
  // Per GPU: 1/tp of the weights (MoE: roughly the active experts) and 1/tp of every sequence's KV cache.
  const weightBytes = model.activeParamsBillions * 1e9 * model.bytesPerParam;
  const kvRead = batchSize * Math.max(0, contextTokens) * kvBytesPerToken(model);
  const memoryMs =
    ((weightBytes + kvRead) / tp / (gpu.memoryBandwidthGBps * 1e9 * DECODE_BW_EFFICIENCY)) * 1000;
  const computeMs =
    ((2 * model.activeParamsBillions * 1e9 * batchSize) /
      tp /
      (gpu.prefillTokensPerSec8B * REFERENCE_8B_FLOPS_PER_TOKEN)) *
    1000;
  const allReduceMs = tp > 1 ? (2 * model.layers * ALLREDUCE_US[gpu.interconnect]) / 1000 : 0;
  return (
    Math.max(memoryMs, computeMs) * ppFactor(pp) +
    allReduceMs +
    DECODE_STEP_OVERHEAD_MS +
    DECODE_PER_SEQUENCE_MS * batchSize
  );
}

/** Per-GPU memory use for `tp` x `pp` GPUs. `freeBytes` <= 0 means the model does not fit (out of memory). */
export function memoryPlan(
  model: ModelProfile,
  gpu: GpuProfile,
  tp = 1,
  pp = 1,
): { weightsBytesPerGpu: number; overheadBytesPerGpu: number; freeBytesPerGpu: number } {
  checkParallel(tp, pp);
  const weightsBytesPerGpu = weightsBytes(model) / (tp * pp);
  return {
    weightsBytesPerGpu,
    overheadBytesPerGpu: RUNTIME_OVERHEAD_BYTES,
    freeBytesPerGpu: gpu.memoryBytes - weightsBytesPerGpu - RUNTIME_OVERHEAD_BYTES,
  };
}

/**
 * KV-cache capacity in tokens (whole system of tp x pp GPUs): `freeGpuMemoryFraction` of the memory left after
 * weights and overhead, divided by the per-GPU KV bytes per token (KV heads split over TP, replicated when fewer
 * heads than GPUs; layers split over PP). `maxTokens` (kv_cache_config.max_tokens) caps the result. 0 when the
 * weights do not fit.
 */
export function kvCapacityTokens(
  model: ModelProfile,
  gpu: GpuProfile,
  tp: number,
  freeGpuMemoryFraction: number,
  maxTokens?: number,
  pp = 1,
): number {
  checkParallel(tp, pp);
  if (!(freeGpuMemoryFraction >= 0 && freeGpuMemoryFraction <= 1)) {
    throw new RangeError(`freeGpuMemoryFraction must be in [0, 1], got ${freeGpuMemoryFraction}`);
  }
  const { freeBytesPerGpu } = memoryPlan(model, gpu, tp, pp);
  if (freeBytesPerGpu <= 0) {
    return 0;
  }
  const perGpuBytesPerToken =
    2 *
    Math.ceil(model.layers / pp) *
    Math.ceil(model.kvHeads / tp) *
    model.headDim *
    model.kvBytesPerElement;
  const tokens = Math.floor((freeBytesPerGpu * freeGpuMemoryFraction) / perGpuBytesPerToken);
  return maxTokens !== undefined && maxTokens >= 0
    ? Math.min(tokens, Math.floor(maxTokens))
    : tokens;
}

/** Time to move the KV cache of `tokens` tokens over a link of `linkGBps` GB/s (ms). */
export function kvTransferMs(tokens: number, model: ModelProfile, linkGBps: number): number {
  if (!(linkGBps > 0)) {
    throw new RangeError(`linkGBps must be positive, got ${linkGBps}`);
  }
  if (tokens <= 0) {
    return 0;
  }
  return (kvBytes(tokens, model) / (linkGBps * 1e9)) * 1000 + KV_TRANSFER_LATENCY_MS;
}
