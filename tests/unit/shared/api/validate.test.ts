import { describe, expect, it } from 'vitest';

import { API_CHANNELS, type ApiChannelName } from '../../../../shared/api/contract';
import { validateArgs } from '../../../../shared/api/validate';
import { validationMessage } from './validation-message';

/** One valid argument list per channel: proves every channel has a validator that accepts good input. */
const VALID: Record<ApiChannelName, unknown[]> = {
  'gpus:list': [],
  'workers:list': [],
  'workers:add': [
    {
      role: 'context',
      gpus: [0, 1],
      model: 'Qwen/Qwen3-8B',
      engine: 'trtllm-serve',
      port: 8001,
      tpSize: 2,
      optionsYaml: 'disable_overlap_scheduler: true\n',
      extraEnv: { UCX_TLS: '^ib' },
    },
  ],
  'workers:remove': ['ctx0', { drainTimeoutMs: 5000 }],
  'workers:restart': ['ctx0'],
  'workers:stop': ['ctx0'],
  'workers:logs': ['ctx0', { tail: 100, search: 'error', isCaseSensitive: false }],
  'console:logs': [{ minLevel: 'warn', tail: 200, search: 'gen0', component: 'supervisor' }],
  'topology:get': [],
  'topology:validate': [{ 'console.yaml': 'workers: []\n', 'disagg_config.yaml': '' }],
  'topology:apply': [{ 'console.yaml': '' }],
  'topology:history': [],
  'topology:diff': [1, 2],
  'topology:rollback': [3],
  'topology:import': [{ 'disagg.yml': '' }],
  'topology:export': [
    {
      format: 'slurm-script',
      slurm: { partition: null, nodes: 1, timeLimit: '1-00:00:00' },
      configDir: '/shared/cfg',
    },
  ],
  'cluster:status': [],
  'cluster:snapshot': [],
  'cluster:command': [
    {
      command: {
        kind: 'addWorker',
        request: { role: 'generation', gpus: [2], model: 'm', engine: 'simulated' },
      },
      expectedVersion: 7,
    },
  ],
  'metrics:snapshot': [{ fromMs: 0, toMs: 1000, workerId: 'gen0', stepSec: 10 }],
  'metrics:csv': [{ workerId: 'ctx0' }],
  'requests:list': [{ outcomes: ['ok', 'timeout'], worker: 'gen0', limit: 50 }],
  'requests:get': [17],
  'proxy:info': [],
  'proxy:cost': [],
  'settings:get': [],
  'settings:set': [
    {
      trtllmServePath: null,
      simulatedGpuCount: 8,
      clusterMode: 'metadata',
      etcdEndpoint: 'http://127.0.0.1:2379',
      readyTimeoutMs: 1_800_000,
    },
  ],
  'bench:run': [
    {
      endpoint: '/v1/completions',
      isStreaming: true,
      inputLen: 128,
      outputLen: 32,
      numPrompts: 10,
      maxConcurrency: 2,
      slos: { ttft: 500 },
    },
  ],
  'bench:sweep': [
    {
      endpoint: '/v1/chat/completions',
      model: 'm',
      isStreaming: false,
      inputLen: 64,
      outputLen: 8,
      numPrompts: 4,
      sweep: { kind: 'rate', values: [0.5, 2] },
    },
  ],
  'bench:cancel': [],
  'bench:list': [],
  'bench:get': ['run-20261124233000-abc123'],
  'bench:delete': ['run-20261124233000-abc123'],
  'bench:compare': ['run-a', 'run-b'],
  'bench:csv': ['run-a'],
  'planner:calibrate': [{ depth: 'short' }],
  'planner:predict': [
    {
      workload: { inputLen: 512, outputLen: 64, requestRate: 4, slos: { ttft: 300, tpot: 30 } },
      gpus: 3,
      durationS: 2,
    },
  ],
  'planner:cancel': [],
  'planner:apply': [{ kind: 'disaggregated', contextWorkers: 1, generationWorkers: 2, gpus: 3 }],
  'planner:check': [
    {
      layout: { kind: 'disaggregated', contextWorkers: 1, generationWorkers: 1, gpus: 2 },
      label: '1 ctx + 1 gen',
      completed: 10,
      failed: 0,
      requestThroughput: 2,
      goodput: null,
      goodputFraction: null,
      meanTtftMs: 10,
      p99TtftMs: 20,
      meanTpotMs: 5,
      p99TpotMs: 6,
      outputTokensPerSec: 100,
      outputTokensPerSecPerGpu: 50,
      goodputPerGpu: null,
    },
    { inputLen: 128, outputLen: 16, maxConcurrency: 4, slos: {} },
  ],
};

describe('validateArgs', () => {
  it.each(API_CHANNELS.map((c) => [c]))(
    'accepts valid arguments for %s and returns them',
    (channel) => {
      expect(validateArgs(channel, VALID[channel])).toEqual(VALID[channel]);
    },
  );

  it('drops nothing but undefined optional fields', () => {
    expect(validateArgs('workers:logs', ['a'])).toEqual(['a', undefined]);
    expect(validateArgs('workers:remove', ['a', {}])).toEqual(['a', {}]);
  });

  it.each<[ApiChannelName, unknown, string]>([
    ['workers:list', 'x', 'arguments: must be an array, got "x"'],
    ['workers:restart', [], 'argument 1: must be a string, got undefined'],
    ['workers:restart', [''], 'argument 1: must not be empty'],
    ['workers:restart', ['a', 'b'], 'arguments: expected at most 1, got 2'],
    [
      'workers:add',
      [{ role: 'context', gpus: [0], model: 'm', engine: 'simulated', port: 0 }],
      'argument 1.port: must be between 1 and 65535, got 0',
    ],
    [
      'workers:add',
      [{ role: 'context', gpus: [0.5], model: 'm', engine: 'simulated' }],
      'argument 1.gpus[0]: must be an integer, got 0.5',
    ],
    [
      'workers:add',
      [{ role: 'context', gpus: 'all', model: 'm', engine: 'simulated' }],
      'argument 1.gpus: must be an array, got "all"',
    ],
    [
      'workers:add',
      [{ role: 'context', gpus: [0], model: 'm', engine: 'docker' }],
      "argument 1.engine: must be one of 'trtllm-serve', 'simulated', got \"docker\"",
    ],
    [
      'workers:add',
      [{ role: 'context', gpus: [0], model: 'm', engine: 'simulated', extraEnv: { 'A-B': 'x' } }],
      'argument 1.extraEnv key: must match /^[A-Za-z_][A-Za-z0-9_]*$/',
    ],
    [
      'workers:add',
      [{ role: 'context', gpus: [0], model: 'm', engine: 'simulated', extraEnv: { A: 1 } }],
      'argument 1.extraEnv.A: must be a string, got 1',
    ],
    ['workers:add', [null], 'argument 1: must be an object, got null'],
    ['workers:add', [[]], 'argument 1: must be an object, got an array'],
    ['topology:diff', [1], 'argument 2: must be an integer, got undefined'],
    ['topology:diff', [0, 1], 'argument 1: must be between 1 and 9007199254740991, got 0'],
    [
      'topology:apply',
      [{ '.env': 'x' }],
      'argument 1 key: must match /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/',
    ],
    ['topology:apply', [{ 'a.yaml': 3 }], 'argument 1.a.yaml: must be a string, got 3'],
    [
      'topology:export',
      [{ format: 'zip' }],
      "argument 1.format: must be one of 'files', 'launch-script', 'slurm-script', got \"zip\"",
    ],
    [
      'topology:export',
      [{ format: 'slurm-script', slurm: { timeLimit: '1h; rm -rf /' } }],
      'argument 1.slurm.timeLimit: must match /^[0-9:-]+$/',
    ],
    [
      'settings:set',
      [{ etcdEndpoint: 'file:///etc' }],
      'argument 1.etcdEndpoint: must match /^https?:\\/\\/[^\\s]+$/',
    ],
    ['settings:set', [{ theme: 'dark' }], 'argument 1.theme: is not a known field'],
    [
      'requests:list',
      [{ outcomes: ['fine'] }],
      "argument 1.outcomes[0]: must be one of 'ok', 'ok_context_only', 'client_error', 'upstream_error', 'timeout', 'client_disconnected', 'rejected', 'not_ready', got \"fine\"",
    ],
    ['requests:get', ['17'], 'argument 1: must be an integer, got "17"'],
    ['metrics:snapshot', [{ fromMs: Number.NaN }], 'argument 1.fromMs: must be a number, got NaN'],
    [
      'cluster:command',
      [{ command: { kind: 'explode' }, expectedVersion: 1 }],
      "argument 1.command.kind: must be one of 'addWorker', 'removeWorker', 'drainWorker', 'undrainWorker', 'restartWorker', 'stopWorker', 'applyConfig', 'rollback', 'saveDraft', 'discardDraft', 'importFiles', got \"explode\"",
    ],
    [
      'cluster:command',
      [{ command: { kind: 'removeWorker' }, expectedVersion: 1 }],
      'argument 1.command.id: must be a string, got undefined',
    ],
    [
      'cluster:command',
      [{ command: { kind: 'discardDraft', id: 'x' }, expectedVersion: 1 }],
      'argument 1.command.id: is not a known field',
    ],
    [
      'cluster:command',
      [{ command: { kind: 'applyConfig', files: {}, baseTopologyVersion: 0 }, expectedVersion: 1 }],
      'argument 1.command.baseTopologyVersion: must be between 1 and 9007199254740991, got 0',
    ],
    [
      'cluster:command',
      [{ command: { kind: 'discardDraft' } }],
      'argument 1.expectedVersion: must be an integer, got undefined',
    ],
  ])('%s %j -> %s', (channel, args, expected) => {
    expect(validationMessage(channel, args)).toBe(expected);
  });

  it('does not let __proto__ through as a field', () => {
    const args = JSON.parse(
      '[{"role":"context","gpus":[0],"model":"m","engine":"simulated","__proto__":{"isAdmin":true}}]',
    ) as unknown[];
    expect(validationMessage('workers:add', args)).toBe(
      'argument 1.__proto__: is not a known field',
    );
    expect(validationMessage('topology:apply', JSON.parse('[{"__proto__":"x"}]'))).toBe(
      'argument 1 key: "__proto__" is not allowed',
    );
  });
});
