import { describe, expect, it } from 'vitest';

import { planApply } from '../../../../electron/core/topology/apply-plan';
import type { TopologyFiles } from '../../../../shared/model/topology';
import { CONSOLE_YAML, validTopology, withEdit } from './fixture-topology';

const base = validTopology();

describe('planApply', () => {
  it.each<{
    name: string;
    previous: TopologyFiles | null;
    next: TopologyFiles;
    plan: {
      start: string[];
      restart: string[];
      stop: string[];
      unchanged: string[];
      proxyChanged: boolean;
    };
  }>([
    {
      name: 'first apply starts everything',
      previous: null,
      next: base,
      plan: { start: ['ctx0', 'gen0'], restart: [], stop: [], unchanged: [], proxyChanged: true },
    },
    {
      name: 'the same files change nothing',
      previous: base,
      next: validTopology(),
      plan: { start: [], restart: [], stop: [], unchanged: ['ctx0', 'gen0'], proxyChanged: false },
    },
    {
      name: 'a comment or key order change in an options file restarts nothing',
      previous: base,
      next: {
        ...base,
        'gen.yaml':
          '# tuned\ncache_transceiver_config:\n  max_tokens_in_buffer: 2048\n  backend: UCX\n',
      },
      plan: { start: [], restart: [], stop: [], unchanged: ['ctx0', 'gen0'], proxyChanged: false },
    },
    {
      name: 'a changed options value restarts that worker',
      previous: base,
      next: withEdit('gen.yaml', '2048', '4096'),
      plan: { start: [], restart: ['gen0'], stop: [], unchanged: ['ctx0'], proxyChanged: false },
    },
    {
      name: 'changed GPUs restart that worker',
      previous: base,
      next: withEdit('console.yaml', 'gpus: [1]', 'gpus: [2]'),
      plan: { start: [], restart: ['gen0'], stop: [], unchanged: ['ctx0'], proxyChanged: false },
    },
    {
      name: 'changed env restarts that worker',
      previous: base,
      next: withEdit(
        'console.yaml',
        '    options_file: ctx.yaml',
        '    options_file: ctx.yaml\n    env: {UCX_TLS: tcp}',
      ),
      plan: { start: [], restart: ['ctx0'], stop: [], unchanged: ['gen0'], proxyChanged: false },
    },
    {
      name: 'a new worker starts, a missing one stops',
      previous: base,
      next: { ...base, 'console.yaml': CONSOLE_YAML.replace('name: gen0', 'name: gen1') },
      plan: {
        start: ['gen1'],
        restart: [],
        stop: ['gen0'],
        unchanged: ['ctx0'],
        proxyChanged: false,
      },
    },
    {
      name: 'a proxy config change only reloads the proxy',
      previous: base,
      next: withEdit('disagg_config.yaml', 'port: 8000', 'port: 8100'),
      plan: { start: [], restart: [], stop: [], unchanged: ['ctx0', 'gen0'], proxyChanged: true },
    },
    {
      name: 'a membership mode change restarts every worker',
      previous: base,
      next: withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: metadata'),
      plan: { start: [], restart: ['ctx0', 'gen0'], stop: [], unchanged: [], proxyChanged: true },
    },
    {
      name: 'a metadata server change restarts workers in metadata mode',
      previous: {
        ...withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: metadata'),
        'metadata_config.yaml': 'server_type: etcd\nport: 2379\n',
      },
      next: {
        ...withEdit('console.yaml', 'cluster_mode: static', 'cluster_mode: metadata'),
        'metadata_config.yaml': 'server_type: etcd\nport: 2380\n',
      },
      plan: { start: [], restart: ['ctx0', 'gen0'], stop: [], unchanged: [], proxyChanged: true },
    },
  ])('$name', ({ previous, next, plan }) => {
    expect(planApply(previous ? { files: previous } : null, { files: next })).toEqual(plan);
  });
});
