// The real-binary path through the whole backend: workers:add with engine trtllm-serve runs the
// `trtllm-serve` found on the workers' PATH (a fake that records its argv and env, then serves /health) with
// upstream's exact flags, the options file of the applied version, CUDA_VISIBLE_DEVICES and the extra env.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type BackendHarness, MODEL, startTestBackend } from './backend-kit';

const FAKE_DIR = resolve(__dirname, '../../../fixtures/fake-trtllm-serve');
let h: BackendHarness | undefined;
let recordDir = '';

afterEach(async () => {
  await h?.close();
  h = undefined;
  rmSync(recordDir, { recursive: true, force: true });
});

describe('engine trtllm-serve', () => {
  it('launches trtllm-serve from PATH with the upstream flags, its GPUs and extra env', async () => {
    recordDir = mkdtempSync(join(tmpdir(), 'dc-fake-trtllm-'));
    const record = join(recordDir, 'record.json');
    h = await startTestBackend({
      isDemo: true,
      env: {
        ...process.env,
        DISAGG_SIM_ZERO_DELAY: '1',
        PATH: `${FAKE_DIR}:${process.env.PATH ?? ''}`,
        FAKE_TRTLLM_RECORD: record,
      },
    });
    const hh = h;
    await expect
      .poll(
        async () =>
          (await hh.client.invoke('workers:list')).filter((w) => w.status.state === 'ready').length,
        { timeout: 20_000, interval: 100 },
      )
      .toBe(2);
    const view = await hh.client.invoke('workers:add', {
      role: 'generation',
      gpus: [2, 3],
      model: MODEL,
      engine: 'trtllm-serve',
      id: 'gen-real',
      extraEnv: { UCX_TLS: '^ib' },
    });
    await expect
      .poll(
        async () =>
          (await hh.client.invoke('workers:list')).find((w) => w.id === 'gen-real')?.status.state,
        { timeout: 20_000, interval: 100 },
      )
      .toBe('ready');
    const seen = JSON.parse(readFileSync(record, 'utf8')) as {
      argv: string[];
      env: Record<string, string>;
    };
    const version = (await hh.client.invoke('topology:get')).appliedVersion;
    expect(seen.argv).toEqual([
      MODEL,
      '--host',
      '127.0.0.1',
      '--port',
      String(view.spec?.port),
      '--backend',
      'pytorch',
      '--tp_size',
      '2',
      '--pp_size',
      '1',
      '--extra_llm_api_options',
      join(hh.dataDir, 'topologies', 'default', 'versions', String(version), 'gen-real.yaml'),
    ]);
    expect(seen.env.CUDA_VISIBLE_DEVICES).toBe('2,3');
    expect(seen.env.UCX_TLS).toBe('^ib');
    const gpus = await hh.client.invoke('gpus:list');
    expect(gpus.holders['3']).toEqual([{ workerId: 'gen-real', role: 'generation' }]);
    const logs = await hh.client.invoke('workers:logs', 'gen-real', {
      search: 'Loading safetensors',
    });
    expect(logs.length).toBeGreaterThan(0);
  }, 60_000);
});
