import { describe, expect, it } from 'vitest';

import { formatIssue } from '../../../../shared/logic/config-issues';
import { parseConsoleFile, serializeConsoleFile } from '../../../../shared/logic/console-file';
import type { ConsoleTopology } from '../../../../shared/model/topology';
import { CONSOLE_YAML } from '../../core/topology/fixture-topology';

describe('console.yaml', () => {
  it('parses every field, with defaults for host, engine and backend', () => {
    const r = parseConsoleFile(
      'workers:\n  - name: w\n    role: generation\n    gpus: [2, 3]\n    port: 9001\n    model: m\n    tp_size: 2\n    env:\n      UCX_TLS: ^ib\n      N: 3\n',
    );
    expect(r).toEqual({
      ok: true,
      issues: [],
      value: {
        clusterMode: 'static',
        expectedMaxInputTokens: null,
        workers: [
          {
            name: 'w',
            role: 'generation',
            gpus: [2, 3],
            host: 'localhost',
            port: 9001,
            model: 'm',
            engine: 'trtllm-serve',
            backend: 'pytorch',
            tpSize: 2,
            ppSize: null,
            optionsFile: null,
            env: { UCX_TLS: '^ib', N: '3' },
          },
        ],
      },
    });
  });

  it('round-trips through serialize and parse', () => {
    const r = parseConsoleFile(CONSOLE_YAML);
    if (!r.ok) throw new Error('fixture must parse');
    const again = parseConsoleFile(serializeConsoleFile(r.value));
    expect(again.ok && again.value).toEqual(r.value);
    expect(serializeConsoleFile(r.value)).toContain('    gpus: [0]\n');
  });

  it.each([
    [
      'workers:\n  - name: a\n    role: ctx\n    port: 1\n    model: m\n',
      'console.yaml:3:5 workers[0].role: must be context or generation, got "ctx"',
    ],
    [
      'workers:\n  - name: a\n    role: context\n    port: 70000\n    model: m\n',
      'console.yaml:4:5 workers[0].port: must be a port number 1-65535, got 70000',
    ],
    [
      'workers:\n  - name: a\n    role: context\n    port: 1\n',
      'console.yaml:2:5 workers[0].model: is required',
    ],
    [
      'workers:\n  - name: ../x\n    role: context\n    port: 1\n    model: m\n',
      "console.yaml:2:5 workers[0].name: must use letters, digits, '_', '.', '-' only, got \"../x\"",
    ],
    [
      'workers:\n  - {name: a, role: context, port: 1, model: m}\n  - {name: a, role: context, port: 2, model: m}\n',
      'console.yaml:3:6 workers[1].name: worker name "a" is used twice',
    ],
    [
      'workers:\n  - {name: a, role: context, port: 1, model: m, gpus: [0, x]}\n',
      'console.yaml:2:59 workers[0].gpus[1]: must be a GPU index (0, 1, ...), got "x"',
    ],
    [
      'workers:\n  - {name: a, role: context, port: 1, model: m, colour: red}\n',
      'console.yaml:2:49 workers[0].colour: is not a worker key (known keys: name, role, gpus, host, port, model, engine, backend, tp_size, pp_size, options_file, env)',
    ],
    [
      'cluster_mode: etcd\n',
      'console.yaml:1:1 cluster_mode: must be static, metadata or disagg_cluster, got "etcd"',
    ],
    [
      'workers:\n  - {name: a, role: context, port: 1, model: m, options_file: ../../etc/passwd}\n',
      'console.yaml:2:49 workers[0].options_file: must be a file name in the topology folder, got "../../etc/passwd"',
    ],
  ])('locates problems: %j', (text, expected) => {
    const r = parseConsoleFile(text);
    expect(r.ok).toBe(false);
    expect(r.issues.map(formatIssue)).toContain(expected);
  });

  it('writes defaults out only when they were set', () => {
    const t: ConsoleTopology = {
      clusterMode: 'metadata',
      expectedMaxInputTokens: null,
      workers: [],
    };
    expect(serializeConsoleFile(t)).toMatch(
      /^# Disagg Console.*\n# engines\)\. .*\n\ncluster_mode: metadata\nworkers: \[\]\n$/,
    );
  });
});
