// disagg_cluster mode over the proxy's own HTTP store (trtllm-protocol.md 7.2): the console's workers register
// in the store its proxy serves, the proxy routes to them, cluster:status reports readiness, and safe removal
// deletes the worker's key before the process stops.
import { afterEach, describe, expect, it } from 'vitest';

import { getFreePort } from '../../../helpers/free-port';
import { type BackendHarness, complete, MODEL, startTestBackend } from './backend-kit';

let h: BackendHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

function clusterTopology(proxyPort: number, ports: number[]): Record<string, string> {
  const names = ['ctx0', 'gen0', 'gen1'];
  const worker = (i: number): string =>
    `  - name: ${names[i]}\n    role: ${i === 0 ? 'context' : 'generation'}\n    gpus: [${i}]\n    host: 127.0.0.1\n    port: ${ports[i]}\n    model: ${MODEL}\n    engine: simulated\n    backend: pytorch\n    options_file: ${names[i]}.yaml\n`;
  // Workers read cluster_name and timings from their own disagg_cluster section (a bare --disagg_cluster_uri
  // would register them in cluster '').
  const cluster = `disagg_cluster:\n  cluster_uri: http://127.0.0.1:${proxyPort}\n  cluster_name: console\n  heartbeat_interval_sec: 1\n  inactive_timeout_sec: 3\n`;
  const opts = `cache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 8192\n${cluster}`;
  return {
    'console.yaml': `cluster_mode: disagg_cluster\nworkers:\n${worker(0)}${worker(1)}${worker(2)}`,
    'disagg_config.yaml': `hostname: 127.0.0.1\nport: ${proxyPort}\n${cluster}`,
    'ctx0.yaml': `disable_overlap_scheduler: true\n${opts}`,
    'gen0.yaml': opts,
    'gen1.yaml': opts,
  };
}

describe('console backend in disagg_cluster mode', () => {
  it('routes to workers registered in the proxy store and removes one by deleting its key first', async () => {
    h = await startTestBackend();
    const hh = h;
    const { port: proxyPort, url } = await hh.client.invoke('proxy:info');
    const ports = [await getFreePort(), await getFreePort(), await getFreePort()];
    const result = await hh.client.invoke('topology:apply', clusterTopology(proxyPort, ports));
    expect(result.plan.start.sort()).toEqual(['ctx0', 'gen0', 'gen1']);
    await expect
      .poll(async () => (await hh.client.invoke('cluster:status')).isReady, {
        timeout: 20_000,
        interval: 200,
      })
      .toBe(true);
    expect((await hh.client.invoke('cluster:status')).mode).toBe('disagg_cluster');
    await expect
      .poll(async () => (await complete(url)).status, { timeout: 10_000, interval: 200 })
      .toBe(200);
    // The store lists all three and none counts as remote: they are the console's own.
    const genPorts = async (): Promise<number[]> =>
      (
        (await (await fetch(`${url}/cluster_info`)).json()) as {
          current_workers: { generation_servers: { port: number }[] };
        }
      ).current_workers.generation_servers
        .map((w) => w.port)
        .sort();
    await expect
      .poll(genPorts, { timeout: 10_000, interval: 200 })
      .toEqual([ports[1], ports[2]].sort());
    expect((await hh.client.invoke('workers:list')).every((w) => w.origin === 'local')).toBe(true);

    await hh.client.invoke('workers:remove', 'gen1');
    expect(await genPorts()).toEqual([ports[1]]);
    for (let i = 0; i < 4; i++) expect((await complete(url, `q${i}`)).status).toBe(200);
    expect((await hh.client.invoke('workers:list')).map((w) => w.id).sort()).toEqual([
      'ctx0',
      'gen0',
    ]);

    // A worker added through the API gets the cluster section and registers in the same cluster.
    const added = await hh.client.invoke('workers:add', {
      role: 'generation',
      gpus: [3],
      model: MODEL,
      engine: 'simulated',
      port: await getFreePort(),
    });
    expect((await hh.client.invoke('topology:get')).files[`${added.id}.yaml`]).toContain(
      'cluster_name: "console"',
    );
    await expect
      .poll(genPorts, { timeout: 10_000, interval: 200 })
      .toEqual([ports[1], added.spec?.port].sort());
  }, 60_000);
});
