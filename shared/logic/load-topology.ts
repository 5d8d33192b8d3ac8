// Parses every file of a topology at once: console.yaml, disagg_config.yaml, metadata_config.yaml (when
// present) and each worker's options file, with the parsers of shared/logic/config-parse.ts. The result is
// what pre-flight, the apply plan and the exports work on. Layer: core.

import type { DisaggConfig, MetadataConfig, WorkerOptions } from '../model/config';
import type { ConsoleTopology, TopologyFiles } from '../model/topology';
import type { ConfigIssue } from './config-issues';
import { parseDisaggConfig, parseMetadataConfig, parseWorkerOptions } from './config-parse';
import { CONSOLE_FILE, parseConsoleFile } from './console-file';

/** The upstream proxy file name (`trtllm-serve disaggregated -c`). */
export const DISAGG_CONFIG_FILE = 'disagg_config.yaml';
/** The etcd metadata server file name (`-m` / `--metadata_server_config_file`). */
export const METADATA_CONFIG_FILE = 'metadata_config.yaml';

/** A topology whose files all parsed. */
export interface LoadedTopology {
  files: TopologyFiles;
  console: ConsoleTopology;
  disagg: DisaggConfig;
  metadata: MetadataConfig | null;
  /** Parsed options per worker name ({} for a worker without an options file). */
  options: Record<string, WorkerOptions>;
}

/** `{ topology }` when every file parsed (issues then hold warnings only), else `{ topology: null }` with errors. */
export interface LoadResult {
  topology: LoadedTopology | null;
  issues: ConfigIssue[];
}

function missing(file: string, message: string): ConfigIssue {
  return { file, line: 1, column: 1, path: '', message, severity: 'error' };
}

/** Parses all files of a topology; per-file problems are reported with their own file:line:column. */
export function loadTopology(files: TopologyFiles): LoadResult {
  const issues: ConfigIssue[] = [];
  const consoleText = files[CONSOLE_FILE];
  const consoleResult = consoleText === undefined ? null : parseConsoleFile(consoleText);
  if (consoleText === undefined) {
    issues.push(
      missing(
        CONSOLE_FILE,
        'console.yaml is missing: it names the workers, their roles, GPUs and ports',
      ),
    );
  } else if (consoleResult) issues.push(...consoleResult.issues);

  const metadataText = files[METADATA_CONFIG_FILE];
  let metadata: MetadataConfig | null = null;
  let isMetadataOk = true;
  if (metadataText !== undefined) {
    const r = parseMetadataConfig(metadataText, METADATA_CONFIG_FILE);
    issues.push(...r.issues);
    if (r.ok) metadata = r.value;
    else isMetadataOk = false;
  }

  const disaggText = files[DISAGG_CONFIG_FILE];
  let disagg: DisaggConfig | null = null;
  if (disaggText === undefined) {
    issues.push(missing(DISAGG_CONFIG_FILE, 'disagg_config.yaml is missing: the proxy needs it'));
  } else {
    // With a console.yaml the console manages membership, so a role may be empty (removing its last worker).
    const r = parseDisaggConfig(disaggText, DISAGG_CONFIG_FILE, {
      hasMetadataServer: metadataText !== undefined,
      isMembershipManaged: consoleResult?.ok === true,
    });
    issues.push(...r.issues);
    if (r.ok) disagg = r.value;
  }

  const options: Record<string, WorkerOptions> = {};
  let isOptionsOk = true;
  // Two workers may share one options file: it is parsed, and its problems reported, once.
  const parsedOptions = new Map<string, ReturnType<typeof parseWorkerOptions>>();
  if (consoleResult?.ok) {
    consoleResult.value.workers.forEach((w, i) => {
      if (w.optionsFile === null) {
        options[w.name] = {};
        return;
      }
      const text = files[w.optionsFile];
      if (text === undefined) {
        issues.push({
          file: CONSOLE_FILE,
          line: 1,
          column: 1,
          path: `workers[${i}].options_file`,
          message: `worker ${w.name}: options file ${w.optionsFile} is not in the topology`,
          severity: 'error',
        });
        isOptionsOk = false;
        return;
      }
      let r = parsedOptions.get(w.optionsFile);
      if (r === undefined) {
        r = parseWorkerOptions(text, w.optionsFile);
        parsedOptions.set(w.optionsFile, r);
        for (const issue of r.issues) {
          if (
            !issues.some(
              (x) => x.file === issue.file && x.line === issue.line && x.message === issue.message,
            )
          ) {
            issues.push(issue);
          }
        }
      }
      if (r.ok) options[w.name] = r.value;
      else isOptionsOk = false;
    });
  }

  const isOk =
    consoleResult?.ok === true &&
    disagg !== null &&
    isMetadataOk &&
    isOptionsOk &&
    !issues.some((i) => i.severity === 'error');
  if (!isOk || !consoleResult?.ok || !disagg) return { topology: null, issues };
  return { topology: { files, console: consoleResult.value, disagg, metadata, options }, issues };
}

/** TP size a worker really runs with: the options file wins over console.yaml (the YAML is merged last, protocol 1.1). */
export function effectiveTpSize(topology: LoadedTopology, name: string): number {
  const w = topology.console.workers.find((x) => x.name === name);
  return topology.options[name]?.tensor_parallel_size ?? w?.tpSize ?? 1;
}

/** PP size a worker really runs with (see effectiveTpSize). */
export function effectivePpSize(topology: LoadedTopology, name: string): number {
  const w = topology.console.workers.find((x) => x.name === name);
  return topology.options[name]?.pipeline_parallel_size ?? w?.ppSize ?? 1;
}
