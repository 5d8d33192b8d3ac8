import { describe, expect, it } from 'vitest';

import {
  DEFAULT_SIM_MAX_SEQ_LEN,
  type HardwareInput,
  resolveHardware,
} from '../../../../electron/sim/sim-hardware';

const BASE: HardwareInput = {
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  env: {},
  tpSize: 1,
  ppSize: 1,
  freeGpuMemoryFraction: 0.9,
  kvMaxTokens: null,
  tokensPerBlock: 32,
};

function hw(patch: Partial<HardwareInput> = {}) {
  const r = resolveHardware({ ...BASE, ...patch });
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('resolveHardware', () => {
  it.each([
    ['h100', 'NVIDIA H100 80GB HBM3'],
    ['h200', 'NVIDIA H200'],
    ['a100', 'NVIDIA A100-SXM4-80GB'],
    ['l40s', 'NVIDIA L40S'],
    ['rtx4090', 'NVIDIA GeForce RTX 4090'],
  ])('knows the %s profile', (id, name) => {
    expect(hw({ env: { DISAGG_SIM_GPU: id } })).toMatchObject({
      profileName: id,
      gpuName: name,
      defaultMaxSeqLen: DEFAULT_SIM_MAX_SEQ_LEN,
    });
  });

  it('defaults to h100 and takes custom numbers', () => {
    expect(hw().profileName).toBe('h100');
    const custom = hw({
      env: {
        DISAGG_SIM_GPU: 'custom',
        DISAGG_SIM_GPU_PROFILE: '{"memoryGiB":48,"memoryBandwidthGBps":960,"denseBf16Tflops":180}',
      },
    });
    expect(custom.profileName).toBe('custom');
    expect(custom.kvCapacityTokens).toBeLessThan(hw().kvCapacityTokens);
  });

  it.each([
    [{ DISAGG_SIM_GPU: 'v100' }, "unknown DISAGG_SIM_GPU 'v100'"],
    [{ DISAGG_SIM_GPU: 'custom' }, 'DISAGG_SIM_GPU=custom needs DISAGG_SIM_GPU_PROFILE'],
  ])('rejects %j', (env, message) => {
    const r = resolveHardware({ ...BASE, env });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('sizes the KV cache from GPU memory and free_gpu_memory_fraction, capped by max_tokens, in whole blocks', () => {
    const full = hw().kvCapacityTokens;
    const half = hw({ freeGpuMemoryFraction: 0.45 }).kvCapacityTokens;
    expect(full % 32).toBe(0);
    expect(Math.abs(half / full - 0.5)).toBeLessThan(0.01);
    expect(hw({ env: { DISAGG_SIM_GPU: 'h200' } }).kvCapacityTokens).toBeGreaterThan(full);
    expect(hw({ kvMaxTokens: 1000 }).kvCapacityTokens).toBe(992);
  });

  it('fails like an out-of-memory worker when the model does not fit', () => {
    const r = resolveHardware({
      ...BASE,
      model: 'meta-llama/Llama-3.1-70B-Instruct',
      env: { DISAGG_SIM_GPU: 'rtx4090' },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('out of memory');
    expect(
      resolveHardware({ ...BASE, model: 'meta-llama/Llama-3.1-70B-Instruct', tpSize: 4 }).ok,
    ).toBe(true);
  });

  it('times prefill by tokens, decode by batch size and context, and tp speeds both up', () => {
    const one = hw();
    const tp2 = hw({ tpSize: 2 });
    const prefill = (h: ReturnType<typeof hw>, ...n: number[]): number => h.iterationMs(n, 0, 0);
    const decode = (h: ReturnType<typeof hw>, batch: number, ctx = 1024): number =>
      h.iterationMs([], batch, ctx);
    expect(prefill(one, 2000)).toBeGreaterThan(prefill(one, 500) * 3);
    // Four 500-token prompts cost less than one 2000-token prompt (attention is quadratic per prompt).
    expect(prefill(one, 500, 500, 500, 500)).toBeLessThan(prefill(one, 2000));
    expect(decode(one, 64)).toBeGreaterThan(decode(one, 1));
    // A batch of 64 costs far less than 64 single steps (decode is memory bound).
    expect(decode(one, 64)).toBeLessThan(decode(one, 1) * 8);
    expect(decode(one, 32, 8000)).toBeGreaterThan(decode(one, 32, 100));
    expect(prefill(tp2, 2000)).toBeLessThan(prefill(one, 2000));
    expect(decode(tp2, 8)).toBeLessThan(decode(one, 8));
    expect(decode(hw({ env: { DISAGG_SIM_GPU: 'a100' } }), 8)).toBeGreaterThan(decode(one, 8));
    expect(one.iterationMs([], 0, 0)).toBe(0);
  });

  it('computes KV bytes of an 8B-class model and the transfer time at the configured link', () => {
    const slow = hw({ env: { DISAGG_SIM_KV_LINK_GB_S: '1' } });
    expect(slow.kvBytesForTokens(1000)).toBe(1000 * 131_072);
    expect(slow.kvTransferMs(131_072_000)).toBeCloseTo(131.072, 0);
    expect(hw().linkGBps).toBe(450);
    expect(hw().kvTransferMs(131_072_000)).toBeLessThan(1);
  });
});
