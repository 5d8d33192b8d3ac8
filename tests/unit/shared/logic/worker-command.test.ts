import { describe, expect, it } from 'vitest';

import { buildWorkerCommand, formatCommandLine } from '../../../../shared/logic/worker-command';
import type { WorkerSpec } from '../../../../shared/model/worker';
import { workerSpec } from '../../../helpers/worker-spec';

const spec = (over: Partial<WorkerSpec> = {}): WorkerSpec =>
  workerSpec({
    id: 'ctx-0',
    gpus: [0, 1],
    host: 'localhost',
    port: 8001,
    model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
    tpSize: 2,
    optionsFile: '/data/topo/ctx-0.yaml',
    ...over,
  });

const opts = {
  baseEnv: { PATH: '/usr/bin', HOME: '/home/u', UNSET: undefined },
  nodeBinary: '/usr/bin/node',
  cliScript: '/app/bin/disagg-console.mjs',
};

const BASE_ARGS = [
  'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
  '--host',
  'localhost',
  '--port',
  '8001',
  '--backend',
  'pytorch',
  '--tp_size',
  '2',
  '--pp_size',
  '1',
  '--extra_llm_api_options',
  '/data/topo/ctx-0.yaml',
];

describe('buildWorkerCommand', () => {
  it.each<[string, Partial<WorkerSpec>, string[]]>([
    ['static', {}, BASE_ARGS],
    [
      'etcd metadata server (7.1)',
      {
        registration: {
          kind: 'metadata',
          metadataServerConfigFile: '/data/topo/metadata_config.yaml',
        },
      },
      [
        ...BASE_ARGS,
        '--server_role',
        'CONTEXT',
        '--metadata_server_config_file',
        '/data/topo/metadata_config.yaml',
      ],
    ],
    [
      'disagg_cluster with a URI (7.2)',
      {
        role: 'generation',
        registration: { kind: 'disagg_cluster', clusterUri: 'http://localhost:18000' },
      },
      [
        ...BASE_ARGS,
        '--server_role',
        'GENERATION',
        '--disagg_cluster_uri',
        'http://localhost:18000',
      ],
    ],
    [
      'disagg_cluster from the YAML only',
      { registration: { kind: 'disagg_cluster', clusterUri: null } },
      [...BASE_ARGS, '--server_role', 'CONTEXT'],
    ],
    [
      'no options file, tensorrt backend, pp 2',
      { optionsFile: null, backend: 'tensorrt', tpSize: 1, ppSize: 2 },
      [
        'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
        '--host',
        'localhost',
        '--port',
        '8001',
        '--backend',
        'tensorrt',
        '--tp_size',
        '1',
        '--pp_size',
        '2',
      ],
    ],
  ])('real trtllm-serve, %s: exact upstream flags', (_name, over, args) => {
    const cmd = buildWorkerCommand(spec(over), opts);
    expect(cmd.command).toBe('trtllm-serve');
    expect(cmd.args).toEqual(args);
  });

  it('runs the simulated worker through node with the same flags', () => {
    const cmd = buildWorkerCommand(spec({ engine: 'simulated' }), opts);
    expect(cmd.command).toBe('/usr/bin/node');
    expect(cmd.args).toEqual(['/app/bin/disagg-console.mjs', 'sim-worker', ...BASE_ARGS]);
    // Inside the desktop app the "node" binary is Electron's executable: it must run the CLI as Node.
    expect(cmd.env.ELECTRON_RUN_AS_NODE).toBe('1');
    expect(buildWorkerCommand(spec(), opts).env.ELECTRON_RUN_AS_NODE).toBeUndefined();
  });

  it('uses the binary path setting, the spec path first', () => {
    expect(
      buildWorkerCommand(spec(), { ...opts, trtllmServeBinary: '/opt/trt/bin/trtllm-serve' })
        .command,
    ).toBe('/opt/trt/bin/trtllm-serve');
    expect(
      buildWorkerCommand(spec({ binaryPath: '/venv/bin/trtllm-serve' }), {
        ...opts,
        trtllmServeBinary: '/opt/x',
      }).command,
    ).toBe('/venv/bin/trtllm-serve');
  });

  it('joins GPUs with commas and merges the user env over the console env', () => {
    const cmd = buildWorkerCommand(
      spec({ gpus: [2, 3], extraEnv: { UCX_TLS: '^ib', HOME: '/tmp/h' } }),
      opts,
    );
    expect(cmd.env).toEqual({
      PATH: '/usr/bin',
      HOME: '/tmp/h',
      UCX_TLS: '^ib',
      CUDA_VISIBLE_DEVICES: '2,3',
    });
  });

  it('does not let extraEnv move the worker off its GPUs', () => {
    const cmd = buildWorkerCommand(
      spec({ gpus: [1], extraEnv: { CUDA_VISIBLE_DEVICES: '0,1,2,3' } }),
      opts,
    );
    expect(cmd.env.CUDA_VISIBLE_DEVICES).toBe('1');
  });
});

describe('formatCommandLine', () => {
  it('quotes only what a shell would split', () => {
    const line = formatCommandLine(
      { command: 'trtllm-serve', args: ['my model', '--port', '8001', "it's"] },
      { CUDA_VISIBLE_DEVICES: '0,1' },
    );
    expect(line).toBe(`CUDA_VISIBLE_DEVICES=0,1 trtllm-serve 'my model' --port 8001 'it'\\''s'`);
  });
});
