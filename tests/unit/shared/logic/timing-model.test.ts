import { describe, expect, it } from 'vitest';

import { GPU_PROFILES } from '../../../../shared/logic/gpu-profiles';
import {
  decodeStepMs,
  kvBytes,
  kvBytesPerToken,
  kvCapacityTokens,
  kvTransferMs,
  memoryPlan,
  modelProfileFromName,
  prefillTimeMs,
} from '../../../../shared/logic/timing-model';

const { h100, h200, a100, l40s, rtx4090 } = GPU_PROFILES;
const M8 = modelProfileFromName('meta-llama/Llama-3.1-8B-Instruct');
const M70 = modelProfileFromName('meta-llama/Llama-3.1-70B-Instruct');
const TINY = modelProfileFromName('TinyLlama/TinyLlama-1.1B-Chat-v1.0');

describe('modelProfileFromName', () => {
  it.each([
    ['TinyLlama/TinyLlama-1.1B-Chat-v1.0', 1.1, 1.1, 2],
    ['meta-llama/Llama-3.1-8B-Instruct', 8, 8, 2],
    ['Llama-3.1-70B', 70, 70, 2],
    ['nvidia/Llama-3.1-70B-Instruct-FP8', 70, 70, 1],
    ['Qwen/Qwen2.5-0.5B-Instruct', 0.5, 0.5, 2],
    ['Qwen2.5-7B-Instruct-AWQ', 7, 7, 0.5],
    ['HuggingFaceTB/SmolLM-135M', 0.135, 0.135, 2],
    ['Qwen/Qwen3-30B-A3B', 30, 3, 2],
    ['some-model-without-size', 8, 8, 2],
    ['/models/llama-2-13b-chat-hf', 13, 13, 2],
    ['mistralai/Mixtral-8x7B-Instruct-v0.1', 46.7, 12.9, 2],
    ['Foo-4x3B', 12, 6, 2],
    ['openai/gpt-oss-120b', 117, 5.1, 0.5],
  ])('%s: %d B params, %d B active, %d bytes/param', (name, params, active, bytesPerParam) => {
    const m = modelProfileFromName(name);
    expect(m.paramsBillions).toBeCloseTo(params);
    expect(m.activeParamsBillions).toBeCloseTo(active);
    expect(m.bytesPerParam).toBe(bytesPerParam);
    expect(m.name).toBe(name);
  });

  it('uses the published Llama-3.1-8B shape: 128 KiB of BF16 KV per token', () => {
    expect(M8).toMatchObject({ layers: 32, kvHeads: 8, headDim: 128 });
    expect(kvBytesPerToken(M8)).toBe(128 * 1024);
    expect(kvBytesPerToken(M70)).toBe(320 * 1024);
  });

  it('applies overrides', () => {
    const fp8Kv = modelProfileFromName('Llama-3.1-8B', { kvBytesPerElement: 1 });
    expect(kvBytesPerToken(fp8Kv)).toBe(64 * 1024);
  });
});

describe('prefillTimeMs', () => {
  it('is 0 for no tokens and grows with the prompt, faster than linearly for long prompts', () => {
    expect(prefillTimeMs(0, M8, h100)).toBe(0);
    const t = [100, 1000, 10_000, 40_000].map((n) => prefillTimeMs(n, M8, h100));
    for (let i = 1; i < t.length; i++) {
      expect(t[i]).toBeGreaterThan(t[i - 1] ?? Infinity);
    }
    // Attention's n^2 term: 4x the tokens costs more than 4x the time at long lengths.
    expect(prefillTimeMs(40_000, M8, h100)).toBeGreaterThan(4 * prefillTimeMs(10_000, M8, h100));
  });

  it('lands near published figures: 8B, 1k tokens on H100 takes tens of ms', () => {
    const ms = prefillTimeMs(1000, M8, h100);
    expect(ms).toBeGreaterThan(15);
    expect(ms).toBeLessThan(80);
  });

  it('speeds up with tensor parallelism, sub-linearly', () => {
    const t1 = prefillTimeMs(4000, M8, h100, 1);
    const t2 = prefillTimeMs(4000, M8, h100, 2);
    const t4 = prefillTimeMs(4000, M8, h100, 4);
    expect(t2).toBeLessThan(t1);
    expect(t4).toBeLessThan(t2);
    expect(t2).toBeGreaterThan(t1 / 2);
    expect(t4).toBeGreaterThan(t1 / 4);
  });

  it('does not get faster with pipeline parallelism', () => {
    expect(prefillTimeMs(4000, M8, h100, 1, 2)).toBeGreaterThanOrEqual(
      prefillTimeMs(4000, M8, h100),
    );
  });

  it('is slower for bigger models and weaker GPUs', () => {
    expect(prefillTimeMs(1000, M70, h100)).toBeGreaterThan(prefillTimeMs(1000, M8, h100));
    expect(prefillTimeMs(1000, TINY, h100)).toBeLessThan(prefillTimeMs(1000, M8, h100));
    expect(prefillTimeMs(1000, M8, a100)).toBeGreaterThan(prefillTimeMs(1000, M8, h100));
    expect(prefillTimeMs(1000, M8, rtx4090)).toBeGreaterThan(prefillTimeMs(1000, M8, l40s));
  });

  it.each([
    [0, 1],
    [1, 0],
    [1.5, 1],
  ])('rejects tp=%d pp=%d', (tp, pp) => {
    expect(() => prefillTimeMs(10, M8, h100, tp, pp)).toThrow(RangeError);
  });
});

describe('decodeStepMs', () => {
  it('is 0 for an empty batch and grows with the batch size', () => {
    expect(decodeStepMs(0, M8, h100)).toBe(0);
    let previous = 0;
    for (const b of [1, 2, 8, 32, 64, 128, 256]) {
      const ms = decodeStepMs(b, M8, h100);
      expect(ms).toBeGreaterThan(previous);
      previous = ms;
    }
  });

  it('is memory-bound at small batches: a step of batch 8 costs far less than 8 steps of batch 1', () => {
    expect(decodeStepMs(8, M8, h100)).toBeLessThan(2 * decodeStepMs(1, M8, h100));
  });

  it('lands near published figures: 8B batch 1 on H100 is 100-250 tokens/s', () => {
    const tokensPerSecond = 1000 / decodeStepMs(1, M8, h100);
    expect(tokensPerSecond).toBeGreaterThan(100);
    expect(tokensPerSecond).toBeLessThan(250);
  });

  it('is faster on H200 than H100 and on H100 than A100 and L40S', () => {
    for (const b of [1, 64]) {
      expect(decodeStepMs(b, M8, h200)).toBeLessThan(decodeStepMs(b, M8, h100));
      expect(decodeStepMs(b, M8, h100)).toBeLessThan(decodeStepMs(b, M8, a100));
      expect(decodeStepMs(b, M8, a100)).toBeLessThan(decodeStepMs(b, M8, l40s));
    }
  });

  it('speeds up with tensor parallelism, sub-linearly, less over PCIe', () => {
    const t1 = decodeStepMs(1, M70, h100, 1);
    const t4 = decodeStepMs(1, M70, h100, 4);
    expect(t4).toBeLessThan(t1);
    expect(t4).toBeGreaterThan(t1 / 4);
    const gainNvlink = decodeStepMs(1, M8, h100, 1) / decodeStepMs(1, M8, h100, 2);
    const pcieH100 = { ...h100, interconnect: 'pcie' as const };
    const gainPcie = decodeStepMs(1, M8, pcieH100, 1) / decodeStepMs(1, M8, pcieH100, 2);
    expect(gainPcie).toBeLessThan(gainNvlink);
  });

  it('costs more with longer contexts', () => {
    expect(decodeStepMs(32, M8, h100, 1, 1, 8000)).toBeGreaterThan(
      decodeStepMs(32, M8, h100, 1, 1, 500),
    );
  });
});

describe('kvCapacityTokens', () => {
  it('lands near what TensorRT-LLM reports: 8B on H100 at 0.9 holds about 450k tokens', () => {
    const tokens = kvCapacityTokens(M8, h100, 1, 0.9);
    expect(tokens).toBeGreaterThan(400_000);
    expect(tokens).toBeLessThan(520_000);
  });

  it('is proportional to free_gpu_memory_fraction', () => {
    const full = kvCapacityTokens(M8, h100, 1, 1);
    expect(kvCapacityTokens(M8, h100, 1, 0.5)).toBeCloseTo(full / 2, -1);
    expect(kvCapacityTokens(M8, h100, 1, 0)).toBe(0);
    const plan = memoryPlan(M8, h100);
    expect(full).toBe(Math.floor(plan.freeBytesPerGpu / kvBytesPerToken(M8)));
  });

  it('is capped by kv_cache_config.max_tokens', () => {
    expect(kvCapacityTokens(M8, h100, 1, 0.9, 8192)).toBe(8192);
    expect(kvCapacityTokens(M8, h100, 1, 0.9, 10 ** 9)).toBe(kvCapacityTokens(M8, h100, 1, 0.9));
  });

  it('is larger on H200 than H100, and with more GPUs', () => {
    expect(kvCapacityTokens(M8, h200, 1, 0.9)).toBeGreaterThan(kvCapacityTokens(M8, h100, 1, 0.9));
    expect(kvCapacityTokens(M8, h100, 2, 0.9)).toBeGreaterThan(kvCapacityTokens(M8, h100, 1, 0.9));
    expect(kvCapacityTokens(M8, h100, 1, 0.9, undefined, 2)).toBeGreaterThan(
      kvCapacityTokens(M8, h100, 1, 0.9),
    );
  });

  it('is 0 when the weights do not fit', () => {
    expect(memoryPlan(M70, rtx4090).freeBytesPerGpu).toBeLessThan(0);
    expect(kvCapacityTokens(M70, rtx4090, 1, 0.9)).toBe(0);
    expect(kvCapacityTokens(M70, h100, 1, 0.9)).toBe(0);
    expect(kvCapacityTokens(M70, h100, 2, 0.9)).toBeGreaterThan(0);
  });

  it('replicates KV heads when TP exceeds their number', () => {
    const fewHeads = modelProfileFromName('Qwen2.5-0.5B'); // 2 KV heads
    const tp2 = kvCapacityTokens(fewHeads, h100, 2, 0.9);
    const tp4 = kvCapacityTokens(fewHeads, h100, 4, 0.9);
    // Per-GPU bytes per token stop shrinking at tp=2, so tp=4 gains only from the smaller weight share.
    expect(tp4 / tp2).toBeLessThan(1.05);
  });

  it.each([-0.1, 1.1, NaN])('rejects a fraction of %s', (f) => {
    expect(() => kvCapacityTokens(M8, h100, 1, f)).toThrow(RangeError);
  });
});

describe('kvBytes / kvTransferMs', () => {
  it('sizes a KV cache from tokens', () => {
    expect(kvBytes(0, M8)).toBe(0);
    expect(kvBytes(1000, M8)).toBe(1000 * 128 * 1024);
  });

  it('takes time proportional to the bytes over the link, plus a fixed latency', () => {
    expect(kvTransferMs(0, M8, 450)).toBe(0);
    const a = kvTransferMs(1000, M8, 25);
    const b = kvTransferMs(2000, M8, 25);
    expect(b).toBeGreaterThan(a);
    expect(b - a).toBeCloseTo(((1000 * 128 * 1024) / 25e9) * 1000, 6);
    // 4k tokens of an 8B model (512 MiB) over PCIe (25 GB/s) takes ~21 ms; over NVLink (450 GB/s) ~1.4 ms.
    expect(kvTransferMs(4096, M8, 25)).toBeCloseTo(21.67, 1);
    expect(kvTransferMs(4096, M8, h100.kvLinkGBps)).toBeLessThan(
      kvTransferMs(4096, M8, l40s.kvLinkGBps),
    );
  });

  it.each([0, -5, NaN])('rejects a link bandwidth of %s', (bw) => {
    expect(() => kvTransferMs(10, M8, bw)).toThrow(RangeError);
  });
});
