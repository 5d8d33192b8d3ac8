// Cluster membership in the console with a real etcd: a topology in etcd metadata mode starts the embedded
// etcd on the port metadata_config.yaml names, its workers register there, and a worker registered by someone
// else (another machine, a SLURM job) appears as a remote worker, health-checked, and takes traffic.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { EtcdClusterStorage } from '../../../../electron/core/cluster/etcd-cluster-storage';
import { ETCD_MISSING_MESSAGE } from '../../../../electron/core/etcd/embedded-etcd';
import { getFreePort } from '../../../helpers/free-port';
import { type SimProcess, startSimWorker } from '../../sim/sim-process';
import { type BackendHarness, complete, MODEL, startTestBackend } from './backend-kit';

let h: BackendHarness | undefined;
let remote: SimProcess | undefined;

afterEach(async () => {
  await remote?.stop();
  remote = undefined;
  await h?.close();
  h = undefined;
});

function metadataTopology(
  etcdPort: number,
  ctxPort: number,
  genPort: number,
  proxyPort: number,
): Record<string, string> {
  const worker = (name: string, role: string, gpu: number, port: number): string =>
    `  - name: ${name}\n    role: ${role}\n    gpus: [${gpu}]\n    host: 127.0.0.1\n    port: ${port}\n    model: ${MODEL}\n    engine: simulated\n    backend: pytorch\n    options_file: ${name}.yaml\n`;
  const opts = (extra: string): string =>
    `${extra}cache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 8192\nenable_iter_perf_stats: true\n`;
  return {
    'console.yaml': `cluster_mode: metadata\nworkers:\n${worker('ctx0', 'context', 0, ctxPort)}${worker('gen0', 'generation', 1, genPort)}`,
    'disagg_config.yaml': `hostname: 127.0.0.1\nport: ${proxyPort}\nbackend: pytorch\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${ctxPort}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${genPort}"]\n`,
    'metadata_config.yaml': `server_type: etcd\nhostname: 127.0.0.1\nport: ${etcdPort}\nhealth_check_timeout: 1.0\nrefresh_interval: 1.0\n`,
    'ctx0.yaml': opts('disable_overlap_scheduler: true\n'),
    'gen0.yaml': opts(''),
  };
}

describe('console backend in etcd metadata mode', () => {
  it('runs the embedded etcd, registers its workers, and routes to a remote worker found there', async () => {
    h = await startTestBackend();
    const hh = h;
    const etcdPort = await getFreePort();
    const [ctxPort, genPort] = [await getFreePort(), await getFreePort()];
    const { port: proxyPort, url: proxyUrl } = await hh.client.invoke('proxy:info');
    const files = metadataTopology(etcdPort, ctxPort, genPort, proxyPort);
    const result = await hh.client.invoke('topology:apply', files);
    expect(result.plan.start.sort()).toEqual(['ctx0', 'gen0']);
    const status = await hh.client.invoke('cluster:status');
    expect(status).toMatchObject({
      mode: 'metadata',
      etcd: { state: 'embedded', endpoint: `http://127.0.0.1:${etcdPort}` },
    });

    const storage = new EtcdClusterStorage([`http://127.0.0.1:${etcdPort}`]);
    try {
      // The console's own workers register in the embedded etcd (trtllm/<host-pid-ms>, protocol 7.1) ...
      await expect
        .poll(async () => Object.keys(await storage.getPrefix('trtllm/')).length, {
          timeout: 20_000,
          interval: 200,
        })
        .toBe(2);
      // ... and are not listed twice (local, not remote).
      expect(
        (await hh.client.invoke('workers:list')).map((w) => `${w.id}:${w.origin}`).sort(),
      ).toEqual(['ctx0:local', 'gen0:local']);

      // A worker started by someone else, registering in the same etcd.
      const metaFile = join(hh.dataDir, 'remote-metadata.yaml');
      writeFileSync(metaFile, files['metadata_config.yaml'] ?? '');
      const optionsFile = join(hh.dataDir, 'remote-gen.yaml');
      writeFileSync(optionsFile, files['gen0.yaml'] ?? '');
      const remotePort = await getFreePort();
      remote = await startSimWorker(
        [
          MODEL,
          '--port',
          String(remotePort),
          '--extra_llm_api_options',
          optionsFile,
          '--metadata_server_config_file',
          metaFile,
          '--server_role',
          'GENERATION',
        ],
        { DISAGG_SIM_ZERO_DELAY: '1' },
      );
      await expect
        .poll(
          async () =>
            (await hh.client.invoke('workers:list'))
              .filter((w) => w.origin === 'remote')
              .map((w) => [w.role, w.url, w.status.state]),
          { timeout: 15_000, interval: 200 },
        )
        .toEqual([['generation', `http://127.0.0.1:${remotePort}`, 'ready']]);
      const remoteView = (await hh.client.invoke('cluster:status')).remoteWorkers[0];
      expect(remoteView).toMatchObject({ role: 'generation', model: MODEL, isHealthy: true });

      // It is routed to: with round robin over gen0 and the remote worker, both serve.
      for (let i = 0; i < 6; i++) {
        const r = await complete(proxyUrl, `p${i}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
      await expect
        .poll(
          async () =>
            (
              (await hh.client.invoke('metrics:snapshot', { fromMs: Date.now() - 60_000 }))
                .perWorker[remoteView?.id ?? ''] ?? []
            ).reduce((n, b) => n + b.requests, 0),
          { timeout: 10_000, interval: 200 },
        )
        .toBeGreaterThan(0);

      // Gone remote workers drop out: its key is deleted on SIGTERM.
      await remote.stop();
      remote = undefined;
      await expect
        .poll(
          async () =>
            (await hh.client.invoke('workers:list')).filter((w) => w.origin === 'remote').length,
          { timeout: 15_000, interval: 200 },
        )
        .toBe(0);
    } finally {
      await storage.close();
    }
  }, 90_000);

  it('says clearly in cluster:status when etcd is needed but not installed', async () => {
    h = await startTestBackend({ etcdBinary: '/nonexistent/etcd' });
    const hh = h;
    const [etcdPort, ctxPort, genPort] = [
      await getFreePort(),
      await getFreePort(),
      await getFreePort(),
    ];
    const { port: proxyPort } = await hh.client.invoke('proxy:info');
    await hh.client.invoke(
      'topology:apply',
      metadataTopology(etcdPort, ctxPort, genPort, proxyPort),
    );
    const status = await hh.client.invoke('cluster:status');
    expect(status.mode).toBe('metadata');
    expect(status.etcd).toEqual({
      state: 'unavailable',
      endpoint: null,
      message: ETCD_MISSING_MESSAGE,
    });
    expect(status.etcd.message).toMatch(
      /etcd is not installed: install it .*or set an external etcd endpoint/,
    );
  }, 60_000);
});
