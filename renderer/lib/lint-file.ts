// Inline lint of one topology file as the user types (feature K1): the shared parsers by file name, giving
// located issues; cross-file checks come from the backend's topology:validate. Layer: renderer (pure).

import type { ConfigIssue } from '../../shared/logic/config-issues';
import {
  parseDisaggConfig,
  parseMetadataConfig,
  parseWorkerOptions,
} from '../../shared/logic/config-parse';
import { parseYaml } from '../../shared/logic/yaml-locate';
import type { TopologyFiles } from '../../shared/model/topology';

export type TopologyFileKind = 'disagg' | 'metadata' | 'console' | 'worker' | 'other';

/** What a file in the topology folder is, by its name. */
export function fileKind(name: string): TopologyFileKind {
  if (name === 'disagg_config.yaml') return 'disagg';
  if (name === 'metadata_config.yaml') return 'metadata';
  if (name === 'console.yaml') return 'console';
  if (/\.ya?ml$/i.test(name)) return 'worker';
  return 'other';
}

/** Issues of one file on its own (syntax, types, ranges, unknown keys). */
export function lintFile(name: string, text: string, files: TopologyFiles): ConfigIssue[] {
  switch (fileKind(name)) {
    case 'disagg':
      return parseDisaggConfig(text, name, {
        hasMetadataServer: files['metadata_config.yaml'] !== undefined,
      }).issues;
    case 'metadata':
      return parseMetadataConfig(text, name).issues;
    case 'worker':
      return parseWorkerOptions(text, name).issues;
    case 'console':
    case 'other':
      return parseYaml(text, name).issues;
  }
}

/** Merges inline issues with the backend report's issues for the same file, without duplicates. */
export function mergeIssues(
  inline: readonly ConfigIssue[],
  report: readonly ConfigIssue[],
  file: string,
): ConfigIssue[] {
  const out = [...inline];
  for (const i of report) {
    if (i.file !== file) continue;
    if (!out.some((x) => x.line === i.line && x.column === i.column && x.message === i.message)) {
      out.push(i);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
