// The guarded YAML parser: every limit (size, alias count, alias expansion, depth) and every syntax problem
// comes back as a located ConfigIssue, never as a throw; ordinary files parse as before.

import { describe, expect, it } from 'vitest';

import type { ConfigIssue } from '../../../../shared/logic/config-issues';
import {
  parseDisaggConfig,
  parseMetadataConfig,
  parseWorkerOptions,
} from '../../../../shared/logic/config-parse';
import {
  DEFAULT_YAML_LIMITS,
  parseYamlGuarded,
  readYamlValue,
  yamlValue,
} from '../../../../shared/logic/yaml-guard';
import { billionLaughs } from '../../../helpers/hostile-yaml';

/** A guard refusal as parseYamlGuarded reports it. */
const guardError = (file: string, line: number, column: number, message: string): ConfigIssue => ({
  file,
  line,
  column,
  path: '',
  message,
  severity: 'error',
});

const errorsOf = (issues: { severity: string; message: string }[]): string[] =>
  issues.filter((i) => i.severity === 'error').map((i) => i.message);

describe('parseYamlGuarded', () => {
  it('parses an ordinary file without issues', () => {
    const r = readYamlValue('a: 1\nb: [x, z]\nc: {d: yes}\n', 'f.yaml', { version: '1.1' });
    expect(r).toEqual({ ok: true, value: { a: 1, b: ['x', 'z'], c: { d: true } }, issues: [] });
  });

  it('keeps YAML 1.2 semantics when asked (console.yaml: `on` stays a string)', () => {
    const r = readYamlValue('v: on\n', 'console.yaml', { version: '1.2' });
    expect(r).toMatchObject({ ok: true, value: { v: 'on' } });
  });

  it('refuses a billion-laughs file with a located issue instead of throwing', () => {
    const r = readYamlValue(billionLaughs(), 'bomb.yaml', { version: '1.1' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({ file: 'bomb.yaml', line: 1, column: 1, severity: 'error' });
    expect(r.issues[0]?.message).toMatch(/aliases expand too far/);
  });

  it('counts alias nodes and points at the first one past the limit', () => {
    const text = 'a: &x 1\nb: [*x, *x, *x]\n';
    const r = parseYamlGuarded(text, 'f.yaml', { version: '1.1', limits: { maxAliases: 2 } });
    expect(r.issues).toEqual([
      guardError('f.yaml', 2, 13, 'too many aliases: more than 2 (*name) references in one file'),
    ]);
  });

  it('refuses a file larger than the size limit before parsing it', () => {
    const r = parseYamlGuarded('a: 1\n'.repeat(10), 'big.yaml', {
      version: '1.1',
      limits: { maxChars: 20 },
    });
    expect(errorsOf(r.issues)).toEqual([
      'file is too large: 50 characters, at most 20 are accepted',
    ]);
    expect(r.document.contents).toBeNull();
  });

  it('refuses nesting deeper than the limit (block and flow style) at the first too-deep node', () => {
    const block =
      Array.from({ length: 6 }, (_v, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    const r = parseYamlGuarded(block, 'deep.yaml', { version: '1.1', limits: { maxDepth: 3 } });
    expect(r.issues).toEqual([
      guardError('deep.yaml', 4, 7, 'nesting too deep: more than 3 levels of mappings and lists'),
    ]);
    const flow = parseYamlGuarded('x: ' + '['.repeat(10) + ']'.repeat(10), 'flow.yaml', {
      version: '1.1',
      limits: { maxDepth: 5 },
    });
    expect(errorsOf(flow.issues)).toEqual([
      'nesting too deep: more than 5 levels of mappings and lists',
    ]);
  });

  it('turns a nesting that exhausts the parser itself into an issue (default limits)', () => {
    const n = 5000;
    const r = readYamlValue('['.repeat(n) + ']'.repeat(n), 'deep.yaml', { version: '1.1' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.length).toBeGreaterThan(0);
  });

  it('reports syntax errors and duplicate keys located', () => {
    const r = parseYamlGuarded('a: 1\na: 2\nb: [1\n', 'f.yaml', { version: '1.1' });
    const errors = r.issues.filter((i) => i.severity === 'error');
    expect(errors[0]).toMatchObject({
      line: 2,
      column: 1,
      message: 'duplicate key "a": each key may appear only once in a mapping',
    });
    expect(errors.slice(1).every((i) => i.message.startsWith('YAML syntax: '))).toBe(true);
  });

  it('has defaults that real files stay far below', () => {
    expect(DEFAULT_YAML_LIMITS.maxChars).toBeGreaterThanOrEqual(1 << 20);
    expect(DEFAULT_YAML_LIMITS.maxDepth).toBeGreaterThanOrEqual(32);
  });
});

describe('yamlValue', () => {
  it('builds a document whose aliases stay within the expansion bound', () => {
    const parsed = parseYamlGuarded('base: &b {x: 1}\nuse: *b\n', 'f.yaml', { version: '1.1' });
    expect(yamlValue(parsed.document, 'f.yaml')).toEqual({
      ok: true,
      value: { base: { x: 1 }, use: { x: 1 } },
    });
  });
});

describe('every upstream-file parser goes through the guard', () => {
  it.each([
    ['disagg_config.yaml', (t: string) => parseDisaggConfig(t, 'disagg_config.yaml')],
    ['metadata_config.yaml', (t: string) => parseMetadataConfig(t, 'metadata_config.yaml')],
    ['worker options', (t: string) => parseWorkerOptions(t, 'gen.yaml')],
  ])('%s: an alias bomb is a validation issue', (_name, parse) => {
    const r = parse(billionLaughs());
    expect(r.ok).toBe(false);
    expect(r.issues.some((i) => /aliases expand too far|too many aliases/.test(i.message))).toBe(
      true,
    );
  });

  it('a file over the size limit is a validation issue, not a slow parse', () => {
    const r = parseWorkerOptions('#'.repeat(DEFAULT_YAML_LIMITS.maxChars + 1), 'gen.yaml');
    expect(r.ok).toBe(false);
    expect(r.issues[0]?.message).toMatch(/^file is too large/);
  });
});
