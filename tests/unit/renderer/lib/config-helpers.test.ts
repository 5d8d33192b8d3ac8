// Configuration helpers (renderer/lib/config-fields.ts, lint-file.ts, plan-preview.ts) and log search
// (log-search.ts): forms write through config-write keeping comments, inline lint per file kind, the apply
// preview, search stepping and where a crash shows.
import { describe, expect, it } from 'vitest';

import { candidatePort, filesWithWorker } from '../../../../renderer/lib/add-worker-files';
import {
  coerceField,
  FORM_FIELDS,
  readField,
  writeField,
} from '../../../../renderer/lib/config-fields';
import { fileKind, lintFile, mergeIssues } from '../../../../renderer/lib/lint-file';
import {
  crashLineIndex,
  describeExit,
  matchingLines,
  stepMatch,
} from '../../../../renderer/lib/log-search';
import { previewApplyPlan } from '../../../../renderer/lib/plan-preview';

const WORKER =
  '# ctx options\ndisable_overlap_scheduler: true  # required on ctx\ncache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 2048\n';

describe('form fields', () => {
  it('reads nested values and writes one field keeping comments and the rest byte-identical', () => {
    expect(readField(WORKER, ['cache_transceiver_config', 'backend'])).toBe('UCX');
    const out = writeField(WORKER, ['cache_transceiver_config', 'max_tokens_in_buffer'], 8192);
    expect(out).toBe(WORKER.replace('2048', '8192'));
    const added = writeField(WORKER, ['kv_cache_config', 'free_gpu_memory_fraction'], 0.8);
    expect(added.startsWith(WORKER)).toBe(true);
    expect(readField(added, ['kv_cache_config', 'free_gpu_memory_fraction'])).toBe(0.8);
  });

  it('refuses to edit a file with syntax errors', () => {
    expect(() => writeField('a: [1,\n', ['a'], 1)).toThrow(/syntax/);
  });

  it.each([
    ['int', '12', { ok: true, value: 12 }],
    ['int', '1.5', { ok: false, message: 'must be a whole number' }],
    ['number', '1.5', { ok: false, message: 'must be at most 1' }],
    ['number', '0.85', { ok: true, value: 0.85 }],
  ])('coerces %s input %s', (type, input, result) => {
    const spec = type === 'int' ? FORM_FIELDS.worker![3]! : FORM_FIELDS.worker![4]!;
    expect(coerceField(spec, input)).toEqual(result);
  });
});

describe('inline lint', () => {
  it.each([
    ['disagg_config.yaml', 'disagg'],
    ['metadata_config.yaml', 'metadata'],
    ['console.yaml', 'console'],
    ['gen0.yaml', 'worker'],
    ['notes.txt', 'other'],
  ])('%s is a %s file', (name, kind) => {
    expect(fileKind(name)).toBe(kind);
  });

  it('locates a bad worker option at its line and column', () => {
    const issues = lintFile('ctx0.yaml', WORKER + 'max_batch_size: -4\n', {});
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      file: 'ctx0.yaml',
      line: 6,
      column: 1,
      path: 'max_batch_size',
      severity: 'error',
    });
  });

  it('merges backend issues for the same file without duplicates, sorted by position', () => {
    const a = {
      file: 'x.yaml',
      line: 3,
      column: 1,
      path: 'a',
      message: 'm',
      severity: 'error' as const,
    };
    const b = { ...a, line: 1, message: 'n' };
    const other = { ...a, file: 'y.yaml' };
    expect(mergeIssues([a], [a, b, other], 'x.yaml')).toEqual([b, a]);
  });
});

describe('apply preview', () => {
  const consoleYaml = (workers: string[]): string =>
    'cluster_mode: static\nworkers:\n' +
    workers.map((w) => `  - name: ${w}\n    role: context\n    options_file: ${w}.yaml\n`).join('');

  it('starts new workers, stops removed ones, restarts those whose options changed', () => {
    const applied = {
      'console.yaml': consoleYaml(['a', 'b']),
      'a.yaml': 'x: 1\n',
      'b.yaml': 'x: 1\n',
      'disagg_config.yaml': 'port: 8000\n',
    };
    const next = {
      'console.yaml': consoleYaml(['a', 'c']),
      'a.yaml': 'x: 2\n',
      'c.yaml': 'x: 1\n',
      'disagg_config.yaml': 'port: 8000\n',
    };
    expect(previewApplyPlan(applied, next)).toEqual({
      start: ['c'],
      restart: ['a'],
      stop: ['b'],
      unchanged: [],
      proxyChanged: false,
    });
    expect(
      previewApplyPlan(applied, { ...applied, 'disagg_config.yaml': 'port: 9000\n' })?.proxyChanged,
    ).toBe(true);
    expect(previewApplyPlan(applied, { ...applied, 'console.yaml': 'workers: [' })).toBeNull();
  });

  it('writes a new worker into console.yaml with a free port and its options file', () => {
    const files = {
      'console.yaml':
        '# keep me\n' +
        consoleYaml(['a']).replace('    role: context\n', '    role: context\n    port: 8001\n'),
    };
    expect(candidatePort(files)).toBe(8002);
    const out = filesWithWorker(
      files,
      { id: 'gen0', role: 'generation', gpus: [1], model: 'm', engine: 'simulated' },
      'x: 1\n',
    );
    expect(out['console.yaml']).toContain('# keep me');
    expect(out['console.yaml']).toMatch(
      /name: gen0[\s\S]*port: 8002[\s\S]*options_file: gen0.yaml/,
    );
    expect(out['gen0.yaml']).toBe('x: 1\n');
  });
});

describe('log search', () => {
  const lines = ['loading', 'Loading weights 50%', 'ready', 'CUDA error: out of memory'].map(
    (text, i) => ({ seq: i, atMs: i * 10, stream: 'stdout' as const, text }),
  );

  it('finds matches case-insensitively and steps with wrap-around', () => {
    expect(matchingLines(lines, 'LOADING')).toEqual([0, 1]);
    expect(matchingLines(lines, '  ')).toEqual([]);
    expect(stepMatch(2, -1, 1)).toBe(0);
    expect(stepMatch(2, -1, -1)).toBe(1);
    expect(stepMatch(2, 1, 1)).toBe(0);
    expect(stepMatch(2, 0, -1)).toBe(1);
    expect(stepMatch(0, 0, 1)).toBe(-1);
  });

  it('puts the crash after the last line printed before the exit', () => {
    const exit = { code: 1, signal: null, stderrTail: [], atMs: 25, reason: null };
    expect(crashLineIndex(lines, exit)).toBe(2);
    expect(crashLineIndex(lines, null)).toBe(-1);
    expect(describeExit(exit)).toBe('exit code 1');
    expect(
      describeExit({ ...exit, signal: 'SIGKILL', reason: 'ready timeout after 60000 ms' }),
    ).toBe('ready timeout after 60000 ms (signal SIGKILL)');
  });
});
