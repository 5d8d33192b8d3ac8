import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { ConfigIssue } from '../../../../shared/logic/config-issues';
import { formatIssue } from '../../../../shared/logic/config-issues';
import type { DisaggParseOptions } from '../../../../shared/logic/config-parse';
import {
  parseDisaggClusterConfig,
  parseDisaggConfig,
  parseMetadataConfig,
  splitHostPort,
} from '../../../../shared/logic/config-parse';
import type { DisaggConfig } from '../../../../shared/model/config';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/configs/${name}`, import.meta.url), 'utf8');

function okDisagg(text: string, opts: DisaggParseOptions = {}): DisaggConfig {
  const r = parseDisaggConfig(text, 'd.yaml', opts);
  if (!r.ok) throw new Error(`expected ok, got:\n${r.issues.map(formatIssue).join('\n')}`);
  return r.value;
}

function issuesOf(text: string, opts: DisaggParseOptions = {}): ConfigIssue[] {
  return parseDisaggConfig(text, 'd.yaml', opts).issues;
}

/** The formatted issue that starts with `prefix` (file:line:column [warning:] path:). */
function findIssue(issues: ConfigIssue[], prefix: string): string {
  const lines = issues.map(formatIssue);
  const hit = lines.find((l) => l.startsWith(prefix));
  if (!hit) throw new Error(`no issue starting with "${prefix}" in:\n${lines.join('\n')}`);
  return hit;
}

const URLS = `context_servers:
  urls:
    - "localhost:8001"
generation_servers:
  urls:
    - "localhost:8002"
`;

describe('parseDisaggConfig: upstream examples', () => {
  it.each([
    [
      'disagg-readme-minimal.yaml',
      { ctx: 2, gen: 1, ctxRouter: 'round_robin', genRouter: 'round_robin' },
    ],
    [
      'disagg-load-balance.yaml',
      { ctx: 2, gen: 2, ctxRouter: 'load_balancing', genRouter: 'load_balancing' },
    ],
    [
      'disagg-cache-aware.yaml',
      { ctx: 2, gen: 2, ctxRouter: 'kv_cache_aware', genRouter: 'kv_cache_aware' },
    ],
    [
      'disagg-conditional.yaml',
      { ctx: 1, gen: 1, ctxRouter: 'round_robin', genRouter: 'kv_cache_aware' },
    ],
    [
      'disagg-slurm-server-config.yaml',
      { ctx: 2, gen: 1, ctxRouter: 'round_robin', genRouter: 'round_robin' },
    ],
    [
      'disagg-test-utils.yaml',
      { ctx: 2, gen: 1, ctxRouter: 'round_robin', genRouter: 'load_balancing' },
    ],
  ])('%s parses with its servers and routers', (name, want) => {
    const r = parseDisaggConfig(fixture(name), name);
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.context_servers.urls).toHaveLength(want.ctx);
    expect(r.value.generation_servers.urls).toHaveLength(want.gen);
    expect(r.value.context_servers.router.type).toBe(want.ctxRouter);
    expect(r.value.generation_servers.router.type).toBe(want.genRouter);
  });

  it('README minimal example: values, defaults and the shared backend key', () => {
    const c = okDisagg(fixture('disagg-readme-minimal.yaml'));
    expect(c).toMatchObject({
      hostname: 'localhost',
      port: 8000,
      max_retries: 1,
      perf_metrics_max_requests: 0,
    });
    expect(c.shared_keys).toEqual({ backend: 'pytorch' });
    expect(c.context_servers.urls).toEqual(['localhost:8001', 'localhost:8002']);
    expect(c.context_servers.num_instances).toBe(2);
    // The top-level copy rule puts `backend` into both sections.
    expect(c.context_servers.other).toEqual({ backend: 'pytorch' });
    expect(c.generation_servers.other).toEqual({ backend: 'pytorch' });
    expect(c.disagg_cluster).toBeUndefined();
  });

  it('load-balance example: use_tokens per role, section max_batch_size/max_num_tokens copied into router args', () => {
    const c = okDisagg(fixture('disagg-load-balance.yaml'));
    expect(c.context_servers.router).toMatchObject({ use_tokens: true, max_batch_size: 1 });
    expect(c.context_servers.router.args).toEqual({
      use_tokens: true,
      max_batch_size: 1,
      max_num_tokens: 3000,
    });
    expect(c.generation_servers.router.args).toEqual({
      use_tokens: false,
      max_batch_size: 256,
      max_num_tokens: 4096,
    });
    expect(c.generation_servers.router.extra).toEqual({ max_num_tokens: 4096 });
    expect(c.shared_keys).toMatchObject({
      model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
      free_gpu_memory_fraction: 0.15,
    });
  });

  it('cache-aware example: kv_cache_aware takes max_batch_size from the section, block size defaults to 32', () => {
    const c = okDisagg(fixture('disagg-cache-aware.yaml'));
    expect(c.context_servers.router).toMatchObject({
      type: 'kv_cache_aware',
      max_batch_size: 16,
      tokens_per_block: 32,
      use_tokens: false,
    });
    expect(c.generation_servers.router.max_batch_size).toBe(256);
  });

  it('conditional example: conditional_disagg_config is kept', () => {
    expect(okDisagg(fixture('disagg-conditional.yaml')).conditional_disagg_config).toEqual({
      max_local_prefill_length: 100,
    });
  });

  it('service discovery example: disagg_cluster with defaults, no static URLs needed', () => {
    const c = okDisagg(fixture('disagg-service-discovery.yaml'));
    expect(c.disagg_cluster).toEqual({
      cluster_uri: 'http://localhost:8000',
      cluster_name: 'example_cluster',
      minimal_instances: { context_servers: 1, generation_servers: 1 },
      heartbeat_interval_sec: 5,
      inactive_timeout_sec: 10,
    });
    expect(c.context_servers.urls).toEqual([]);
  });

  it('auto-scaling test config: every disagg_cluster field', () => {
    const c = okDisagg(fixture('disagg-auto-scaling.yaml'));
    expect(c.disagg_cluster).toEqual({
      cluster_uri: 'http://localhost:18000',
      cluster_name: 'test_cluster',
      minimal_instances: { context_servers: 2, generation_servers: 2 },
      heartbeat_interval_sec: 1,
      inactive_timeout_sec: 2,
    });
    expect(c.port).toBe(18000);
  });

  it('slurm gen_server_config output (PyYAML dump: sorted keys, unindented lists)', () => {
    const c = okDisagg(fixture('disagg-slurm-server-config.yaml'));
    expect(c.hostname).toBe('gpu-node-00');
    expect(c.port).toBe(8333);
    expect(c.context_servers.urls).toEqual(['gpu-node-01:8336', 'gpu-node-02:8336']);
  });
});

describe('parseDisaggConfig: test_disagg_utils.py expectations (protocol §10 item 6)', () => {
  it('hostname/port, default ctx router, gen load_balancing args, max_num_tokens absent, urls and ranks', () => {
    const c = okDisagg(fixture('disagg-test-utils.yaml'));
    expect(c.hostname).toBe('test_host');
    expect(c.port).toBe(9000);
    expect(c.context_servers.router.type).toBe('round_robin');
    expect(c.generation_servers.router.type).toBe('load_balancing');
    expect(c.generation_servers.router.args?.use_tokens).toBe(false);
    expect(c.generation_servers.router.args?.max_batch_size).toBe(1);
    expect(c.generation_servers.router.args).not.toHaveProperty('max_num_tokens');
    const all = [...c.context_servers.urls, ...c.generation_servers.urls];
    expect(all).toHaveLength(3);
    expect(splitHostPort(c.context_servers.urls[0]!)).toEqual({ host: 'host1', port: 8001 });
    // instance_num_ranks = TP x PP
    expect(c.context_servers.tensor_parallel_size * c.context_servers.pipeline_parallel_size).toBe(
      2,
    );
    expect(
      c.generation_servers.tensor_parallel_size * c.generation_servers.pipeline_parallel_size,
    ).toBe(1);
  });

  it('the same config with disagg_cluster instead of urls parses the cluster section', () => {
    const text = `hostname: test_host
port: 9000
context_servers:
  max_batch_size: 1
  tensor_parallel_size: 2
  pipeline_parallel_size: 1
generation_servers:
  router:
    type: load_balancing
    use_tokens: False
  max_batch_size: 1
disagg_cluster:
  cluster_uri: http://test_host:9000
  cluster_name: test_cluster
  minimal_instances:
    context_servers: 2
    generation_servers: 2
  heartbeat_interval_sec: 1
  inactive_timeout_sec: 2
`;
    const c = okDisagg(text);
    expect(c.context_servers.router.type).toBe('round_robin');
    expect(c.generation_servers.router.type).toBe('load_balancing');
    expect(c.disagg_cluster?.minimal_instances).toEqual({
      context_servers: 2,
      generation_servers: 2,
    });
  });
});

describe('parseDisaggConfig: defaults and lenient spellings', () => {
  it('fills hostname, port, max_retries, perf_metrics_max_requests and router defaults', () => {
    const c = okDisagg(URLS);
    expect(c).toMatchObject({
      hostname: 'localhost',
      port: 8000,
      max_retries: 1,
      perf_metrics_max_requests: 0,
    });
    expect(c.context_servers).toMatchObject({
      num_instances: 1,
      tensor_parallel_size: 1,
      pipeline_parallel_size: 1,
    });
    expect(c.context_servers.router).toEqual({
      type: 'round_robin',
      use_tokens: false,
      max_batch_size: 64,
      tokens_per_block: 32,
      extra: {},
      args: {},
    });
  });

  it.each([['KV_Cache_Aware'], ['KV_CACHE_AWARE'], ['kv_cache_aware']])(
    'router type %s is case-insensitive',
    (type) => {
      const c = okDisagg(`${URLS}  router: {type: ${type}}\n`);
      expect(c.generation_servers.router.type).toBe('kv_cache_aware');
    },
  );

  it('a top-level key equal in a section is fine and reaches the router args of both roles', () => {
    const c = okDisagg(`max_batch_size: 8\n${URLS}  max_batch_size: 8\n`);
    expect(c.context_servers.router.args?.max_batch_size).toBe(8);
    expect(c.generation_servers.router.max_batch_size).toBe(8);
    expect(c.context_servers.max_batch_size).toBe(8);
  });

  it('gen-only benchmark mode needs no context server', () => {
    const text = 'generation_servers:\n  urls: ["localhost:8002"]\n';
    expect(parseDisaggConfig(text, 'd.yaml').ok).toBe(false);
    expect(okDisagg(text, { genOnlyBenchmark: true }).generation_servers.urls).toEqual([
      'localhost:8002',
    ]);
  });

  it('YAML 1.1 booleans (as PyYAML reads them) work in router args', () => {
    const c = okDisagg(`${URLS}  router: {type: load_balancing, use_tokens: yes}\n`);
    expect(c.generation_servers.router.use_tokens).toBe(true);
  });

  it('the warnings of a valid file come with ok: true', () => {
    const r = parseDisaggConfig(`schedule_style: generation_first\n${URLS}`, 'd.yaml', {
      trtllmVersion: '1.1',
    });
    expect(r.ok).toBe(true);
    expect(r.issues.map(formatIssue)).toEqual([
      expect.stringMatching(
        /^d\.yaml:1:1 warning: schedule_style: schedule_style is a disaggregated-server setting from TensorRT-LLM 1.2; 1.1 copies it/,
      ),
    ]);
  });
});

describe('parseDisaggConfig: every rule, located', () => {
  it.each<[string, string, string, RegExp, DisaggParseOptions?]>([
    [
      'negative max_retries',
      `max_retries: -1\n${URLS}`,
      'd.yaml:1:1 max_retries:',
      /must be at least 0, got -1$/,
    ],
    [
      'port out of range',
      `port: 70000\n${URLS}`,
      'd.yaml:1:1 port:',
      /must be between 0 and 65535, got 70000/,
    ],
    [
      'hostname not a string',
      `hostname: [a]\n${URLS}`,
      'd.yaml:1:1 hostname:',
      /must be a string, got a list/,
    ],
    [
      'perf_metrics_max_requests negative',
      `perf_metrics_max_requests: -5\n${URLS}`,
      'd.yaml:1:1 perf_metrics_max_requests:',
      /at least 0/,
    ],
    [
      'num_instances does not match urls',
      'context_servers:\n  num_instances: 2\n  urls: ["localhost:8001"]\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:2:3 context_servers.num_instances:',
      /num_instances is 2 but urls lists 1 server; they must match/,
    ],
    [
      'url with a scheme',
      'context_servers:\n  urls:\n    - "http://localhost:8001"\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:3:7 context_servers.urls[0]:',
      /must be host:port without a scheme.*\(write localhost:8001\)$/,
    ],
    [
      'IPv6 url',
      'context_servers:\n  urls:\n    - "[::1]:8001"\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:3:7 context_servers.urls[0]:',
      /IPv6 addresses are not supported/,
    ],
    [
      'url without port',
      'context_servers:\n  urls: [localhost]\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:2:10 context_servers.urls[0]:',
      /must be host:port, got "localhost"/,
    ],
    [
      'url with a bad port',
      'context_servers:\n  urls: ["localhost:80x"]\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:2:10 context_servers.urls[0]:',
      /port "80x", which is not a number/,
    ],
    [
      'url not a string',
      'context_servers:\n  urls: [8001]\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:2:10 context_servers.urls[0]:',
      /must be a host:port string, got 8001/,
    ],
    [
      'unknown router type',
      `${URLS}  router:\n    type: random\n`,
      'd.yaml:8:5 generation_servers.router.type:',
      /unknown router type "random"; allowed: round_robin, load_balancing, kv_cache_aware, conversation, centralized_kv_cache_aware, remote_http$/,
    ],
    [
      'router type not a string',
      `${URLS}  router: {type: 3}\n`,
      'd.yaml:7:12 generation_servers.router.type:',
      /must be a router name, got 3/,
    ],
    [
      'use_tokens not a boolean',
      `${URLS}  router: {type: load_balancing, use_tokens: "true"}\n`,
      'd.yaml:7:34 generation_servers.router.use_tokens:',
      /must be true or false, got "true"/,
    ],
    [
      'duplicate url within a role',
      'context_servers:\n  num_instances: 2\n  urls:\n    - "localhost:8001"\n    - "localhost:8001"\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:5:7 context_servers.urls[1]:',
      /localhost:8001 is listed twice in context_servers \(also urls\[0\]\)/,
    ],
    [
      'no generation server',
      'context_servers:\n  urls: ["localhost:8001"]\n',
      'd.yaml:1:1',
      /at least one generation server is required/,
    ],
    [
      'no context server',
      'generation_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:1:1',
      /at least one context server is required.*TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1/,
    ],
    [
      'top-level key differs from the section',
      `max_batch_size: 8\n${URLS}  max_batch_size: 16\n`,
      'd.yaml:8:3 generation_servers.max_batch_size:',
      /is 16 here but 8 at the top level \(line 1\); upstream copies top-level keys into both sections and refuses different values/,
    ],
    [
      'conditional disagg without a kv_cache_aware gen router',
      `conditional_disagg_config:\n  max_local_prefill_length: 100\n${URLS}`,
      'd.yaml:1:1 conditional_disagg_config:',
      /needs the generation router to be kv_cache_aware, but it is round_robin/,
    ],
    [
      'conditional disagg unknown key',
      `conditional_disagg_config:\n  max_local_prefill_len: 100\n${URLS}  router: {type: kv_cache_aware}\n`,
      'd.yaml:2:3 conditional_disagg_config.max_local_prefill_len:',
      /unknown key.*\(did you mean max_local_prefill_length\?\)$/,
    ],
    [
      'otlp unknown key',
      `otlp_config:\n  endpoint: x\n${URLS}`,
      'd.yaml:2:3 otlp_config.endpoint:',
      /unknown key "endpoint"/,
    ],
    [
      'disagg_cluster together with a metadata server',
      fixture('disagg-service-discovery.yaml'),
      'f.yaml:5:1 disagg_cluster:',
      /^f\.yaml:5:1 disagg_cluster: Cluster manager and metadata server cannot be used together$/,
      { hasMetadataServer: true },
    ],
    [
      'disagg_cluster without cluster_uri',
      'disagg_cluster:\n  cluster_name: x\n',
      'd.yaml:1:1 disagg_cluster:',
      /cluster_uri is required \(add cluster_uri: http:\/\/<proxy-host>:<proxy-port>/,
    ],
    [
      'README typo inactive_interval_sec',
      fixture('disagg-cluster-readme-typo.yaml'),
      'f.yaml:12:3 disagg_cluster.inactive_interval_sec:',
      /unknown key "inactive_interval_sec": upstream rejects unknown disagg_cluster keys.*\(did you mean inactive_timeout_sec\?\)$/,
    ],
    [
      'disagg_cluster with an unknown scheme',
      'disagg_cluster:\n  cluster_uri: redis://h:1\n',
      'd.yaml:2:3 disagg_cluster.cluster_uri:',
      /must be http:\/\/<host>:<port> \(the proxy's own store\) or etcd:\/\/<host>:<port>, got "redis:\/\/h:1"/,
    ],
    [
      'disagg_cluster minimal_instances unknown key',
      'disagg_cluster:\n  cluster_uri: etcd://localhost:2379\n  minimal_instances: {ctx: 1}\n',
      'd.yaml:3:23 disagg_cluster.minimal_instances.ctx:',
      /unknown key "ctx"/,
    ],
    [
      'disagg_cluster inactive_timeout_sec zero',
      'disagg_cluster:\n  cluster_uri: etcd://localhost:2379\n  inactive_timeout_sec: 0\n',
      'd.yaml:3:3 disagg_cluster.inactive_timeout_sec:',
      /must be at least 1, got 0/,
    ],
    [
      'kv_cache_aware router with disagg_cluster',
      'generation_servers:\n  router: {type: kv_cache_aware}\ndisagg_cluster:\n  cluster_uri: http://localhost:8000\n',
      'd.yaml:2:3 generation_servers.router:',
      /kv_cache_aware router cannot add or remove servers before TensorRT-LLM 1.2/,
      { trtllmVersion: '1.1' },
    ],
    [
      'the file is a list',
      '- a\n- b\n',
      'd.yaml:1:1',
      /the file must be a mapping of settings, got a list/,
    ],
    [
      'section is a list',
      'context_servers: [a]\ngeneration_servers:\n  urls: ["localhost:8002"]\n',
      'd.yaml:1:1 context_servers:',
      /must be a mapping/,
    ],
    [
      'duplicate keys',
      `port: 8000\nport: 8001\n${URLS}`,
      'd.yaml:2:1',
      /duplicate key "port": each key may appear only once/,
    ],
    [
      'YAML syntax error',
      'context_servers:\n  urls: ["localhost:8001"\ngeneration_servers: {}\n',
      'd.yaml:',
      /YAML syntax: /,
    ],
  ])('%s', (_name, text, prefix, pattern, opts) => {
    const file = prefix.startsWith('f.yaml') ? 'f.yaml' : 'd.yaml';
    const r = parseDisaggConfig(text, file, opts ?? {});
    expect(r.ok).toBe(false);
    expect(findIssue(r.issues, prefix)).toMatch(pattern);
  });

  it.each<[string, string, string, RegExp]>([
    [
      'same url in both roles',
      'context_servers:\n  urls: ["localhost:8001"]\ngeneration_servers:\n  urls: ["localhost:8001"]\n',
      'd.yaml:4:10 warning: generation_servers.urls[0]:',
      /also a context server \(context_servers\.urls\[0\]\); only the deprecated disaggregated_mpi_worker allows one server in both roles/,
    ],
    [
      'heartbeat not below the inactive timeout',
      'disagg_cluster:\n  cluster_uri: http://localhost:8000\n  heartbeat_interval_sec: 10\n  inactive_timeout_sec: 10\n',
      'd.yaml:3:3 warning: disagg_cluster.heartbeat_interval_sec:',
      /heartbeats are disabled: heartbeat_interval_sec \(10\) must be greater than 0 and less than inactive_timeout_sec \(10\)/,
    ],
    [
      'urls with disagg_cluster are ignored',
      'context_servers:\n  urls: ["localhost:8001"]\ndisagg_cluster:\n  cluster_uri: http://localhost:8000\n',
      'd.yaml:2:3 warning: context_servers.urls:',
      /urls are ignored when disagg_cluster is set/,
    ],
    [
      'unknown router argument',
      `${URLS}  router: {type: load_balancing, use_token: true}\n`,
      'd.yaml:7:34 warning: generation_servers.router.use_token:',
      /upstream ignores it \(did you mean use_tokens\?\)$/,
    ],
    [
      'empty disagg_cluster',
      `${URLS}disagg_cluster: {}\n`,
      'd.yaml:7:1 warning: disagg_cluster:',
      /an empty disagg_cluster section is ignored/,
    ],
  ])('warning: %s (file stays valid)', (_name, text, prefix, pattern) => {
    const r = parseDisaggConfig(text, 'd.yaml');
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.ok).toBe(true);
    expect(findIssue(r.issues, prefix)).toMatch(pattern);
  });

  it('an invalid but well-formed file still comes with its Document (for fixing it in an editor)', () => {
    const r = parseDisaggConfig(`max_retries: -1\n${URLS}`, 'd.yaml');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.document?.get('max_retries')).toBe(-1);
    expect(parseDisaggConfig('a: [1\n', 'd.yaml')).not.toHaveProperty('document');
  });

  it('an alias bomb is an error, not a crash', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = String.fromCharCode(97 + i);
        const name = String.fromCharCode(98 + i);
        return `${name}: &${name} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join('\n');
    const r = parseDisaggConfig(`${bomb}\n`, 'd.yaml');
    expect(r.ok).toBe(false);
    expect(r.issues.map(formatIssue)[0]).toMatch(/^d\.yaml:1:1 YAML: /);
  });

  it('reports every problem of a file at once, top to bottom', () => {
    const issues = issuesOf('max_retries: -1\nport: x\ncontext_servers:\n  urls: ["http://a:1"]\n');
    expect(issues.map((i) => `${i.line}:${i.column}`)).toEqual(['1:1', '1:1', '2:1', '4:10']);
    expect(issues.every((i) => i.severity === 'error')).toBe(true);
  });
});

describe('parseMetadataConfig', () => {
  it('reads the etcd test config and fills refresh_interval', () => {
    const r = parseMetadataConfig(fixture('metadata-etcd.yaml'), 'm.yaml');
    expect(r.ok && r.value).toEqual({
      server_type: 'etcd',
      hostname: 'localhost',
      port: 2379,
      health_check_timeout: 5,
      refresh_interval: 10,
    });
  });

  it('the README sample fails on both of its typos, with hints', () => {
    const r = parseMetadataConfig(fixture('metadata-readme-typos.yaml'), 'm.yaml');
    expect(r.ok).toBe(false);
    expect(r.issues.map(formatIssue)).toEqual([
      'm.yaml:1:1 server_type is required (it has no default) (add `server_type: etcd`)',
      'm.yaml:5:1 refersh_interval: unknown key "refersh_interval": upstream\'s MetadataServerConfig rejects unknown keys (TypeError) and will not start (did you mean refresh_interval?)',
    ]);
  });

  it.each([
    [
      'server_type: redis\n',
      'm.yaml:1:1 server_type: must be "etcd" (the only metadata server), got "redis"',
    ],
    ['server_type: etcd\nport: 0\n', 'm.yaml:2:1 port: must be between 1 and 65535, got 0'],
    [
      'server_type: etcd\nhealth_check_timeout: 0\n',
      'm.yaml:2:1 health_check_timeout: must be greater than 0, got 0',
    ],
    [
      'server_type: etcd\nrefresh_interval: soon\n',
      'm.yaml:2:1 refresh_interval: must be a number, got "soon"',
    ],
    ['', 'm.yaml:1:1 server_type is required (it has no default) (add `server_type: etcd`)'],
  ])('%j -> %s', (text, expected) => {
    const r = parseMetadataConfig(text, 'm.yaml');
    expect(r.ok).toBe(false);
    expect(r.issues.map(formatIssue)).toContain(expected);
  });
});

describe('splitHostPort', () => {
  it.each([
    ['localhost:8001', { host: 'localhost', port: 8001 }],
    ['10.0.0.7:18000', { host: '10.0.0.7', port: 18000 }],
    ['gpu-node-01:65535', { host: 'gpu-node-01', port: 65535 }],
  ])('%s', (url, expected) => {
    expect(splitHostPort(url)).toEqual(expected);
  });

  it.each([
    ['http://localhost:8001', /without a scheme.*write localhost:8001/],
    ['[::1]:8001', /IPv6/],
    ['::1', /IPv6/],
    ['localhost', /must be host:port/],
    [':8001', /with a host name/],
    ['localhost:0', /outside 1-65535/],
    ['localhost:http', /not a number/],
  ])('%s is rejected', (url, pattern) => {
    expect(() => splitHostPort(url)).toThrow(pattern);
  });
});

describe('parseDisaggClusterConfig (plain values)', () => {
  it('fills defaults and lets the CLI uri win over the file', () => {
    const r = parseDisaggClusterConfig(
      { cluster_uri: 'http://a:1', heartbeat_interval_sec: null },
      { clusterUri: 'etcd://b:2379' },
    );
    expect(r.ok && r.value).toEqual({
      cluster_uri: 'etcd://b:2379',
      cluster_name: '',
      minimal_instances: { context_servers: 1, generation_servers: 1 },
      heartbeat_interval_sec: 5,
      inactive_timeout_sec: 10,
    });
  });

  it('a missing cluster_uri is an error unless the CLI gives one', () => {
    expect(
      parseDisaggClusterConfig({ cluster_name: 'x' }, { file: 'w.yaml' }).issues.map(formatIssue),
    ).toEqual([expect.stringMatching(/^w\.yaml:1:1 cluster_uri is required/)]);
    expect(
      parseDisaggClusterConfig({ cluster_name: 'x' }, { clusterUri: 'http://p:8000' }).ok,
    ).toBe(true);
  });

  it('rejects a non-mapping', () => {
    expect(parseDisaggClusterConfig('http://a:1').ok).toBe(false);
  });
});
