// The upstream config corpus (tests/fixtures/upstream-configs/README.md, plus the October 2025 files of
// tests/fixtures/configs as the 1.1 part): every file validates, opens and saves back byte for byte, and its
// typed value survives serialise -> parse.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { formatIssue } from '../../../../shared/logic/config-issues';
import type { DisaggParseOptions } from '../../../../shared/logic/config-parse';
import { parseDisaggConfig, parseWorkerOptions } from '../../../../shared/logic/config-parse';
import {
  documentToText,
  serializeDisaggConfig,
  serializeWorkerOptions,
} from '../../../../shared/logic/config-write';
import type { TrtllmVersion } from '../../../../shared/logic/trtllm-dialect';
import { isTrtllmVersion } from '../../../../shared/logic/trtllm-dialect';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

interface CorpusFile {
  name: string;
  path: string;
  version: TrtllmVersion | undefined;
  kind: 'disagg' | 'worker';
  /** Upstream's test harness writes urls into test_configs before launching. */
  isTemplate: boolean;
}

function corpus(): CorpusFile[] {
  const upstream = yamlFiles(join(FIXTURES, 'upstream-configs')).map((path): CorpusFile => {
    const rel = relative(join(FIXTURES, 'upstream-configs'), path);
    const release = rel.split('/')[0] ?? '';
    return {
      name: rel,
      path,
      version: isTrtllmVersion(release) ? release : undefined,
      kind:
        /extra-llm-api|_config\.yml$/.test(rel) ||
        rel.includes('ctx_config') ||
        /\/agg_config\.yaml$/.test(rel) ||
        rel.includes('gen_config')
          ? 'worker'
          : 'disagg',
      isTemplate: rel.includes('/test_configs/'),
    };
  });
  // The October 2025 fixtures (1.1 era) minus the deliberately broken README-typo files.
  const oct2025 = yamlFiles(join(FIXTURES, 'configs'))
    .filter((p) => !p.includes('typo') && !p.includes('metadata'))
    .map((path): CorpusFile => ({
      name: `1.1/${relative(FIXTURES, path)}`,
      path,
      version: '1.1',
      kind: path.includes('/worker-') ? 'worker' : 'disagg',
      isTemplate: false,
    }));
  return [...upstream, ...oct2025];
}

const FILES = corpus();

/**
 * Upstream files that are invalid on every release we support, with the error we give (README.md,
 * "Invalid on 1.0+"): valid when written, refused by TensorRT-LLM since (extra="forbid").
 */
const INVALID_ON_SUPPORTED_RELEASES: Record<string, RegExp> = {
  'pre-1.0/tests/integration/defs/disaggregated/test_configs/context_extra-llm-api-config.yml':
    /:1:1 pytorch_backend_config: pytorch_backend_config no longer exists in TensorRT-LLM/,
  // Top-level `cuda_graph_config: null` and a mapping under generation_servers: upstream's
  // extract_disagg_cfg copies top-level keys into both sections and raises on a different value.
  '1.3/tests/integration/defs/disaggregated/test_configs/disagg_config_2ctx_gptoss_eagle_trtllm.yaml':
    /:56:3 generation_servers\.cuda_graph_config: is a mapping here but null \(empty\) at the top level \(line 7\)/,
};

/** The file's one error matches the pinned one; false when the file is not a known-invalid one. */
function matchesKnownInvalid(name: string, errors: string[]): boolean {
  const knownInvalid = INVALID_ON_SUPPORTED_RELEASES[name];
  if (!knownInvalid) return false;
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(knownInvalid);
  return true;
}

describe('upstream config corpus', () => {
  it('holds files of several releases', () => {
    expect(new Set(FILES.map((f) => f.name.split('/')[0]))).toEqual(
      new Set(['pre-1.0', '1.1', '1.2', '1.3', 'any']),
    );
  });

  it.each(FILES.map((f) => [f.name, f] as const))('%s validates and round-trips', (_name, f) => {
    const text = readFileSync(f.path, 'utf8');
    // Every issue (unknown keys are warnings) points at a line of the file.
    const lineCount = text.split('\n').length;
    const { issues } =
      f.kind === 'worker' ? parseWorkerOptions(text, f.name) : parseDisaggConfig(text, f.name);
    for (const issue of issues) {
      if (issue.path !== '') expect(issue.line, formatIssue(issue)).toBeGreaterThan(0);
      expect(issue.line).toBeLessThanOrEqual(lineCount);
    }
    if (f.kind === 'worker') {
      const r = parseWorkerOptions(text, f.name);
      const errors = r.issues.filter((i) => i.severity === 'error').map(formatIssue);
      if (matchesKnownInvalid(f.name, errors)) return;
      expect(errors).toEqual([]);
      if (!r.ok) throw new Error('not ok');
      expect(documentToText(r.document)).toBe(text);
      const again = parseWorkerOptions(serializeWorkerOptions(r.value), 'again.yaml');
      expect(again.ok && again.value).toEqual(r.value);
      return;
    }
    const opts: DisaggParseOptions = {
      urlsFromLauncher: f.isTemplate,
      ...(f.version ? { trtllmVersion: f.version } : {}),
    };
    const r = parseDisaggConfig(text, f.name, opts);
    const errors = r.issues.filter((i) => i.severity === 'error').map(formatIssue);
    if (matchesKnownInvalid(f.name, errors)) return;
    expect(errors).toEqual([]);
    if (!r.ok) throw new Error('not ok');
    expect(documentToText(r.document)).toBe(text);
    const again = parseDisaggConfig(serializeDisaggConfig(r.value), 'again.yaml', opts);
    expect(again.ok && again.value).toEqual(r.value);
  });
});
