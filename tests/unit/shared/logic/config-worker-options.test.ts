import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { formatIssue } from '../../../../shared/logic/config-issues';
import {
  extractMpiWorkerOptions,
  parseDisaggConfig,
  parseWorkerOptions,
} from '../../../../shared/logic/config-parse';
import {
  KV_CACHE_CONFIG_KEYS,
  WORKER_OPTION_KEYS,
} from '../../../../shared/logic/worker-option-keys';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/configs/${name}`, import.meta.url), 'utf8');

function formatted(text: string, file = 'gen.yaml', opts = {}): string[] {
  return parseWorkerOptions(text, file, opts).issues.map(formatIssue);
}

describe('parseWorkerOptions: upstream examples', () => {
  it.each([
    ['worker-ctx-minimal.yaml'],
    ['worker-gen-minimal.yaml'],
    ['worker-gen-slurm.yaml'],
    ['worker-service-discovery.yaml'],
  ])('%s is valid with no issues', (name) => {
    const r = parseWorkerOptions(fixture(name), name);
    expect(r.issues.map(formatIssue)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('reads the typed fields of the README context worker', () => {
    const r = parseWorkerOptions(fixture('worker-ctx-minimal.yaml'), 'ctx.yaml');
    expect(r.ok && r.value).toEqual({
      disable_overlap_scheduler: true,
      cache_transceiver_config: { backend: 'UCX', max_tokens_in_buffer: 2048 },
    });
  });

  it('parses disagg_cluster inside worker options (popped by serve.py)', () => {
    const r = parseWorkerOptions(fixture('worker-service-discovery.yaml'), 'w.yaml');
    expect(r.ok && r.value.disagg_cluster).toEqual({
      cluster_uri: 'http://localhost:8000',
      cluster_name: 'example_cluster',
      minimal_instances: { context_servers: 1, generation_servers: 1 },
      heartbeat_interval_sec: 5,
      inactive_timeout_sec: 10,
    });
  });

  it.each([[''], ['# nothing but a comment\n'], ['{}\n']])(
    '%j is an empty mapping (all defaults)',
    (text) => {
      const r = parseWorkerOptions(text, 'w.yaml');
      expect(r.ok && r.value).toEqual({});
    },
  );

  it('reads YAML 1.1 booleans as PyYAML does', () => {
    const r = parseWorkerOptions(
      'kv_cache_config:\n  enable_block_reuse: no\n  enable_partial_reuse: On\n',
      'w.yaml',
    );
    expect(r.ok && r.value.kv_cache_config).toEqual({
      enable_block_reuse: false,
      enable_partial_reuse: true,
    });
  });
});

describe('parseWorkerOptions: rules', () => {
  it('the protocol example: gen.yaml:4:3 kv_cache_config.free_gpu_memory_fraction', () => {
    const text =
      'disable_overlap_scheduler: false\ncache_transceiver_config: {backend: UCX}\nkv_cache_config:\n  free_gpu_memory_fraction: 1.5\n';
    expect(formatted(text)).toEqual([
      'gen.yaml:4:3 kv_cache_config.free_gpu_memory_fraction: must be between 0 and 1, got 1.5',
    ]);
  });

  it.each<[string, string, string]>([
    [
      'old pytorch_backend_config section',
      'pytorch_backend_config:\n  disable_overlap_scheduler: true\n',
      'gen.yaml:1:1 pytorch_backend_config: pytorch_backend_config no longer exists in TensorRT-LLM; its options are top-level keys now (move disable_overlap_scheduler and the other keys under it to the top level)',
    ],
    [
      'old PyTorchConfig name with inverted meaning',
      'enable_overlap_scheduler: false\n',
      'gen.yaml:1:1 enable_overlap_scheduler: unknown option "enable_overlap_scheduler": TensorRT-LLM rejects unknown keys (its config models forbid extra fields), so the worker would not start (it is disable_overlap_scheduler now, with the opposite meaning: enable_overlap_scheduler: false is disable_overlap_scheduler: true)',
    ],
    [
      'old use_cuda_graph flag',
      'use_cuda_graph: true\n',
      'gen.yaml:1:1 use_cuda_graph: unknown option "use_cuda_graph": TensorRT-LLM rejects unknown keys (its config models forbid extra fields), so the worker would not start (it is cuda_graph_config now: a mapping turns CUDA graphs on, null turns them off)',
    ],
    [
      'unknown transceiver backend',
      'cache_transceiver_config:\n  backend: TCP\n',
      'gen.yaml:2:3 cache_transceiver_config.backend: must be one of DEFAULT, UCX, NIXL, MPI, MOONCAKE, got "TCP"',
    ],
    [
      'transceiver backend not a string',
      'cache_transceiver_config:\n  backend: 1\n',
      'gen.yaml:2:3 cache_transceiver_config.backend: must be one of DEFAULT, UCX, NIXL, MPI, MOONCAKE, got 1',
    ],
    [
      'kv_transfer_timeout_ms zero',
      'cache_transceiver_config:\n  kv_transfer_timeout_ms: 0\n',
      'gen.yaml:2:3 cache_transceiver_config.kv_transfer_timeout_ms: must be at least 1, got 0',
    ],
    [
      'max_tokens_in_buffer not an integer',
      'cache_transceiver_config:\n  max_tokens_in_buffer: 2k\n',
      'gen.yaml:2:3 cache_transceiver_config.max_tokens_in_buffer: must be an integer, got "2k"',
    ],
    [
      'fraction below 0',
      'kv_cache_config:\n  free_gpu_memory_fraction: -0.1\n',
      'gen.yaml:2:3 kv_cache_config.free_gpu_memory_fraction: must be between 0 and 1, got -0.1',
    ],
    [
      'fraction not a number',
      'kv_cache_config:\n  free_gpu_memory_fraction: high\n',
      'gen.yaml:2:3 kv_cache_config.free_gpu_memory_fraction: must be a number, got "high"',
    ],
    [
      'tokens_per_block zero',
      'kv_cache_config:\n  tokens_per_block: 0\n',
      'gen.yaml:2:3 kv_cache_config.tokens_per_block: must be at least 1, got 0',
    ],
    [
      'event_buffer_max_size negative',
      'kv_cache_config:\n  event_buffer_max_size: -1\n',
      'gen.yaml:2:3 kv_cache_config.event_buffer_max_size: must be at least 0, got -1',
    ],
    [
      'max_batch_size zero',
      'max_batch_size: 0\n',
      'gen.yaml:1:1 max_batch_size: must be at least 1, got 0',
    ],
    [
      'max_num_tokens a float',
      'max_num_tokens: 8192.5\n',
      'gen.yaml:1:1 max_num_tokens: must be an integer, got 8192.5',
    ],
    [
      'tensor_parallel_size zero',
      'tensor_parallel_size: 0\n',
      'gen.yaml:1:1 tensor_parallel_size: must be at least 1, got 0',
    ],
    [
      'stream_interval zero',
      'stream_interval: 0\n',
      'gen.yaml:1:1 stream_interval: must be at least 1, got 0',
    ],
    [
      'perf_metrics_max_requests negative',
      'perf_metrics_max_requests: -1\n',
      'gen.yaml:1:1 perf_metrics_max_requests: must be at least 0, got -1',
    ],
    [
      'boolean given as a quoted string',
      'disable_overlap_scheduler: "true"\n',
      'gen.yaml:1:1 disable_overlap_scheduler: must be true or false, got "true"',
    ],
    [
      'boolean given as a number',
      'enable_iter_perf_stats: 1\n',
      'gen.yaml:1:1 enable_iter_perf_stats: must be true or false, got 1',
    ],
    [
      'kv_cache_config not a mapping',
      'kv_cache_config: 0.9\n',
      'gen.yaml:1:1 kv_cache_config: must be a mapping of keys to values, got 0.9',
    ],
    [
      'Python None instead of null',
      'cuda_graph_config: None\n',
      'gen.yaml:1:1 cuda_graph_config: must be a mapping of keys to values, got "None" (YAML has no None: write null)',
    ],
    [
      'cuda_graph batch size zero',
      'cuda_graph_config:\n  batch_sizes: [1, 0]\n',
      'gen.yaml:2:20 cuda_graph_config.batch_sizes[1]: must be at least 1, got 0',
    ],
    [
      'guided decoding backend',
      'guided_decoding_backend: outlines\n',
      'gen.yaml:1:1 guided_decoding_backend: must be one of xgrammar, llguidance, got "outlines"',
    ],
    [
      'batch_wait_max_tokens_ratio above 1',
      'batch_wait_max_tokens_ratio: 2\n',
      'gen.yaml:1:1 batch_wait_max_tokens_ratio: must be between 0 and 1, got 2',
    ],
    [
      'file is a list',
      '- disable_overlap_scheduler\n',
      'gen.yaml:1:1 must be a mapping of option names to values, got a list',
    ],
    [
      'duplicate keys',
      'max_batch_size: 8\nmax_batch_size: 16\n',
      'gen.yaml:2:1 duplicate key "max_batch_size": each key may appear only once in a mapping',
    ],
    [
      'disagg_cluster without cluster_uri',
      'disagg_cluster:\n  cluster_name: c\n',
      'gen.yaml:1:1 disagg_cluster: cluster_uri is required (add cluster_uri: http://<proxy-host>:<proxy-port> or etcd://<host>:<port>; a worker may pass --disagg_cluster_uri instead)',
    ],
    [
      'README typo in a worker disagg_cluster',
      'disagg_cluster:\n  cluster_uri: http://localhost:8000\n  inactive_interval_sec: 10\n',
      'gen.yaml:3:3 disagg_cluster.inactive_interval_sec: unknown key "inactive_interval_sec": upstream rejects unknown disagg_cluster keys (KeyError) and will not start (did you mean inactive_timeout_sec?)',
    ],
  ])('%s', (_name, text, expected) => {
    const r = parseWorkerOptions(text, 'gen.yaml');
    expect(r.ok).toBe(false);
    expect(r.issues.map(formatIssue)).toContain(expected);
  });

  it.each<[string, string, string]>([
    [
      'unknown top-level key, closest known key suggested',
      'max_num_token: 4096\n',
      'gen.yaml:1:1 warning: max_num_token: unknown option "max_num_token": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start (did you mean max_num_tokens?)',
    ],
    [
      'a kv_cache_config field written at the top level',
      'free_gpu_memory_fraction: 0.5\n',
      'gen.yaml:1:1 warning: free_gpu_memory_fraction: unknown option "free_gpu_memory_fraction": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start (did you mean kv_cache_config.free_gpu_memory_fraction?)',
    ],
    [
      'unknown key without a plausible suggestion',
      'banana: 1\n',
      'gen.yaml:1:1 warning: banana: unknown option "banana": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start',
    ],
    [
      'unknown nested kv_cache_config key',
      'kv_cache_config:\n  enable_block_reus: true\n',
      'gen.yaml:2:3 warning: kv_cache_config.enable_block_reus: unknown key "enable_block_reus": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start (did you mean enable_block_reuse?)',
    ],
    [
      'unknown nested cache_transceiver_config key',
      'cache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffers: 2048\n',
      'gen.yaml:3:3 warning: cache_transceiver_config.max_tokens_in_buffers: unknown key "max_tokens_in_buffers": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start (did you mean max_tokens_in_buffer?)',
    ],
    [
      'unknown cuda_graph key',
      'cuda_graph_config:\n  padding: true\n',
      'gen.yaml:2:3 warning: cuda_graph_config.padding: unknown key "padding": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start',
    ],
  ])('warning: %s (an unknown key does not fail the file)', (_name, text, expected) => {
    const r = parseWorkerOptions(text, 'gen.yaml');
    expect(r.ok).toBe(true);
    expect(r.issues.map(formatIssue)).toContain(expected);
  });

  it.each([
    ['ucx', 'UCX'],
    ['nixl', 'NIXL'],
    ['default', 'DEFAULT'],
  ])('lowercase backend %s is accepted with a warning and stored as %s', (given, stored) => {
    const r = parseWorkerOptions(`cache_transceiver_config:\n  backend: ${given}\n`, 'gen.yaml');
    expect(r.ok && r.value.cache_transceiver_config?.backend).toBe(stored);
    expect(r.issues.map(formatIssue)).toEqual([
      `gen.yaml:2:3 warning: cache_transceiver_config.backend: "${given}" is the mid-2025 lowercase spelling; current TensorRT-LLM expects uppercase (write ${stored})`,
    ]);
  });

  it('MPI backend is accepted with a deprecation warning; a null backend is allowed', () => {
    const mpi = parseWorkerOptions('cache_transceiver_config:\n  backend: MPI\n', 'gen.yaml');
    expect(mpi.ok).toBe(true);
    expect(mpi.issues.map(formatIssue)).toEqual([
      'gen.yaml:2:3 warning: cache_transceiver_config.backend: the MPI transceiver backend is deprecated upstream (use UCX or NIXL)',
    ]);
    expect(parseWorkerOptions('cache_transceiver_config:\n  backend: null\n', 'gen.yaml').ok).toBe(
      true,
    );
  });

  it('the worker CLI --disagg_cluster_uri supplies a missing cluster_uri and overrides a given one', () => {
    const r = parseWorkerOptions('disagg_cluster:\n  cluster_name: c\n', 'w.yaml', {
      disaggClusterUri: 'etcd://h:2379',
    });
    expect(r.ok && r.value.disagg_cluster?.cluster_uri).toBe('etcd://h:2379');
    const o = parseWorkerOptions(fixture('worker-service-discovery.yaml'), 'w.yaml', {
      disaggClusterUri: 'http://other:9000',
    });
    expect(o.ok && o.value.disagg_cluster?.cluster_uri).toBe('http://other:9000');
  });

  it('null is accepted where upstream fields are Optional', () => {
    const r = parseWorkerOptions(
      'cuda_graph_config: null\nspeculative_config: ~\nmax_seq_len: null\ncache_transceiver_config: null\n',
      'w.yaml',
    );
    expect(r.issues).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('collects every problem in one pass', () => {
    expect(
      formatted('max_batch_size: 0\nbogus: 1\nkv_cache_config:\n  free_gpu_memory_fraction: 2\n'),
    ).toHaveLength(3);
  });
});

describe('worker-option-keys', () => {
  it.each([
    ['cache_transceiver_config'],
    ['disable_overlap_scheduler'],
    ['kv_cache_config'],
    ['cuda_graph_config'],
    ['enable_iter_perf_stats'],
    ['return_perf_metrics'],
    ['perf_metrics_max_requests'],
    ['stream_interval'],
    ['speculative_config'],
    ['moe_expert_parallel_size'],
    ['enable_attention_dp'],
    ['enable_lm_head_tp_in_adp'],
    ['batch_wait_timeout_ms'],
    ['num_postprocess_workers'],
    ['disagg_cluster'],
  ])('knows top-level key %s', (key) => {
    expect(WORKER_OPTION_KEYS).toContain(key);
  });

  it('knows the kv_cache_config fields of protocol §2.3', () => {
    for (const key of [
      'free_gpu_memory_fraction',
      'max_tokens',
      'enable_block_reuse',
      'enable_partial_reuse',
      'copy_on_partial_reuse',
      'event_buffer_max_size',
      'tokens_per_block',
      'dtype',
      'host_cache_size',
      'max_gpu_total_bytes',
    ]) {
      expect(KV_CACHE_CONFIG_KEYS).toContain(key);
    }
  });
});

describe('extractMpiWorkerOptions (deprecated disaggregated_mpi_worker format)', () => {
  it('conditional test config: per-role LLM args with the top-level keys copied in', () => {
    const text = fixture('disagg-conditional.yaml');
    const parsed = parseDisaggConfig(text, 'c.yaml');
    if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join('\n'));
    const { context, generation, issues } = extractMpiWorkerOptions(parsed.value, {
      file: 'c.yaml',
      document: parsed.document,
    });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(context).toMatchObject({
      model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
      backend: 'pytorch',
      disable_overlap_scheduler: true,
      enable_autotuner: false,
      cuda_graph_config: null,
      cache_transceiver_config: { backend: 'DEFAULT' },
      kv_cache_config: { event_buffer_max_size: 1024, free_gpu_memory_fraction: 0.15 },
    });
    expect(context).not.toHaveProperty('free_gpu_memory_fraction');
    expect(generation).not.toHaveProperty('router');
    // The lowercase backends are warned about where they are written, inside the sections.
    expect(issues.map(formatIssue)).toEqual([
      'c.yaml:23:5 warning: context_servers.cache_transceiver_config.backend: "default" is the mid-2025 lowercase spelling; current TensorRT-LLM expects uppercase (write DEFAULT)',
      'c.yaml:38:5 warning: generation_servers.cache_transceiver_config.backend: "default" is the mid-2025 lowercase spelling; current TensorRT-LLM expects uppercase (write DEFAULT)',
    ]);
  });

  it('load-balance config: section sizes become LLM args', () => {
    const parsed = parseDisaggConfig(fixture('disagg-load-balance.yaml'), 'lb.yaml');
    if (!parsed.ok) throw new Error('parse failed');
    const { context, generation, issues } = extractMpiWorkerOptions(parsed.value, {
      file: 'lb.yaml',
      document: parsed.document,
    });
    expect(issues).toEqual([]);
    expect(context).toMatchObject({ max_batch_size: 1, max_num_tokens: 3000, max_seq_len: 4096 });
    expect(generation).toMatchObject({ max_batch_size: 256, max_num_tokens: 4096 });
  });

  it('checks LLM args with the worker rules and locates them in the section or at the top level', () => {
    const text = `model: m
bogus_top: 1
context_servers:
  urls: ["localhost:8001"]
  pytorch_backend_config:
    enable_overlap_scheduler: false
generation_servers:
  urls: ["localhost:8002"]
  kv_cache_config:
    free_gpu_memory_fraction: 3
`;
    const parsed = parseDisaggConfig(text, 'mpi.yaml');
    if (!parsed.ok) throw new Error('parse failed');
    const { issues } = extractMpiWorkerOptions(parsed.value, {
      file: 'mpi.yaml',
      document: parsed.document,
    });
    const lines = issues.map(formatIssue);
    expect(lines).toContain(
      'mpi.yaml:2:1 warning: bogus_top: unknown option "bogus_top": not an option of TensorRT-LLM 1.0-1.3 as this console knows them; a release without it rejects unknown keys (extra="forbid") and the worker would not start',
    );
    expect(lines).toContain(
      'mpi.yaml:5:3 context_servers.pytorch_backend_config: pytorch_backend_config no longer exists in TensorRT-LLM; its options are top-level keys now (move disable_overlap_scheduler and the other keys under it to the top level)',
    );
    expect(lines).toContain(
      'mpi.yaml:10:5 generation_servers.kv_cache_config.free_gpu_memory_fraction: must be between 0 and 1, got 3',
    );
  });

  it('model is required; free_gpu_memory_fraction next to a kv_cache_config without one is a no-op (warned)', () => {
    const text =
      'free_gpu_memory_fraction: 0.5\ncontext_servers:\n  urls: ["a:1"]\n  kv_cache_config: {enable_block_reuse: false}\ngeneration_servers:\n  urls: ["b:2"]\n';
    const parsed = parseDisaggConfig(text, 'mpi.yaml');
    if (!parsed.ok) throw new Error('parse failed');
    const { context, generation, issues } = extractMpiWorkerOptions(parsed.value, {
      file: 'mpi.yaml',
      document: parsed.document,
    });
    const lines = issues.map(formatIssue);
    expect(lines.filter((l) => l.includes('model is required'))).toHaveLength(2);
    expect(lines).toContain(
      'mpi.yaml:1:1 warning: free_gpu_memory_fraction: has no effect: the kv_cache_config mapping replaces it, so the KV cache uses the default fraction 0.9 (set kv_cache_config.free_gpu_memory_fraction instead)',
    );
    expect(context.kv_cache_config).toEqual({ enable_block_reuse: false });
    expect(generation.kv_cache_config).toEqual({ free_gpu_memory_fraction: 0.5 });
  });

  it('a server in both roles needs identical LLM args', () => {
    const text =
      'model: m\ncontext_servers:\n  urls: ["a:1"]\n  max_batch_size: 4\ngeneration_servers:\n  urls: ["a:1"]\n  max_batch_size: 8\n';
    const parsed = parseDisaggConfig(text, 'mpi.yaml');
    if (!parsed.ok) throw new Error('parse failed');
    const lines = extractMpiWorkerOptions(parsed.value, {
      file: 'mpi.yaml',
      document: parsed.document,
    }).issues.map(formatIssue);
    expect(lines).toContain(
      'mpi.yaml:6:10 generation_servers.urls[0]: a:1 is listed in both roles but the two sections have different LLM args; a mixed server needs identical args',
    );
  });

  it('works without a source document (issues at 1:1)', () => {
    const parsed = parseDisaggConfig(
      'model: m\nbad_key: 1\ncontext_servers: {urls: ["a:1"]}\ngeneration_servers: {urls: ["b:2"]}\n',
      'x.yaml',
    );
    if (!parsed.ok) throw new Error('parse failed');
    const { issues } = extractMpiWorkerOptions(parsed.value);
    expect(issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path}`)).toEqual([
      'disagg_config.yaml:1:1 context_servers.bad_key',
      'disagg_config.yaml:1:1 generation_servers.bad_key',
    ]);
  });
});
