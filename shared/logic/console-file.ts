// console.yaml: the one file of a topology that is the console's own (each worker's role, GPUs, host, port,
// model, engine, backend, TP/PP, options file and extra env; the membership mode; the longest expected
// input). Parsed with located issues like the upstream files, written back in a fixed layout. Layer: core.

import { Document, isSeq } from 'yaml';

import type { ClusterMode, ConsoleTopology, TopologyWorker } from '../model/topology';
import { isPlainObject } from './config-checks';
import type { ConfigIssue } from './config-issues';
import { parseYamlGuarded, yamlValue } from './yaml-guard';
import { type ConfigPath, formatPath, locatePath } from './yaml-locate';

/** The console's file name inside a topology folder. */
export const CONSOLE_FILE = 'console.yaml';

/** Worker names double as ids and file names: letters, digits, `_`, `.`, `-`, not starting with a dot. */
export const WORKER_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

const TOP_KEYS = ['cluster_mode', 'expected_max_input_tokens', 'workers'];
const WORKER_KEYS = [
  'name',
  'role',
  'gpus',
  'host',
  'port',
  'model',
  'engine',
  'backend',
  'tp_size',
  'pp_size',
  'options_file',
  'env',
];

/** Result of parsing console.yaml. */
export type ConsoleParseResult =
  | { ok: true; value: ConsoleTopology; issues: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[] };

/** Parses console.yaml; every problem is located at its key. */
export function parseConsoleFile(text: string, file = CONSOLE_FILE): ConsoleParseResult {
  // console.yaml is the console's own file, read as YAML 1.2 (unlike the upstream files, which PyYAML reads
  // as 1.1): an env var named N or a value `on` must stay a string.
  const parsed = parseYamlGuarded(text, file, { version: '1.2' });
  const { document, lineCounter } = parsed;
  const issues: ConfigIssue[] = parsed.issues.filter((i) => i.severity === 'error');
  if (issues.length > 0) return { ok: false, issues };
  const add = (
    severity: 'error' | 'warning',
    path: ConfigPath,
    message: string,
    hint?: string,
  ): void => {
    const at = locatePath(document, lineCounter, path);
    issues.push({
      file,
      line: at.line,
      column: at.column,
      path: formatPath(path),
      message,
      severity,
      ...(hint ? { hint } : {}),
    });
  };
  const error = (path: ConfigPath, message: string, hint?: string): void =>
    add('error', path, message, hint);

  const value = yamlValue(document, file);
  if (!value.ok) return { ok: false, issues: [value.issue] };
  const root: unknown = value.value ?? {};
  if (!isPlainObject(root)) {
    error([], 'must be a mapping with cluster_mode and workers');
    return { ok: false, issues };
  }
  for (const key of Object.keys(root)) {
    if (!TOP_KEYS.includes(key)) {
      error([key], 'is not a console.yaml key', `known keys: ${TOP_KEYS.join(', ')}`);
    }
  }

  let clusterMode: ClusterMode = 'static';
  if (root.cluster_mode !== undefined) {
    if (
      root.cluster_mode === 'static' ||
      root.cluster_mode === 'metadata' ||
      root.cluster_mode === 'disagg_cluster'
    ) {
      clusterMode = root.cluster_mode;
    } else {
      error(
        ['cluster_mode'],
        `must be static, metadata or disagg_cluster, got ${JSON.stringify(root.cluster_mode)}`,
      );
    }
  }
  let expectedMaxInputTokens: number | null = null;
  if (root.expected_max_input_tokens !== undefined && root.expected_max_input_tokens !== null) {
    const v = root.expected_max_input_tokens;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1) expectedMaxInputTokens = v;
    else {
      error(['expected_max_input_tokens'], `must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }

  const workers: TopologyWorker[] = [];
  const rawWorkers = root.workers ?? [];
  if (!Array.isArray(rawWorkers)) {
    error(['workers'], 'must be a list of workers');
  } else {
    const seen = new Set<string>();
    rawWorkers.forEach((raw: unknown, i) => {
      const at = (k?: string): ConfigPath => (k === undefined ? ['workers', i] : ['workers', i, k]);
      if (!isPlainObject(raw)) {
        error(at(), 'must be a mapping');
        return;
      }
      for (const key of Object.keys(raw)) {
        if (!WORKER_KEYS.includes(key)) {
          error(at(key), 'is not a worker key', `known keys: ${WORKER_KEYS.join(', ')}`);
        }
      }
      const str = (k: string, fallback?: string): string | null => {
        const v = raw[k];
        if (v === undefined && fallback !== undefined) return fallback;
        if (typeof v === 'string' && v.length > 0) return v;
        error(
          at(k),
          v === undefined ? 'is required' : `must be a non-empty string, got ${JSON.stringify(v)}`,
        );
        return null;
      };
      const posInt = (k: string, max: number): number | null => {
        const v = raw[k];
        if (v === undefined || v === null) return null;
        if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max) return v;
        error(at(k), `must be an integer between 1 and ${max}, got ${JSON.stringify(v)}`);
        return null;
      };
      const name = str('name');
      if (name !== null) {
        if (!WORKER_NAME_PATTERN.test(name)) {
          error(
            at('name'),
            `must use letters, digits, '_', '.', '-' only, got ${JSON.stringify(name)}`,
          );
        } else if (seen.has(name)) {
          error(at('name'), `worker name ${JSON.stringify(name)} is used twice`);
        }
        seen.add(name);
      }
      const role = raw.role;
      if (role !== 'context' && role !== 'generation') {
        error(at('role'), `must be context or generation, got ${JSON.stringify(role)}`);
      }
      const gpus: number[] = [];
      if (raw.gpus !== undefined) {
        if (!Array.isArray(raw.gpus)) error(at('gpus'), 'must be a list of GPU indices');
        else {
          raw.gpus.forEach((g: unknown, j) => {
            if (typeof g === 'number' && Number.isInteger(g) && g >= 0) gpus.push(g);
            else {
              error(
                ['workers', i, 'gpus', j],
                `must be a GPU index (0, 1, ...), got ${JSON.stringify(g)}`,
              );
            }
          });
        }
      }
      const host = str('host', 'localhost');
      const port = raw.port;
      if (!(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) {
        error(at('port'), `must be a port number 1-65535, got ${JSON.stringify(port)}`);
      }
      const model = str('model');
      const engine = raw.engine ?? 'trtllm-serve';
      if (engine !== 'trtllm-serve' && engine !== 'simulated') {
        error(at('engine'), `must be trtllm-serve or simulated, got ${JSON.stringify(engine)}`);
      }
      const backend = raw.backend ?? 'pytorch';
      if (backend !== 'pytorch' && backend !== 'tensorrt' && backend !== '_autodeploy') {
        error(
          at('backend'),
          `must be pytorch, tensorrt or _autodeploy, got ${JSON.stringify(backend)}`,
        );
      }
      let optionsFile: string | null = null;
      if (raw.options_file !== undefined && raw.options_file !== null) {
        if (
          typeof raw.options_file === 'string' &&
          /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(raw.options_file)
        ) {
          optionsFile = raw.options_file;
        } else {
          error(
            at('options_file'),
            `must be a file name in the topology folder, got ${JSON.stringify(raw.options_file)}`,
          );
        }
      }
      const env: Record<string, string> = {};
      if (raw.env !== undefined && raw.env !== null) {
        if (!isPlainObject(raw.env)) {
          error(at('env'), 'must be a mapping of variable names to values');
        } else {
          for (const [k, v] of Object.entries(raw.env)) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
              error(['workers', i, 'env', k], 'is not a valid environment variable name');
            } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
              env[k] = String(v);
            } else error(['workers', i, 'env', k], 'must be a string');
          }
        }
      }
      const tpSize = posInt('tp_size', 1024);
      const ppSize = posInt('pp_size', 1024);
      if (
        name === null ||
        (role !== 'context' && role !== 'generation') ||
        host === null ||
        typeof port !== 'number' ||
        model === null
      ) {
        return;
      }
      if (
        (engine !== 'trtllm-serve' && engine !== 'simulated') ||
        (backend !== 'pytorch' && backend !== 'tensorrt' && backend !== '_autodeploy')
      ) {
        return;
      }
      workers.push({
        name,
        role,
        gpus,
        host,
        port,
        model,
        engine,
        backend,
        tpSize,
        ppSize,
        optionsFile,
        env,
      });
    });
  }
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  if (issues.some((i) => i.severity === 'error')) return { ok: false, issues };
  return { ok: true, value: { clusterMode, expectedMaxInputTokens, workers }, issues };
}

/** Writes console.yaml in the console's fixed layout (snake_case keys, defaults left out). */
export function serializeConsoleFile(topology: ConsoleTopology): string {
  const doc = {
    cluster_mode: topology.clusterMode,
    ...(topology.expectedMaxInputTokens !== null
      ? { expected_max_input_tokens: topology.expectedMaxInputTokens }
      : {}),
    workers: topology.workers.map((w) => ({
      name: w.name,
      role: w.role,
      gpus: w.gpus,
      host: w.host,
      port: w.port,
      model: w.model,
      engine: w.engine,
      backend: w.backend,
      ...(w.tpSize !== null ? { tp_size: w.tpSize } : {}),
      ...(w.ppSize !== null ? { pp_size: w.ppSize } : {}),
      ...(w.optionsFile !== null ? { options_file: w.optionsFile } : {}),
      ...(Object.keys(w.env).length > 0 ? { env: w.env } : {}),
    })),
  };
  const document = new Document(doc);
  // GPU lists read best on one line: `gpus: [0, 1]`.
  topology.workers.forEach((_w, i) => {
    const gpus = document.getIn(['workers', i, 'gpus'], true);
    if (isSeq(gpus)) gpus.flow = true;
  });
  document.commentBefore =
    ' Disagg Console: what only the console knows about this topology (roles, GPUs, ports, models,\n engines). The other files are the upstream trtllm-serve formats.';
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}
