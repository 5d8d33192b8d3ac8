// The console detects each worker's TensorRT-LLM release (docs/upstream-versions.md section 8): simulated
// workers emulating 1.0 and 1.2 show their release in their views, the proxy is restarted with the oldest
// common dialect and a warning for the mix, and requests still flow through it; the setting overrides.
import { afterEach, describe, expect, it } from 'vitest';

import { getFreePort } from '../../../helpers/free-port';
import { type BackendHarness, complete, MODEL, startTestBackend } from './backend-kit';

let h: BackendHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

function topology(
  ports: { ctx: number; gen: number; proxy: number },
  releases: { ctx: string; gen: string },
): Record<string, string> {
  const worker = (name: string, role: string, gpu: number, port: number, release: string): string =>
    `  - name: ${name}\n    role: ${role}\n    gpus: [${gpu}]\n    host: 127.0.0.1\n    port: ${port}\n    model: ${MODEL}\n    engine: simulated\n    backend: pytorch\n    options_file: ${name}.yaml\n    env:\n      DISAGG_SIM_EMULATE_VERSION: "${release}"\n`;
  const opts = 'cache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 8192\n';
  return {
    'console.yaml': `workers:\n${worker('ctx0', 'context', 0, ports.ctx, releases.ctx)}${worker('gen0', 'generation', 1, ports.gen, releases.gen)}`,
    'disagg_config.yaml': `hostname: 127.0.0.1\nport: ${ports.proxy}\nbackend: pytorch\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${ports.ctx}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${ports.gen}"]\n`,
    'ctx0.yaml': `disable_overlap_scheduler: true\n${opts}`,
    'gen0.yaml': opts,
  };
}

async function releasesShown(hh: BackendHarness): Promise<string[]> {
  return (await hh.client.invoke('workers:list')).map(
    (w) => `${w.id}:${w.trtllm?.reported ?? '?'}:${w.trtllm?.source ?? '?'}`,
  );
}

/** Applies a ctx0 + gen0 topology of sims emulating `releases`; resolves once the rows show `rows`. */
async function applyAndWait(
  hh: BackendHarness,
  releases: { ctx: string; gen: string },
  rows: string[],
  proxyRelease: string,
): Promise<void> {
  const { port: proxyPort } = await hh.client.invoke('proxy:info');
  const ports = { ctx: await getFreePort(), gen: await getFreePort(), proxy: proxyPort };
  await hh.client.invoke('topology:apply', topology(ports, releases));
  await expect.poll(() => releasesShown(hh), { timeout: 30_000, interval: 200 }).toEqual(rows);
  await expect
    .poll(async () => (await hh.client.invoke('proxy:info')).trtllmVersion, {
      timeout: 20_000,
      interval: 200,
    })
    .toBe(proxyRelease);
}

describe('worker releases in the console', () => {
  it('detects 1.0 and 1.2 workers and the proxy speaks the 1.0 dialect (no restart) with a warning', async () => {
    h = await startTestBackend();
    const hh = h;
    await applyAndWait(
      hh,
      { ctx: '1.0', gen: '1.2' },
      ['ctx0:1.0.0:endpoint', 'gen0:1.2.0:endpoint'],
      '1.0',
    );
    const info = await hh.client.invoke('proxy:info');
    expect(info.versionWarning).toMatch(/1\.0, 1\.2/);
    expect(info.restarts ?? 0).toBe(0);
    // The proxy kept its members and serves.
    await expect
      .poll(async () => (await complete(info.url)).status, { timeout: 15_000, interval: 200 })
      .toBe(200);
  }, 90_000);

  it('uses the release the settings name instead of asking the workers', async () => {
    h = await startTestBackend();
    const hh = h;
    await hh.client.invoke('settings:set', { trtllmVersion: '1.2' });
    await applyAndWait(hh, { ctx: '1.0', gen: '1.0' }, ['ctx0:?:setting', 'gen0:?:setting'], '1.2');
    expect((await hh.client.invoke('proxy:info')).versionWarning).toBeNull();
  }, 90_000);
});
