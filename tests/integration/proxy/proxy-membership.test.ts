// Dynamic membership with real simulated workers (child processes) and a real etcd: disagg_cluster over
// the proxy's own HTTP store and over etcd (trtllm-protocol.md 7.2-7.4, the test_auto_scaling
// equivalents of reliability.md item 11), and the etcd metadata mode (7.1).
import { afterEach, describe, expect, it } from 'vitest';

import type { ProxyRuntime } from '../../../electron/core/proxy/proxy-runtime';
import {
  DEFAULT_RUN_SETTINGS,
  startProxyRuntime,
} from '../../../electron/core/proxy/proxy-runtime';
import { parseDisaggConfig, parseMetadataConfig } from '../../../shared/logic/config-parse';
import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { EtcdServer } from '../../helpers/etcd';
import { startEtcd } from '../../helpers/etcd';
import { getFreePort } from '../../helpers/free-port';
import { type SimProcess, startSimWorker, tempFile } from '../sim/sim-process';
import { completionBody, request, waitFor } from './proxy-test-kit';

const ENV = { DISAGG_SIM_ZERO_DELAY: '1' };
const BASE_OPTIONS = 'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\n';

function disaggConfig(yaml: string): DisaggConfig {
  const r = parseDisaggConfig(yaml, 'disagg.yaml');
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.value;
}

function metadataConfig(yaml: string): MetadataConfig {
  const r = parseMetadataConfig(yaml, 'metadata.yaml');
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.value;
}

describe('proxy membership', () => {
  const sims: SimProcess[] = [];
  let runtime: ProxyRuntime | undefined;
  let etcd: EtcdServer | undefined;
  const logs: string[] = [];

  afterEach(async () => {
    await runtime?.stop(200);
    runtime = undefined;
    await Promise.all(sims.splice(0).map((s) => s.stop(500)));
    await etcd?.stop();
    etcd = undefined;
    logs.length = 0;
  });

  async function start(cfg: DisaggConfig, metadata?: MetadataConfig): Promise<ProxyRuntime> {
    runtime = await startProxyRuntime({
      config: cfg,
      metadata,
      settings: { ...DEFAULT_RUN_SETTINGS, startTimeoutS: 20 },
      log: (lv, m) => logs.push(`${lv} ${m}`),
    });
    return runtime;
  }

  async function sim(args: string[]): Promise<SimProcess> {
    const s = await startSimWorker(['m', ...args], ENV);
    sims.push(s);
    return s;
  }

  function clusterWorkerArgs(uri: string, role: string): string[] {
    const opts = tempFile(
      'w.yaml',
      `${BASE_OPTIONS}disagg_cluster:\n  cluster_uri: ${uri}\n  cluster_name: t\n  heartbeat_interval_sec: 1\n  inactive_timeout_sec: 2\n`,
    );
    return ['--extra_llm_api_options', opts, '--server_role', role, '--disagg_cluster_uri', uri];
  }

  it('disagg_cluster over the HTTP store: readiness with minimal_instances, a dead worker leaves, a new one joins', async () => {
    const port = await getFreePort();
    const uri = `http://127.0.0.1:${port}`;
    const cfg = disaggConfig(
      `hostname: 127.0.0.1\nport: ${port}\ndisagg_cluster:\n  cluster_uri: ${uri}\n  cluster_name: t\n  minimal_instances:\n    context_servers: 1\n    generation_servers: 1\n  heartbeat_interval_sec: 1\n  inactive_timeout_sec: 2\n`,
    );
    await start(cfg);
    // Not ready yet: readable 503 for clients, not-ready /health, cluster_info says so.
    const early = await request(port, 'POST', '/v1/completions', completionBody());
    expect(early.status).toBe(503);
    expect(early.body).toMatch(/Cluster is not ready/);
    expect((await request(port, 'GET', '/health')).status).toBe(503);
    expect(JSON.parse((await request(port, 'GET', '/cluster_info')).body)).toMatchObject({
      is_ready: false,
    });

    await sim(clusterWorkerArgs(uri, 'context'));
    const gen = await sim(clusterWorkerArgs(uri, 'generation'));
    await waitFor(
      async () => (await request(port, 'GET', '/health')).status === 200,
      8_000,
      'ready',
    );
    const info = JSON.parse((await request(port, 'GET', '/cluster_info')).body) as {
      is_ready: boolean;
      current_workers: { context_servers: unknown[]; generation_servers: unknown[] };
    };
    expect(info.is_ready).toBe(true);
    expect(info.current_workers.context_servers).toHaveLength(1);
    expect(
      (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
    ).toBe(200);

    // SIGKILL the gen worker: its key expires after inactive_timeout_sec and readiness goes.
    await gen.stop(0);
    await waitFor(
      async () => (await request(port, 'GET', '/health')).status === 503,
      8_000,
      'not ready after gen died',
    );
    const refused = await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatch(/0\/1 generation/);

    await sim(clusterWorkerArgs(uri, 'generation'));
    await waitFor(
      async () => (await request(port, 'GET', '/health')).status === 200,
      8_000,
      'ready again',
    );
    expect(
      (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
    ).toBe(200);
  }, 40_000);

  it('disagg_cluster over etcd: workers registered before the proxy started are routed to', async () => {
    etcd = await startEtcd();
    const uri = `etcd://127.0.0.1:${etcd.port}`;
    await sim(clusterWorkerArgs(uri, 'context'));
    await sim(clusterWorkerArgs(uri, 'generation'));
    const port = await getFreePort();
    const cfg = disaggConfig(
      `hostname: 127.0.0.1\nport: ${port}\ndisagg_cluster:\n  cluster_uri: ${uri}\n  cluster_name: t\n  heartbeat_interval_sec: 1\n  inactive_timeout_sec: 2\n`,
    );
    await start(cfg);
    await waitFor(
      async () => (await request(port, 'GET', '/health')).status === 200,
      8_000,
      'ready from the seeded workers',
    );
    expect(
      (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
    ).toBe(200);
    const gen2 = await sim(clusterWorkerArgs(uri, 'generation'));
    await waitFor(
      () => runtime?.proxy.workers().filter((w) => w.role === 'generation').length === 2,
      8_000,
      'second gen joined',
    );
    for (let i = 0; i < 4; i++) {
      expect(
        (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
      ).toBe(200);
    }
    expect(
      runtime?.proxy.workers().find((w) => w.url === `http://127.0.0.1:${gen2.port}`)?.requests,
    ).toBeGreaterThan(0);
  }, 40_000);

  it('etcd metadata mode: a new context worker is used, a dead one is removed, monitoring survives an empty role', async () => {
    etcd = await startEtcd();
    const metaYaml = `server_type: etcd\nhostname: 127.0.0.1\nport: ${etcd.port}\nhealth_check_timeout: 0.5\nrefresh_interval: 0.3\n`;
    const metaFile = tempFile('metadata.yaml', metaYaml);
    const opts = tempFile('w.yaml', BASE_OPTIONS);
    const metaArgs = (role: string): string[] => [
      '--extra_llm_api_options',
      opts,
      '--metadata_server_config_file',
      metaFile,
      '--server_role',
      role,
    ];
    const ctx1 = await sim(metaArgs('context'));
    const gen1 = await sim(metaArgs('generation'));
    const port = await getFreePort();
    const cfg = disaggConfig(
      `hostname: 127.0.0.1\nport: ${port}\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${ctx1.port}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${gen1.port}"]\n`,
    );
    await start(cfg, metadataConfig(metaYaml));
    expect(
      (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
    ).toBe(200);

    const ctx2 = await sim(metaArgs('context'));
    const ctxUrls = (): string[] =>
      runtime?.proxy
        .workers()
        .filter((w) => w.role === 'context')
        .map((w) => w.url) ?? [];
    await waitFor(
      () => ctxUrls().includes(`http://127.0.0.1:${ctx2.port}`),
      8_000,
      'ctx2 discovered',
    );
    for (let i = 0; i < 4; i++) {
      expect(
        (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
      ).toBe(200);
    }

    await ctx1.stop(0);
    await waitFor(
      () => !ctxUrls().includes(`http://127.0.0.1:${ctx1.port}`),
      8_000,
      'dead ctx1 removed',
    );
    for (let i = 0; i < 3; i++) {
      expect(
        (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
      ).toBe(200);
    }

    // Every context worker gone: the role is empty, requests get a readable 503, monitoring goes on.
    await ctx2.stop(0);
    await waitFor(() => ctxUrls().length === 0, 8_000, 'context role empty');
    expect(
      (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
    ).toBe(503);
    const ctx3 = await sim(metaArgs('context'));
    await waitFor(
      () => ctxUrls().includes(`http://127.0.0.1:${ctx3.port}`),
      8_000,
      'ctx3 discovered after the role was empty',
    );
    expect(
      (await request(port, 'POST', '/v1/completions', completionBody({ model: 'm' }))).status,
    ).toBe(200);
  }, 60_000);
});
