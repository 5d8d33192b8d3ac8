import { describe, expect, it } from 'vitest';

import {
  customGpuProfile,
  getGpuProfile,
  GPU_PROFILE_IDS,
  GPU_PROFILES,
  gpuProfileFromName,
} from '../../../../shared/logic/gpu-profiles';

const GIB = 1024 ** 3;

describe('GPU profiles', () => {
  it('has the required profiles with plausible figures', () => {
    expect(GPU_PROFILE_IDS).toEqual(['h100', 'h200', 'a100', 'l40s', 'rtx4090']);
    for (const p of Object.values(GPU_PROFILES)) {
      expect(p.memoryBytes).toBeGreaterThan(20 * GIB);
      expect(p.memoryBandwidthGBps).toBeGreaterThan(500);
      expect(p.prefillTokensPerSec8B).toBeGreaterThan(1000);
      expect(p.kvLinkGBps).toBeGreaterThan(0);
    }
  });

  it.each([
    ['h100', 79, 81],
    ['h200', 139, 141],
    ['a100', 79, 81],
    ['l40s', 44, 46],
    ['rtx4090', 23, 25],
  ] as const)('%s has %d..%d GiB', (id, lo, hi) => {
    const gib = GPU_PROFILES[id].memoryBytes / GIB;
    expect(gib).toBeGreaterThanOrEqual(lo);
    expect(gib).toBeLessThanOrEqual(hi);
  });

  it('orders the parts as the spec sheets do', () => {
    const { h100, h200, a100, l40s, rtx4090 } = GPU_PROFILES;
    expect(h200.memoryBandwidthGBps).toBeGreaterThan(h100.memoryBandwidthGBps);
    expect(h100.memoryBandwidthGBps).toBeGreaterThan(a100.memoryBandwidthGBps);
    expect(h100.prefillTokensPerSec8B).toBeGreaterThan(a100.prefillTokensPerSec8B);
    expect(h100.kvLinkGBps).toBeGreaterThan(l40s.kvLinkGBps);
    expect(l40s.interconnect).toBe('pcie');
    expect(rtx4090.interconnect).toBe('pcie');
  });

  it.each([
    ['h100', 'h100'],
    ['H200', 'h200'],
    [' a100 ', 'a100'],
    ['4090', 'rtx4090'],
    ['rtx-4090', 'rtx4090'],
  ])('getGpuProfile(%j) is %s', (id, expected) => {
    expect(getGpuProfile(id)?.id).toBe(expected);
  });

  it('returns undefined for unknown ids', () => {
    expect(getGpuProfile('tpu')).toBeUndefined();
  });

  it.each([
    ['NVIDIA H100 80GB HBM3', 'h100', 'nvlink'],
    ['NVIDIA H100 PCIe', 'h100', 'pcie'],
    ['NVIDIA H200', 'h200', 'nvlink'],
    ['NVIDIA A100-SXM4-40GB', 'a100', 'nvlink'],
    ['NVIDIA A100-PCIE-40GB', 'a100', 'pcie'],
    ['NVIDIA L40S', 'l40s', 'pcie'],
    ['NVIDIA GeForce RTX 4090', 'rtx4090', 'pcie'],
  ])('maps nvidia-smi name %j', (name, id, interconnect) => {
    const p = gpuProfileFromName(name);
    expect(p?.id).toBe(id);
    expect(p?.interconnect).toBe(interconnect);
    expect(p?.name).toBe(name);
  });

  it('takes the reported memory size over the profile', () => {
    expect(gpuProfileFromName('NVIDIA A100-SXM4-40GB', 40960 * 1024 * 1024)?.memoryBytes).toBe(
      40 * GIB,
    );
    expect(gpuProfileFromName('Tesla T4')).toBeUndefined();
  });

  it('builds a custom profile from numbers', () => {
    const p = customGpuProfile({ memoryGiB: 32, memoryBandwidthGBps: 1000, denseBf16Tflops: 200 });
    expect(p).toMatchObject({
      id: 'custom',
      memoryBytes: 32 * GIB,
      interconnect: 'pcie',
      kvLinkGBps: 25,
    });
    expect(p.prefillTokensPerSec8B).toBeGreaterThan(0);
    expect(
      customGpuProfile({
        memoryGiB: 32,
        memoryBandwidthGBps: 1000,
        denseBf16Tflops: 200,
        interconnect: 'nvlink',
        prefillTokensPerSec8B: 1234,
      }),
    ).toMatchObject({ kvLinkGBps: 450, prefillTokensPerSec8B: 1234 });
  });

  it.each([0, -1, NaN, Infinity])('rejects a custom memory size of %s', (memoryGiB) => {
    expect(() =>
      customGpuProfile({ memoryGiB, memoryBandwidthGBps: 1000, denseBf16Tflops: 200 }),
    ).toThrow(RangeError);
  });
});
