import { describe, expect, it } from 'vitest';

import { defaultServeArgs } from '../../../../electron/sim/sim-cli-args';
import { resolveWorker, visibleGpus } from '../../../../electron/sim/sim-worker';

const io = { stdout: (): void => undefined, stderr: (): void => undefined };

describe('visibleGpus', () => {
  it.each([
    [{ CUDA_VISIBLE_DEVICES: '0,1' }, ['0', '1']],
    [{ CUDA_VISIBLE_DEVICES: ' 3 , 5 ' }, ['3', '5']],
    [{ CUDA_VISIBLE_DEVICES: '' }, []],
    [{ CUDA_VISIBLE_DEVICES: '-1' }, []],
    [{}, ['0', '1', '2', '3']],
    [{ DISAGG_SIM_GPU_COUNT: '2' }, ['0', '1']],
  ])('%j -> %j', (env, expected) => {
    expect(visibleGpus(env)).toEqual(expected);
  });
});

describe('resolveWorker', () => {
  it('resolves defaults into engine limits and server settings', () => {
    const r = resolveWorker(
      defaultServeArgs('meta-llama/Llama-3.1-8B-Instruct'),
      { CUDA_VISIBLE_DEVICES: '0' },
      io,
    );
    expect(r.engineLimits).toMatchObject({
      maxBatchSize: 2048,
      maxNumTokens: 8192,
      tokensPerBlock: 32,
    });
    expect(r.engineLimits.kvCapacityTokens).toBeGreaterThan(100_000);
    expect(r.settings).toMatchObject({
      modelName: 'meta-llama/Llama-3.1-8B-Instruct',
      host: 'localhost',
      port: 8000,
      maxSeqLen: 8192,
      isOverlapScheduler: true,
      hasKvTransceiver: false,
      isZeroDelay: false,
      kvTransferTimeoutMs: 60_000,
    });
    expect(r.role).toBeNull();
    expect(r.iterationMs([1000], 0, 0)).toBeGreaterThan(0);
  });

  it('zero-delay mode removes every simulated delay', () => {
    const r = resolveWorker(
      defaultServeArgs('m'),
      { CUDA_VISIBLE_DEVICES: '0', DISAGG_SIM_ZERO_DELAY: '1' },
      io,
    );
    expect(r.iterationMs([4000], 64, 4000)).toBe(0);
    expect(r.loadMs).toBe(0);
    expect(r.settings.isAccessLog).toBe(false);
  });

  it.each([
    [undefined, 0],
    ['1000', 1000],
    ['-2.5', -2.5],
    ['soon', 0],
  ])('DISAGG_SIM_STEADY_CLOCK_SKEW_S=%s skews the steady clock by %d s', (v, skew) => {
    const r = resolveWorker(
      defaultServeArgs('m'),
      { CUDA_VISIBLE_DEVICES: '0', DISAGG_SIM_STEADY_CLOCK_SKEW_S: v },
      io,
    );
    expect(r.settings.steadyClockSkewSec).toBe(skew);
  });

  it.each([
    [{ server_role: 'context', disagg_cluster_uri: null, metadata_server_config_file: null }, null],
    [{ server_role: 'worker' }, "KeyError: 'WORKER' is not a ServerRole"],
    [{ disagg_cluster_uri: 'etcd://127.0.0.1:2379' }, '--server_role is required'],
    [{ tp_size: 2 }, '2 GPUs are needed, but 1 are visible'],
  ])('checks %j', (patch, message) => {
    const args = { ...defaultServeArgs('m'), ...patch };
    if (message === null) {
      expect(resolveWorker(args, { CUDA_VISIBLE_DEVICES: '0' }, io).role).toBe('CONTEXT');
    } else {
      expect(() => resolveWorker(args, { CUDA_VISIBLE_DEVICES: '0' }, io)).toThrow(message);
    }
  });
});
