import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';
import type { Document } from 'yaml';
import { parse } from 'yaml';

import { formatIssue } from '../../../../shared/logic/config-issues';
import {
  parseDisaggConfig,
  parseMetadataConfig,
  parseWorkerOptions,
} from '../../../../shared/logic/config-parse';
import {
  deleteConfigValue,
  documentToText,
  serializeDisaggConfig,
  serializeMetadataConfig,
  serializeWorkerOptions,
  setConfigValue,
} from '../../../../shared/logic/config-write';
import type { ConfigPath } from '../../../../shared/logic/yaml-locate';
import { parseYaml } from '../../../../shared/logic/yaml-locate';
import type { DisaggConfig, WorkerOptions } from '../../../../shared/model/config';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/configs/${name}`, import.meta.url), 'utf8');

/** Any YAML text as a Document, the way the parsers make them (the writer does not care about schemas). */
function docOf(text: string): Document {
  const r = parseYaml(text, 'w.yaml');
  if (r.issues.length > 0) throw new Error(r.issues.map(formatIssue).join('\n'));
  return r.document;
}

const read = (text: string): unknown => parse(text, { version: '1.1' });

const WORKER = `# Generation worker for the 8-GPU box
disable_overlap_scheduler: false   # overlap is fine on gen
cache_transceiver_config:
  backend: "UCX"      # pinned, see protocol 1.4
  max_tokens_in_buffer: 2048

kv_cache_config: {free_gpu_memory_fraction: 0.8, enable_block_reuse: true}
cuda_graph_config:
  enable_padding: true
  batch_sizes:
    - 1
    - 8
# end
`;

describe('documentToText', () => {
  it.each([
    ['disagg-readme-minimal.yaml'],
    ['disagg-load-balance.yaml'],
    ['disagg-slurm-server-config.yaml'],
    ['worker-gen-slurm.yaml'],
    ['metadata-etcd.yaml'],
  ])('an unedited %s comes back byte-identical', (name) => {
    const text = fixture(name);
    const r = name.startsWith('metadata')
      ? parseMetadataConfig(text, name)
      : name.startsWith('worker')
        ? parseWorkerOptions(text, name)
        : parseDisaggConfig(text, name);
    if (!r.ok) throw new Error('parse failed');
    expect(documentToText(r.document)).toBe(text);
  });

  it('falls back to printing the AST when the caller edited the Document directly', () => {
    const doc = docOf(WORKER);
    doc.setIn(['max_batch_size'], 64);
    const out = documentToText(doc);
    expect(read(out)).toMatchObject({
      max_batch_size: 64,
      cache_transceiver_config: { backend: 'UCX' },
    });
    expect(out).toContain('# pinned, see protocol 1.4');
  });
});

describe('setConfigValue: editing one value leaves every other byte alone', () => {
  it.each<[string, string, ConfigPath, unknown, string, string]>([
    [
      'worker-gen-slurm.yaml',
      'nested scalar',
      ['kv_cache_config', 'free_gpu_memory_fraction'],
      0.85,
      'free_gpu_memory_fraction: 0.8\n',
      'free_gpu_memory_fraction: 0.85\n',
    ],
    [
      'worker-gen-slurm.yaml',
      'top-level int',
      ['stream_interval'],
      10,
      'stream_interval: 20',
      'stream_interval: 10',
    ],
    [
      'worker-gen-slurm.yaml',
      'boolean',
      ['print_iter_log'],
      false,
      'print_iter_log: true',
      'print_iter_log: false',
    ],
    [
      'disagg-readme-minimal.yaml',
      'quoted list item keeps its quotes',
      ['generation_servers', 'urls', 0],
      'localhost:9003',
      '"localhost:8003"',
      '"localhost:9003"',
    ],
    ['disagg-readme-minimal.yaml', 'proxy port', ['port'], 8100, 'port: 8000', 'port: 8100'],
    [
      'disagg-load-balance.yaml',
      'YAML 1.1 True',
      ['context_servers', 'router', 'use_tokens'],
      false,
      'use_tokens: True',
      'use_tokens: false',
    ],
    [
      'disagg-load-balance.yaml',
      'quoted scalar keeps its quotes',
      ['backend'],
      'pytorch2',
      'backend: "pytorch"',
      'backend: "pytorch2"',
    ],
    [
      'disagg-slurm-server-config.yaml',
      'PyYAML-style list item',
      ['context_servers', 'urls', 1],
      'gpu-node-09:8336',
      'gpu-node-02:8336',
      'gpu-node-09:8336',
    ],
    [
      'worker-ctx-minimal.yaml',
      'enum value',
      ['cache_transceiver_config', 'backend'],
      'NIXL',
      'backend: UCX',
      'backend: NIXL',
    ],
  ])('%s: %s', (name, _what, path, value, before, after) => {
    const text = fixture(name);
    const doc = docOf(text);
    setConfigValue(doc, path, value);
    expect(documentToText(doc)).toBe(text.replace(before, after));
  });

  it('keeps the comment on the edited line and on every other line', () => {
    const doc = docOf(WORKER);
    setConfigValue(doc, ['cache_transceiver_config', 'backend'], 'NIXL');
    expect(documentToText(doc)).toBe(WORKER.replace('backend: "UCX"', 'backend: "NIXL"'));
  });

  it('edits inside a flow mapping', () => {
    const doc = docOf(WORKER);
    setConfigValue(doc, ['kv_cache_config', 'free_gpu_memory_fraction'], 0.5);
    expect(documentToText(doc)).toBe(
      WORKER.replace('{free_gpu_memory_fraction: 0.8,', '{free_gpu_memory_fraction: 0.5,'),
    );
  });

  it('quotes a string that YAML 1.1 would read as something else', () => {
    const doc = docOf('model: m\n');
    setConfigValue(doc, ['model'], 'yes');
    expect(documentToText(doc)).toBe('model: "yes"\n');
    expect(read(documentToText(doc))).toEqual({ model: 'yes' });
  });

  it('the Document reads back the new value after an edit', () => {
    const doc = docOf(WORKER);
    setConfigValue(doc, ['cuda_graph_config', 'enable_padding'], false);
    expect(doc.getIn(['cuda_graph_config', 'enable_padding'])).toBe(false);
  });

  it('several edits in a row each stay local', () => {
    const doc = docOf(WORKER);
    setConfigValue(doc, ['cache_transceiver_config', 'max_tokens_in_buffer'], 4096);
    setConfigValue(doc, ['disable_overlap_scheduler'], true);
    expect(documentToText(doc)).toBe(
      WORKER.replace('max_tokens_in_buffer: 2048', 'max_tokens_in_buffer: 4096').replace(
        'disable_overlap_scheduler: false   # overlap',
        'disable_overlap_scheduler: true   # overlap',
      ),
    );
  });
});

describe('setConfigValue: adding keys, items and sections', () => {
  it.each<[string, ConfigPath, unknown, string, string]>([
    [
      'a key at the end of a block mapping',
      ['cache_transceiver_config', 'kv_transfer_timeout_ms'],
      60000,
      '  max_tokens_in_buffer: 2048\n',
      '  max_tokens_in_buffer: 2048\n  kv_transfer_timeout_ms: 60000\n',
    ],
    [
      'a key in a flow mapping',
      ['kv_cache_config', 'event_buffer_max_size'],
      1024,
      'enable_block_reuse: true}',
      'enable_block_reuse: true, event_buffer_max_size: 1024}',
    ],
    [
      'an item at the end of a list',
      ['cuda_graph_config', 'batch_sizes', 2],
      16,
      '    - 8\n',
      '    - 8\n    - 16\n',
    ],
    [
      'a new section with its parents',
      ['speculative_config', 'decoding_type'],
      'MTP',
      '    - 8\n# end\n',
      '    - 8\nspeculative_config:\n  decoding_type: MTP\n# end\n',
    ],
    [
      'a whole mapping value',
      ['scheduler_config'],
      { capacity_scheduler_policy: 'MAX_UTILIZATION' },
      '    - 8\n# end\n',
      '    - 8\nscheduler_config:\n  capacity_scheduler_policy: MAX_UTILIZATION\n# end\n',
    ],
    [
      'an empty mapping inline',
      ['moe_config'],
      {},
      '    - 8\n# end\n',
      '    - 8\nmoe_config: {}\n# end\n',
    ],
  ])('%s', (_what, path, value, before, after) => {
    const doc = docOf(WORKER);
    setConfigValue(doc, path, value);
    expect(documentToText(doc)).toBe(WORKER.replace(before, after));
  });

  it('appends to a PyYAML-style (unindented) list', () => {
    const text = fixture('disagg-slurm-server-config.yaml');
    const doc = docOf(text);
    setConfigValue(doc, ['generation_servers', 'urls', 1], 'gpu-node-04:8333');
    expect(documentToText(doc)).toBe(
      text.replace('  - gpu-node-03:8333\n', '  - gpu-node-03:8333\n  - gpu-node-04:8333\n'),
    );
  });

  it('replaces a list with a new one in block style', () => {
    const doc = docOf(WORKER);
    setConfigValue(doc, ['cuda_graph_config', 'batch_sizes'], [1, 2, 4]);
    expect(documentToText(doc)).toBe(
      WORKER.replace('    - 1\n    - 8\n', '    - 1\n    - 2\n    - 4\n'),
    );
  });

  it('replaces a mapping with null and null with a mapping', () => {
    const doc = docOf(WORKER);
    setConfigValue(doc, ['cuda_graph_config'], null);
    expect(documentToText(doc)).toBe(
      WORKER.replace(
        'cuda_graph_config:\n  enable_padding: true\n  batch_sizes:\n    - 1\n    - 8\n',
        'cuda_graph_config: null\n',
      ),
    );
    setConfigValue(doc, ['cuda_graph_config', 'max_batch_size'], 64);
    expect(documentToText(doc)).toBe(
      WORKER.replace(
        'cuda_graph_config:\n  enable_padding: true\n  batch_sizes:\n    - 1\n    - 8\n',
        'cuda_graph_config:\n  max_batch_size: 64\n',
      ),
    );
  });

  it('fills a key that has no value (`key:`)', () => {
    const doc = docOf('kv_cache_config:\nmax_batch_size: 8\n');
    setConfigValue(doc, ['kv_cache_config', 'dtype'], 'fp8');
    expect(documentToText(doc)).toBe('kv_cache_config:\n  dtype: fp8\nmax_batch_size: 8\n');
  });

  it('writes into an empty or comment-only file', () => {
    const empty = docOf('');
    setConfigValue(empty, ['kv_cache_config', 'dtype'], 'fp8');
    expect(documentToText(empty)).toBe('kv_cache_config:\n  dtype: fp8\n');
    const comment = docOf('# ctx worker\n');
    setConfigValue(comment, ['disable_overlap_scheduler'], true);
    expect(documentToText(comment)).toBe('# ctx worker\ndisable_overlap_scheduler: true\n');
  });

  it('still gets the value right where a splice is not possible (compact list of mappings)', () => {
    const text = '# routers\nlist:\n  - a: 1   # first\n    b: 2\n';
    const doc = docOf(text);
    deleteConfigValue(doc, ['list', 0, 'a']);
    const out = documentToText(doc);
    expect(read(out)).toEqual({ list: [{ b: 2 }] });
    expect(out).toContain('# routers');
  });

  it('keeps CRLF line endings, also on added lines', () => {
    const text = 'a: 1\r\nb:\r\n  c: 2\r\n';
    const doc = docOf(text);
    setConfigValue(doc, ['a'], 5);
    setConfigValue(doc, ['b', 'd'], 3);
    expect(documentToText(doc)).toBe('a: 5\r\nb:\r\n  c: 2\r\n  d: 3\r\n');
    deleteConfigValue(doc, ['b', 'c']);
    expect(documentToText(doc)).toBe('a: 5\r\nb:\r\n  d: 3\r\n');
  });

  it('setting undefined deletes the key', () => {
    const doc = docOf('a: 1\nb: 2\n');
    setConfigValue(doc, ['a'], undefined);
    expect(documentToText(doc)).toBe('b: 2\n');
  });

  it('rejects an empty path', () => {
    expect(() => setConfigValue(docOf('a: 1\n'), [], 1)).toThrow(/non-empty path/);
  });
});

describe('deleteConfigValue', () => {
  it.each<[string, ConfigPath, string, string]>([
    [
      'a top-level key with its trailing comment',
      ['disable_overlap_scheduler'],
      'disable_overlap_scheduler: false   # overlap is fine on gen\n',
      '',
    ],
    [
      'a nested key',
      ['cache_transceiver_config', 'max_tokens_in_buffer'],
      '  max_tokens_in_buffer: 2048\n',
      '',
    ],
    [
      'a key of a flow mapping',
      ['kv_cache_config', 'enable_block_reuse'],
      ', enable_block_reuse: true}',
      '}',
    ],
    [
      'the first key of a flow mapping',
      ['kv_cache_config', 'free_gpu_memory_fraction'],
      '{free_gpu_memory_fraction: 0.8, ',
      '{',
    ],
    ['a list item', ['cuda_graph_config', 'batch_sizes', 0], '    - 1\n', ''],
    [
      'a whole section',
      ['cuda_graph_config'],
      'cuda_graph_config:\n  enable_padding: true\n  batch_sizes:\n    - 1\n    - 8\n',
      '',
    ],
  ])('%s', (_what, path, before, after) => {
    const doc = docOf(WORKER);
    expect(deleteConfigValue(doc, path)).toBe(true);
    expect(documentToText(doc)).toBe(WORKER.replace(before, after));
  });

  it('the last key of a nested mapping leaves an empty mapping, the last item an empty list', () => {
    const doc = docOf('a:\n  b: 1\nl:\n  - x\n');
    deleteConfigValue(doc, ['a', 'b']);
    deleteConfigValue(doc, ['l', 0]);
    expect(documentToText(doc)).toBe('a: {}\nl: []\n');
  });

  it('returns false when there is nothing to delete', () => {
    const doc = docOf(WORKER);
    expect(deleteConfigValue(doc, ['nope'])).toBe(false);
    expect(deleteConfigValue(doc, ['kv_cache_config', 'nope'])).toBe(false);
    expect(documentToText(doc)).toBe(WORKER);
  });
});

describe('serializers', () => {
  it.each([
    ['disagg-readme-minimal.yaml'],
    ['disagg-load-balance.yaml'],
    ['disagg-cache-aware.yaml'],
    ['disagg-conditional.yaml'],
    ['disagg-service-discovery.yaml'],
    ['disagg-auto-scaling.yaml'],
    ['disagg-slurm-server-config.yaml'],
    ['disagg-test-utils.yaml'],
  ])('serializeDisaggConfig(%s) parses back to the same config', (name) => {
    const first = parseDisaggConfig(fixture(name), name);
    if (!first.ok) throw new Error('parse failed');
    const text = serializeDisaggConfig(first.value);
    const again = parseDisaggConfig(text, 'out.yaml');
    expect(again.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(again.ok && again.value).toEqual(first.value);
  });

  it('serializeDisaggConfig writes the README layout and leaves defaults out', () => {
    const c = parseDisaggConfig(fixture('disagg-readme-minimal.yaml'), 'r.yaml');
    if (!c.ok) throw new Error('parse failed');
    expect(serializeDisaggConfig(c.value)).toBe(
      'hostname: localhost\nport: 8000\nbackend: pytorch\ncontext_servers:\n  num_instances: 2\n  urls:\n    - localhost:8001\n    - localhost:8002\n' +
        'generation_servers:\n  num_instances: 1\n  urls:\n    - localhost:8003\n',
    );
  });

  it('serializeDisaggConfig spells the disagg_cluster TTL field as upstream reads it', () => {
    const config: DisaggConfig = {
      hostname: 'localhost',
      port: 8000,
      max_retries: 1,
      perf_metrics_max_requests: 0,
      shared_keys: {},
      context_servers: {
        num_instances: 1,
        urls: [],
        router: {
          type: 'round_robin',
          use_tokens: false,
          max_batch_size: 64,
          tokens_per_block: 32,
          extra: {},
        },
        tensor_parallel_size: 1,
        pipeline_parallel_size: 1,
        other: {},
      },
      generation_servers: {
        num_instances: 1,
        urls: [],
        router: {
          type: 'load_balancing',
          use_tokens: false,
          max_batch_size: 64,
          tokens_per_block: 32,
          extra: {},
        },
        tensor_parallel_size: 1,
        pipeline_parallel_size: 1,
        other: {},
      },
      disagg_cluster: {
        cluster_uri: 'etcd://localhost:2379',
        cluster_name: 'c',
        minimal_instances: { context_servers: 1, generation_servers: 2 },
        heartbeat_interval_sec: 3,
        inactive_timeout_sec: 9,
      },
    };
    const text = serializeDisaggConfig(config);
    expect(text).toContain('  inactive_timeout_sec: 9\n');
    expect(text).not.toContain('inactive_interval_sec');
    expect(text).not.toContain('urls');
    const back = parseDisaggConfig(text, 'x.yaml');
    expect(back.ok && back.value.generation_servers.router.type).toBe('load_balancing');
    expect(back.ok && back.value.disagg_cluster).toEqual(config.disagg_cluster);
  });

  it('serializeWorkerOptions writes the transceiver backend uppercase and parses back', () => {
    const options: WorkerOptions = {
      disable_overlap_scheduler: true,
      cache_transceiver_config: { backend: 'ucx' as 'UCX', max_tokens_in_buffer: 2048 },
      kv_cache_config: {
        free_gpu_memory_fraction: 0.85,
        enable_block_reuse: false,
        max_tokens: undefined,
      },
      max_batch_size: undefined,
    };
    const text = serializeWorkerOptions(options);
    expect(text).toBe(
      'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 2048\nkv_cache_config:\n  free_gpu_memory_fraction: 0.85\n  enable_block_reuse: false\n',
    );
    const back = parseWorkerOptions(text, 'w.yaml');
    expect(back.issues).toEqual([]);
    expect(back.ok && back.value.cache_transceiver_config).toEqual({
      backend: 'UCX',
      max_tokens_in_buffer: 2048,
    });
  });

  it('serializeWorkerOptions of nothing is an empty mapping', () => {
    expect(serializeWorkerOptions({})).toBe('{}\n');
    expect(parseWorkerOptions(serializeWorkerOptions({}), 'w.yaml').ok).toBe(true);
  });

  it('serializeWorkerOptions round-trips the slurm worker and a disagg_cluster section', () => {
    for (const name of ['worker-gen-slurm.yaml', 'worker-service-discovery.yaml']) {
      const first = parseWorkerOptions(fixture(name), name);
      if (!first.ok) throw new Error('parse failed');
      const again = parseWorkerOptions(serializeWorkerOptions(first.value), 'out.yaml');
      expect(again.ok && again.value).toEqual(first.value);
    }
  });

  it('serializeMetadataConfig puts the required server_type first and parses back', () => {
    const first = parseMetadataConfig(fixture('metadata-etcd.yaml'), 'm.yaml');
    if (!first.ok) throw new Error('parse failed');
    const text = serializeMetadataConfig(first.value);
    expect(text.startsWith('server_type: etcd\n')).toBe(true);
    const again = parseMetadataConfig(text, 'm2.yaml');
    expect(again.ok && again.value).toEqual(first.value);
  });
});
