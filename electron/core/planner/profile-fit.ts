// Fits the simulated engine's GPU profile to measurements of real (or simulated) workers: the prefill
// rate (`prefillTokensPerSec8B`) from prefill times at a few prompt lengths and the memory bandwidth from
// decode step times at a few batch sizes, inverting the shared timing model (shared/logic/timing-model.ts)
// with its fixed overheads held as they are. Least squares on relative error, so short and long samples
// weigh alike. Layer: core (pure functions).
import {
  customGpuProfile,
  type GpuProfile,
  REFERENCE_8B_FLOPS_PER_TOKEN,
} from '../../../shared/logic/gpu-profiles';
import {
  ALLREDUCE_US,
  DECODE_BW_EFFICIENCY,
  DECODE_PER_SEQUENCE_MS,
  DECODE_STEP_OVERHEAD_MS,
  decodeStepMs,
  kvBytesPerToken,
  type ModelProfile,
  PREFILL_OVERHEAD_MS,
  prefillTimeMs,
  TP_PREFILL_EXPONENT,
} from '../../../shared/logic/timing-model';

/** Time to prefill one prompt of `inputLen` tokens (engine time: client/HTTP overhead already removed). */
export interface PrefillSample {
  inputLen: number;
  ms: number;
}

/** Time of one decode step with `batchSize` sequences of about `contextTokens` tokens each. */
export interface DecodeSample {
  batchSize: number;
  contextTokens: number;
  stepMs: number;
}

export interface ProfileFit {
  /** The base profile with the fitted prefill rate and bandwidth (id `custom`). */
  gpu: GpuProfile;
  prefillTokensPerSec8B: number;
  memoryBandwidthGBps: number;
  /** Mean absolute relative error of the fitted model on the samples, percent. */
  prefillErrorPct: number;
  decodeErrorPct: number;
  /** Decode samples that were memory-bound and so informed the bandwidth. */
  bandwidthSamples: number;
  /** What could not be fitted from the samples and was kept from the base profile. */
  notes: string[];
}

function prefillFlops(n: number, model: ModelProfile): number {
  return 2 * model.activeParamsBillions * 1e9 * n + 2 * model.layers * model.hiddenSize * n * n;
}

/** Fits prefill rate and memory bandwidth; throws when the samples cannot give a prefill rate. */
export function fitGpuProfile(
  model: ModelProfile,
  base: GpuProfile,
  prefill: readonly PrefillSample[],
  decode: readonly DecodeSample[],
  tp = 1,
): ProfileFit {
  const notes: string[] = [];
  const tpGain = tp ** TP_PREFILL_EXPONENT;
  // t = flops * k + overhead, k = 1000 / (rate * REF * tp^0.9) ms per FLOP.
  let num = 0;
  let den = 0;
  for (const s of prefill) {
    const y = s.ms;
    const z = y - PREFILL_OVERHEAD_MS;
    const f = prefillFlops(s.inputLen, model);
    if (!(y > 0) || !(z > 0)) continue;
    num += (f * z) / (y * y);
    den += (f * f) / (y * y);
  }
  if (!(num > 0 && den > 0)) {
    throw new Error(
      'calibration: no usable prefill sample (every prefill took less than the fixed overhead)',
    );
  }
  const k = num / den;
  const prefillRate = 1000 / (k * REFERENCE_8B_FLOPS_PER_TOKEN * tpGain);

  // z = step - overheads = bytes * s, s = 1000 / (BW * 1e9 * efficiency) ms per byte.
  const weightBytes = model.activeParamsBillions * 1e9 * model.bytesPerParam;
  const allReduceMs = tp > 1 ? (2 * model.layers * ALLREDUCE_US[base.interconnect]) / 1000 : 0;
  let bnum = 0;
  let bden = 0;
  let used = 0;
  for (const s of decode) {
    const y = s.stepMs;
    const z = y - DECODE_STEP_OVERHEAD_MS - DECODE_PER_SEQUENCE_MS * s.batchSize - allReduceMs;
    const bytes = (weightBytes + s.batchSize * s.contextTokens * kvBytesPerToken(model)) / tp;
    const computeMs =
      ((2 * model.activeParamsBillions * 1e9 * s.batchSize) /
        tp /
        (prefillRate * REFERENCE_8B_FLOPS_PER_TOKEN)) *
      1000;
    // A compute-bound step says nothing about bandwidth.
    if (!(y > 0) || !(z > 0) || computeMs >= 0.9 * z) continue;
    bnum += (bytes * z) / (y * y);
    bden += (bytes * bytes) / (y * y);
    used += 1;
  }
  let bandwidth = base.memoryBandwidthGBps;
  if (bnum > 0 && bden > 0) bandwidth = 1000 / ((bnum / bden) * 1e9 * DECODE_BW_EFFICIENCY);
  else {
    notes.push(
      `no memory-bound decode sample: memory bandwidth kept at ${base.memoryBandwidthGBps} GB/s`,
    );
  }

  const gpu = customGpuProfile({
    name: `${base.name} (calibrated)`,
    memoryGiB: base.memoryBytes / 1024 ** 3,
    memoryBandwidthGBps: bandwidth,
    denseBf16Tflops: base.denseBf16Tflops,
    prefillTokensPerSec8B: prefillRate,
    interconnect: base.interconnect,
    kvLinkGBps: base.kvLinkGBps,
  });
  const rel = (pred: number, actual: number): number => Math.abs(pred - actual) / actual;
  const pErr = prefill
    .filter((s) => s.ms > 0)
    .map((s) => rel(prefillTimeMs(s.inputLen, model, gpu, tp), s.ms));
  const dErr = decode
    .filter((s) => s.stepMs > 0)
    .map((s) => rel(decodeStepMs(s.batchSize, model, gpu, tp, 1, s.contextTokens), s.stepMs));
  const meanPct = (xs: number[]): number =>
    xs.length > 0 ? (xs.reduce((a, b) => a + b, 0) / xs.length) * 100 : 0;
  return {
    gpu,
    prefillTokensPerSec8B: prefillRate,
    memoryBandwidthGBps: bandwidth,
    prefillErrorPct: meanPct(pErr),
    decodeErrorPct: meanPct(dErr),
    bandwidthSamples: used,
    notes,
  };
}
