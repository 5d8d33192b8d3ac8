import { createServer, type Server } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { isPortFree } from '../../../../electron/core/topology/port-probe';
import { formatIssue } from '../../../../shared/logic/config-issues';
import { preflightTopology } from '../../../../shared/logic/preflight';
import { DISAGG_YAML, validTopology, withEdit } from '../../core/topology/fixture-topology';

const allFree = { isPortFree: () => Promise.resolve(true) };

/** The valid topology with the context and generation urls swapped. */
function swapUrls() {
  const swapped = DISAGG_YAML.replace('"localhost:8001"', '"X"')
    .replace('"localhost:8002"', '"localhost:8001"')
    .replace('"X"', '"localhost:8002"');
  return { ...validTopology(), 'disagg_config.yaml': swapped };
}

describe('preflightTopology', () => {
  it('passes the README minimal pair without errors or warnings', async () => {
    const r = await preflightTopology(validTopology(), allFree);
    expect(r.issues.map(formatIssue)).toEqual([]);
    expect(r.topology?.console.workers.map((w) => w.name)).toEqual(['ctx0', 'gen0']);
  });

  it.each([
    {
      name: 'different cache transceiver backends',
      files: withEdit('gen.yaml', 'backend: UCX', 'backend: NIXL'),
      expected:
        'gen.yaml:2:3 cache_transceiver_config.backend: worker gen0 uses backend NIXL but context worker ctx0 uses UCX; KV transfer needs the same backend on both roles',
    },
    {
      name: 'missing cache transceiver backend',
      files: withEdit('gen.yaml', '  backend: UCX\n', ''),
      expected:
        'gen.yaml:1:1 cache_transceiver_config.backend: worker gen0: cache_transceiver_config.backend is not set, which disables disaggregation on the worker (set backend: UCX (or NIXL), the same on every worker)',
    },
    {
      name: 'overlap scheduler on for a context worker',
      files: withEdit(
        'ctx.yaml',
        'disable_overlap_scheduler: true',
        'disable_overlap_scheduler: false',
      ),
      expected:
        'ctx.yaml:1:1 disable_overlap_scheduler: context worker ctx0 needs disable_overlap_scheduler: true (context-only requests fail with the overlap scheduler on) (add disable_overlap_scheduler: true)',
    },
    {
      name: 'overlap scheduler key missing on a context worker',
      files: withEdit('ctx.yaml', 'disable_overlap_scheduler: true\n', ''),
      expected:
        'ctx.yaml:1:1 context worker ctx0 needs disable_overlap_scheduler: true (context-only requests fail with the overlap scheduler on) (add disable_overlap_scheduler: true)',
    },
    {
      name: 'max_tokens_in_buffer below the longest expected input',
      files: withEdit(
        'console.yaml',
        'expected_max_input_tokens: 2048',
        'expected_max_input_tokens: 4096',
      ),
      expected:
        'ctx.yaml:4:3 cache_transceiver_config.max_tokens_in_buffer: worker ctx0: max_tokens_in_buffer 2048 is less than the longest expected input (4096 tokens) (set it to at least 4096)',
    },
    {
      name: 'TP x PP not equal to the GPUs given',
      files: withEdit(
        'ctx.yaml',
        'disable_overlap_scheduler: true',
        'disable_overlap_scheduler: true\ntensor_parallel_size: 2',
      ),
      expected:
        'console.yaml:7:5 workers[0].gpus: worker ctx0 runs TP 2 x PP 1 = 2 GPUs but is given 1 (give it 2 GPUs or change tensor/pipeline_parallel_size)',
    },
    {
      name: 'pp_size in console.yaml',
      files: withEdit(
        'console.yaml',
        '    options_file: gen.yaml',
        '    options_file: gen.yaml\n    pp_size: 2',
      ),
      expected:
        'console.yaml:16:5 workers[1].gpus: worker gen0 runs TP 1 x PP 2 = 2 GPUs but is given 1 (give it 2 GPUs or change tensor/pipeline_parallel_size)',
    },
    {
      name: 'the same port twice',
      files: withEdit('console.yaml', 'port: 8002', 'port: 8001'),
      expected: 'console.yaml:18:5 workers[1].port: port 8001 is used by both ctx0 and gen0',
    },
    {
      name: 'a worker on the proxy port',
      files: withEdit('console.yaml', 'port: 8002', 'port: 8000'),
      expected: 'console.yaml:18:5 workers[1].port: port 8000 is used by both the proxy and gen0',
    },
    {
      name: 'num_instances not matching urls',
      files: withEdit(
        'disagg_config.yaml',
        'num_instances: 1\n  urls:\n    - "localhost:8002"',
        'num_instances: 2\n  urls:\n    - "localhost:8002"',
      ),
      expected:
        'disagg_config.yaml:9:3 generation_servers.num_instances: num_instances is 2 but urls lists 1 server; they must match',
    },
    {
      name: 'a worker listed under the other role',
      files: swapUrls(),
      expected:
        'disagg_config.yaml:6:3 context_servers.urls: localhost:8002 is generation worker gen0 but is listed in context_servers.urls',
    },
    {
      name: 'metadata mode without metadata_config.yaml',
      files: withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: metadata'),
      expected:
        'console.yaml:2:1 cluster_mode: cluster_mode metadata needs metadata_config.yaml (server_type: etcd, hostname, port)',
    },
    {
      name: 'a missing options file',
      files: withEdit('console.yaml', 'options_file: gen.yaml', 'options_file: nope.yaml'),
      expected:
        'console.yaml:1:1 workers[1].options_file: worker gen0: options file nope.yaml is not in the topology',
    },
  ])('reports $name as an error', async ({ files, expected }) => {
    const r = await preflightTopology(files, allFree);
    const errors = r.issues.filter((i) => i.severity === 'error').map(formatIssue);
    expect(errors).toContain(expected);
  });

  it.each([
    {
      name: 'a GPU given twice',
      files: withEdit('console.yaml', 'gpus: [1]', 'gpus: [0]'),
      expected:
        'console.yaml:16:12 warning: workers[1].gpus[0]: GPU 0 is given to both ctx0 and gen0; they will share its memory',
    },
    {
      name: 'max_tokens_in_buffer unset',
      files: withEdit('gen.yaml', '  max_tokens_in_buffer: 2048\n', ''),
      expected:
        'gen.yaml:1:1 warning: cache_transceiver_config: worker gen0: max_tokens_in_buffer is not set; the upstream README sets it to at least the longest input (2048 tokens)',
    },
    {
      name: 'a worker not in urls',
      files: withEdit('console.yaml', 'port: 8002', 'port: 8003'),
      expected:
        'disagg_config.yaml:10:3 warning: generation_servers.urls: generation worker gen0 (localhost:8003) is not in generation_servers.urls, so the proxy will not route to it (add "localhost:8003")',
    },
    {
      name: 'two different models',
      files: withEdit(
        'console.yaml',
        'model: TinyLlama/TinyLlama-1.1B-Chat-v1.0\n    engine: simulated\n    backend: pytorch\n    options_file: gen.yaml',
        'model: other\n    engine: simulated\n    backend: pytorch\n    options_file: gen.yaml',
      ),
      expected:
        'console.yaml:4:1 warning: workers: workers serve different models (TinyLlama/TinyLlama-1.1B-Chat-v1.0, other); context and generation must run the same model',
    },
  ])('warns about $name without failing', async ({ files, expected }) => {
    const r = await preflightTopology(files, allFree);
    expect(r.issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    expect(r.issues.map(formatIssue)).toContain(expected);
  });

  it('checks that a disagg_cluster worker registers in the cluster the proxy watches', async () => {
    let files = withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: disagg_cluster');
    files = withEdit(
      'disagg_config.yaml',
      'backend: pytorch\n',
      'backend: pytorch\ndisagg_cluster:\n  cluster_uri: http://localhost:8000\n  cluster_name: prod\n',
      files,
    );
    files = withEdit(
      'ctx.yaml',
      'disable_overlap_scheduler: true\n',
      'disable_overlap_scheduler: true\ndisagg_cluster:\n  cluster_uri: http://localhost:8000\n  cluster_name: prod\n',
      files,
    );
    const errors = (await preflightTopology(files, allFree)).issues
      .filter((i) => i.severity === 'error')
      .map(formatIssue);
    expect(errors).toEqual([
      "gen.yaml:1:1 worker gen0 would register in cluster '' (only --disagg_cluster_uri) but the proxy watches cluster_name 'prod' (add disagg_cluster: {cluster_uri: http://localhost:8000, cluster_name: prod})",
    ]);
  });
});

describe('port checks', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('reports a worker port held by another process, and not one the console owns', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const files = withEdit(
      'console.yaml',
      'port: 8002',
      `port: ${port}`,
      withEdit('disagg_config.yaml', '"localhost:8002"', `"localhost:${port}"`),
    );
    // Probe only the port this test holds: the fixture's other fixed port (8001) may be in use by anything
    // else running on the machine, which is not what this test is about.
    const probeOnlyOurs = (host: string, p: number): Promise<boolean> =>
      p === port ? isPortFree(host, p) : Promise.resolve(true);
    const taken = await preflightTopology(files, { isPortFree: probeOnlyOurs });
    expect(taken.issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([
      `console.yaml:18:5 workers[1].port: port ${port} is already in use by another process`,
    ]);
    const owned = await preflightTopology(files, {
      isPortFree: probeOnlyOurs,
      ownedPorts: new Set([port]),
    });
    expect(owned.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('says a free port is free', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    expect(await isPortFree('127.0.0.1', port)).toBe(false);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(await isPortFree('localhost', port)).toBe(true);
  });
});
