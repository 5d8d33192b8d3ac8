// Import of upstream files (and the deprecated single-file MPI format) and export as files, a launch script
// and a SLURM script. The scripts are checked with `bash -n`, for the exact upstream flags, and by running
// them against stub trtllm-serve / srun / trtllm-llmapi-launch / curl executables that record their argv.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { exportLaunchScript, exportSlurmScript } from '../../../../electron/core/topology/export';
import { importTopologyFiles } from '../../../../electron/core/topology/import';
import { formatIssue } from '../../../../shared/logic/config-issues';
import { type LoadedTopology, loadTopology } from '../../../../shared/logic/load-topology';
import { preflightTopology } from '../../../../shared/logic/preflight';
import type { TopologyFiles } from '../../../../shared/model/topology';
import { CTX_YAML, DISAGG_YAML, GEN_YAML, validTopology, withEdit } from './fixture-topology';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '../../../fixtures/configs', name), 'utf8');

function loaded(files: TopologyFiles): LoadedTopology {
  const r = loadTopology(files);
  if (!r.topology) throw new Error(r.issues.map(formatIssue).join('\n'));
  return r.topology;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'topo-export-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('import', () => {
  it('imports a README set of files named freely, recognising each by content', async () => {
    const r = importTopologyFiles({
      'my-proxy.yml': DISAGG_YAML.replace(
        'backend: pytorch',
        'model: Qwen/Qwen3-8B\nbackend: pytorch',
      ),
      'prefill.yaml': CTX_YAML,
      'decode.yaml': GEN_YAML,
    });
    expect(r.format).toBe('files');
    expect(r.issues).toEqual([]);
    expect(Object.keys(r.files).sort()).toEqual([
      'console.yaml',
      'decode.yaml',
      'disagg_config.yaml',
      'prefill.yaml',
    ]);
    const t = loaded(r.files);
    expect(
      t.console.workers.map((w) => [
        w.name,
        w.role,
        w.host,
        w.port,
        w.gpus,
        w.model,
        w.optionsFile,
      ]),
    ).toEqual([
      ['ctx0', 'context', 'localhost', 8001, [0], 'Qwen/Qwen3-8B', 'prefill.yaml'],
      ['gen0', 'generation', 'localhost', 8002, [1], 'Qwen/Qwen3-8B', 'decode.yaml'],
    ]);
    const pre = await preflightTopology(r.files, { isPortFree: () => Promise.resolve(true) });
    expect(pre.issues.map(formatIssue)).toEqual([]);
  });

  it('shares one options file between workers of a role and gives each TP x PP consecutive GPUs', () => {
    const r = importTopologyFiles({
      'disagg_config.yaml': fixture('disagg-readme-minimal.yaml'),
      'ctx.yaml': CTX_YAML + 'tensor_parallel_size: 2\n',
      'gen.yaml': GEN_YAML,
    });
    const t = loaded(r.files);
    expect(t.console.workers.map((w) => [w.name, w.port, w.gpus, w.optionsFile])).toEqual([
      ['ctx0', 8001, [0, 1], 'ctx.yaml'],
      ['ctx1', 8002, [2, 3], 'ctx.yaml'],
      ['gen0', 8003, [4], 'gen.yaml'],
    ]);
    expect(r.issues.map(formatIssue)).toEqual([
      'disagg_config.yaml:1:1 warning: no model named in the files; the workers use TinyLlama/TinyLlama-1.1B-Chat-v1.0 until you set model in console.yaml',
    ]);
  });

  it('imports metadata mode with metadata_config.yaml', () => {
    const r = importTopologyFiles({
      'disagg.yaml': DISAGG_YAML,
      'etcd.yaml': fixture('metadata-etcd.yaml'),
      'ctx.yaml': CTX_YAML,
      'gen.yaml': GEN_YAML,
    });
    expect(r.files['metadata_config.yaml']).toBe(fixture('metadata-etcd.yaml'));
    expect(loaded(r.files).console.clusterMode).toBe('metadata');
  });

  it('converts the deprecated single-file disaggregated_mpi_worker format', async () => {
    const mpi = `hostname: localhost
port: 8000
model: TinyLlama/TinyLlama-1.1B-Chat-v1.0
backend: pytorch
free_gpu_memory_fraction: 0.2
context_servers:
  num_instances: 1
  tensor_parallel_size: 2
  max_batch_size: 8
  disable_overlap_scheduler: true
  cache_transceiver_config:
    backend: UCX
    max_tokens_in_buffer: 2048
  urls:
    - "localhost:8001"
generation_servers:
  num_instances: 1
  router:
    type: load_balancing
  cache_transceiver_config:
    backend: UCX
    max_tokens_in_buffer: 2048
  urls:
    - "localhost:8002"
`;
    const r = importTopologyFiles({ 'disagg_mpi.yaml': mpi });
    expect(r.format).toBe('mpi-worker');
    const t = loaded(r.files);
    expect(t.options.ctx0).toEqual({
      disable_overlap_scheduler: true,
      cache_transceiver_config: { backend: 'UCX', max_tokens_in_buffer: 2048 },
      max_batch_size: 8,
      kv_cache_config: { free_gpu_memory_fraction: 0.2 },
    });
    expect(t.options.gen0).toEqual({
      cache_transceiver_config: { backend: 'UCX', max_tokens_in_buffer: 2048 },
      kv_cache_config: { free_gpu_memory_fraction: 0.2 },
    });
    expect(t.console.workers.map((w) => [w.name, w.gpus, w.tpSize, w.model])).toEqual([
      ['ctx0', [0, 1], 2, 'TinyLlama/TinyLlama-1.1B-Chat-v1.0'],
      ['gen0', [2], null, 'TinyLlama/TinyLlama-1.1B-Chat-v1.0'],
    ]);
    // The new proxy file has no LLM args left in its sections, and keeps the router.
    expect(t.disagg.context_servers.other).toEqual({
      model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
      backend: 'pytorch',
    });
    expect(t.disagg.generation_servers.router.type).toBe('load_balancing');
    expect(t.disagg.context_servers.urls).toEqual(['localhost:8001']);
    const pre = await preflightTopology(r.files, { isPortFree: () => Promise.resolve(true) });
    expect(pre.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it.each([
    [{}, 'disagg_config.yaml:1:1 no files to import'],
    [
      { 'a.yaml': CTX_YAML },
      'a.yaml:1:1 none of the files is a disagg_config.yaml (it has context_servers / generation_servers)',
    ],
    [
      { 'a.yaml': DISAGG_YAML, 'b.yaml': DISAGG_YAML },
      'b.yaml:1:1 more than one proxy config: a.yaml, b.yaml',
    ],
  ])('refuses %j', (files, message) => {
    const r = importTopologyFiles(files);
    expect(r.files).toEqual({});
    expect(r.issues.map(formatIssue)).toEqual([message]);
  });
});

function stub(binDir: string, name: string, body: string): void {
  const path = join(binDir, name);
  writeFileSync(path, `#!/bin/bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Stubs that record each call as one line: name, each argument, then CUDA_VISIBLE_DEVICES, tab-separated. */
function makeStubs(binDir: string, log: string): void {
  // One write per call (O_APPEND), so concurrent background steps cannot interleave their lines.
  const record = [
    'line=$(basename "$0"); for a in "$@"; do line+=$\'\\t\'"$a"; done',
    `line+=$'\\t'"CVD=\${CUDA_VISIBLE_DEVICES-}"; printf '%s\\n' "$line" >> ${log}`,
  ].join('\n');
  stub(binDir, 'trtllm-serve', `${record}\nif [ "$1" != disaggregated ]; then exec sleep 30; fi`);
  // /health answers once the worker on that port has started (recorded its argv): no race with the kill on exit.
  const waitForPort = [
    'url="${@: -1}"; port="${url##*:}"; port="${port%%/*}"',
    `for _ in $(seq 100); do grep '^trtllm-serve' LOG | grep -qF -e "--port"$'\\t'"$port"$'\\t' && exit 0; sleep 0.05; done`,
    'exit 7',
  ].join('\n');
  stub(binDir, 'curl', waitForPort.replace('LOG', log));
  stub(binDir, 'trtllm-llmapi-launch', `${record}\nexec "$@"`);
  stub(binDir, 'srun', `${record}\nwhile [[ "$1" == --* ]]; do shift; done\nexec "$@"`);
  stub(
    binDir,
    'scontrol',
    '[ "$1 $2 $3" = "show hostnames node[1-2]" ] && printf "node1\\nnode2\\n"',
  );
}

function runScript(
  text: string,
  env: Record<string, string>,
): { status: number | null; calls: string[][] } {
  const script = join(dir, 'script.sh');
  writeFileSync(script, text);
  const binDir = join(dir, 'bin');
  execFileSync('mkdir', ['-p', binDir]);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  makeStubs(binDir, log);
  const r = spawnSync('bash', [script], {
    env: { PATH: `${binDir}:/usr/bin:/bin`, HEALTH_TIMEOUT_S: '20', ...env },
    timeout: 20_000,
    encoding: 'utf8',
  });
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  return { status: r.status, calls };
}

describe('export', () => {
  const tricky = (): TopologyFiles =>
    withEdit(
      'console.yaml',
      '    options_file: gen.yaml',
      `    options_file: gen.yaml\n    env:\n      UCX_TLS: "^ib"\n      WEIRD: "a b'c $HOME \\"q\\""`,
      withEdit(
        'console.yaml',
        'gpus: [1]',
        'gpus: [1, 2]',
        withEdit(
          'gen.yaml',
          'cache_transceiver_config:',
          'tensor_parallel_size: 2\ncache_transceiver_config:',
        ),
      ),
    );

  it('writes a launch script that bash accepts, with the README flags', () => {
    const { name, text, isExecutable } = exportLaunchScript(loaded(validTopology()));
    expect([name, isExecutable]).toEqual(['launch.sh', true]);
    expect(spawnSync('bash', ['-n'], { input: text }).status).toBe(0);
    expect(text).toContain(
      'CUDA_VISIBLE_DEVICES=0 trtllm-serve TinyLlama/TinyLlama-1.1B-Chat-v1.0 --host localhost --port 8001 --backend pytorch --tp_size 1 --pp_size 1 --extra_llm_api_options "$CONFIG_DIR"/ctx.yaml > "$LOG_DIR"/ctx0.log 2>&1 &',
    );
    expect(text).toContain(
      'CUDA_VISIBLE_DEVICES=1 trtllm-serve TinyLlama/TinyLlama-1.1B-Chat-v1.0 --host localhost --port 8002 --backend pytorch --tp_size 1 --pp_size 1 --extra_llm_api_options "$CONFIG_DIR"/gen.yaml',
    );
    expect(text).toContain('wait_healthy ctx0 http://localhost:8001/health "$pid_0"');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'trtllm-serve disaggregated -c "$CONFIG_DIR"/disagg_config.yaml',
    );
  });

  it('runs: every worker gets exactly its argv and GPUs, the proxy starts last', () => {
    const files = tricky();
    const { text } = exportLaunchScript(loaded(files));
    const r = runScript(text, { CONFIG_DIR: dir });
    expect(r.status).toBe(0);
    expect(sortWorkers(r.calls)).toEqual([
      [
        'trtllm-serve',
        'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
        '--host',
        'localhost',
        '--port',
        '8001',
        '--backend',
        'pytorch',
        '--tp_size',
        '1',
        '--pp_size',
        '1',
        '--extra_llm_api_options',
        `${dir}/ctx.yaml`,
        'CVD=0',
      ],
      [
        'trtllm-serve',
        'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
        '--host',
        'localhost',
        '--port',
        '8002',
        '--backend',
        'pytorch',
        '--tp_size',
        '2',
        '--pp_size',
        '1',
        '--extra_llm_api_options',
        `${dir}/gen.yaml`,
        'CVD=1,2',
      ],
      ['trtllm-serve', 'disaggregated', '-c', `${dir}/disagg_config.yaml`, 'CVD='],
    ]);
    expect(r.calls.at(-1)?.slice(0, 2)).toEqual(['trtllm-serve', 'disaggregated']);
    expect(text).toContain(`WEIRD='a b'\\''c $HOME "q"'`);
  });

  it('writes a SLURM script that bash accepts: #SBATCH header, srun + trtllm-llmapi-launch per worker, proxy last', () => {
    const { name, text } = exportSlurmScript(loaded(validTopology()), {
      format: 'slurm-script',
      slurm: { partition: 'gpu', account: "team's", jobName: 'disagg test', timeLimit: '02:00:00' },
    });
    expect(name).toBe('slurm.sh');
    expect(spawnSync('bash', ['-n'], { input: text }).status).toBe(0);
    const lines = text.split('\n');
    expect(lines.slice(0, 9)).toEqual([
      '#!/bin/bash',
      "#SBATCH --job-name='disagg test'",
      '#SBATCH --nodes=1',
      '#SBATCH --ntasks=3',
      '#SBATCH --gpus-per-node=2',
      '#SBATCH --time=02:00:00',
      '#SBATCH --partition=gpu',
      "#SBATCH --account='team'\\''s'",
      '#SBATCH --output=disagg-%j.out',
    ]);
    expect(text).toContain(
      'srun --overlap --mpi=pmix --nodes=1 --nodelist="$HEAD_NODE" --ntasks=1 --ntasks-per-node=1 --gpus-per-node=2 env CUDA_VISIBLE_DEVICES=0 trtllm-llmapi-launch trtllm-serve TinyLlama/TinyLlama-1.1B-Chat-v1.0 --host localhost --port 8001 --backend pytorch --tp_size 1 --pp_size 1 --extra_llm_api_options "$CONFIG_DIR"/ctx.yaml > "$LOG_DIR"/ctx0.log 2>&1 &',
    );
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'srun --overlap --nodes=1 --nodelist="$HEAD_NODE" --ntasks=1 trtllm-serve disaggregated -c "$CONFIG_DIR"/disagg_config.yaml',
    );
  });

  it('runs under stub srun: each worker step is pinned to its GPUs and the proxy starts after /health', () => {
    const { text } = exportSlurmScript(loaded(tricky()));
    const r = runScript(text, {
      SLURM_SUBMIT_DIR: dir,
      SLURM_JOB_ID: '77',
      SLURM_JOB_NODELIST: 'node[1-2]',
    });
    expect(
      r.calls.filter((c) => c[0] === 'srun').map((c) => c.find((a) => a.startsWith('--nodelist='))),
    ).toEqual(['--nodelist=node1', '--nodelist=node1', '--nodelist=node1']);
    expect(r.status).toBe(0);
    const serves = r.calls.filter((c) => c[0] === 'trtllm-serve');
    expect(sortWorkers(serves)).toEqual([
      [
        'trtllm-serve',
        'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
        '--host',
        'localhost',
        '--port',
        '8001',
        '--backend',
        'pytorch',
        '--tp_size',
        '1',
        '--pp_size',
        '1',
        '--extra_llm_api_options',
        `${dir}/ctx.yaml`,
        'CVD=0',
      ],
      [
        'trtllm-serve',
        'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
        '--host',
        'localhost',
        '--port',
        '8002',
        '--backend',
        'pytorch',
        '--tp_size',
        '2',
        '--pp_size',
        '1',
        '--extra_llm_api_options',
        `${dir}/gen.yaml`,
        'CVD=1,2',
      ],
      ['trtllm-serve', 'disaggregated', '-c', `${dir}/disagg_config.yaml`, 'CVD='],
    ]);
    expect(r.calls.filter((c) => c[0] === 'trtllm-llmapi-launch')).toHaveLength(2);
    expect(r.calls.at(-1)?.slice(0, 2)).toEqual(['trtllm-serve', 'disaggregated']);
  });

  it('registers workers with --server_role and --disagg_cluster_uri in disagg_cluster mode', () => {
    let files = withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: disagg_cluster');
    files = withEdit(
      'disagg_config.yaml',
      'backend: pytorch\n',
      'backend: pytorch\ndisagg_cluster:\n  cluster_uri: etcd://127.0.0.1:2379\n',
      files,
    );
    const { text } = exportSlurmScript(loaded(files));
    expect(spawnSync('bash', ['-n'], { input: text }).status).toBe(0);
    expect(text).toContain(
      '--extra_llm_api_options "$CONFIG_DIR"/gen.yaml --server_role GENERATION --disagg_cluster_uri etcd://127.0.0.1:2379 > "$LOG_DIR"/gen0.log',
    );
    expect(text).not.toContain(' -m ');
  });

  it('adds the metadata server to workers and proxy in metadata mode', () => {
    const files = {
      ...withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: metadata'),
      'metadata_config.yaml': fixture('metadata-etcd.yaml'),
    };
    const { text } = exportLaunchScript(loaded(files));
    expect(text).toContain(
      '--extra_llm_api_options "$CONFIG_DIR"/ctx.yaml --server_role CONTEXT --metadata_server_config_file "$CONFIG_DIR"/metadata_config.yaml',
    );
    expect(text).toContain(
      'trtllm-serve disaggregated -c "$CONFIG_DIR"/disagg_config.yaml -m "$CONFIG_DIR"/metadata_config.yaml',
    );
  });
});

/** Workers start in the background, so their order in the log may vary; the proxy is always last. */
function sortWorkers(calls: string[][]): string[][] {
  const proxy = calls.filter((c) => c[1] === 'disaggregated');
  const workers = calls
    .filter((c) => c[1] !== 'disaggregated')
    .sort((a, b) => (a.join('\t') < b.join('\t') ? -1 : 1));
  return [...workers, ...proxy];
}
