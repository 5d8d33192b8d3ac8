// console.yaml: the one file of a topology that is the console's own (each worker's role, GPUs, host, port,
// model, engine, backend, TP/PP, options file and extra env; the membership mode; the longest expected
// input). Parsed with located issues like the upstream files, written back in a fixed layout. Layer: core.

import { Document, isSeq } from 'yaml';

import type { ClusterMode, ConsoleTopology, TopologyWorker } from '../model/topology';
import {
  createIssueSink,
  hasErrors,
  isPlainObject,
  type IssueSink,
  sortIssues,
} from './config-checks';
import type { ConfigIssue } from './config-issues';
import { parseYamlGuarded, yamlValue } from './yaml-guard';
import { type ConfigPath, locatePath } from './yaml-locate';

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
  const syntaxErrors = parsed.issues.filter((i) => i.severity === 'error');
  if (syntaxErrors.length > 0) return { ok: false, issues: syntaxErrors };
  const sink = createIssueSink(file, (path) => locatePath(document, lineCounter, path));

  const value = yamlValue(document, file);
  if (!value.ok) return { ok: false, issues: [value.issue] };
  const root: unknown = value.value ?? {};
  if (!isPlainObject(root)) {
    sink.error([], 'must be a mapping with cluster_mode and workers');
    return { ok: false, issues: sink.issues };
  }
  reportUnknownKeys(sink, [], root, TOP_KEYS, 'is not a console.yaml key');
  const clusterMode = parseClusterMode(sink, root.cluster_mode);
  const expectedMaxInputTokens = parseExpectedMaxInput(sink, root.expected_max_input_tokens);
  const workers = parseWorkers(sink, root.workers ?? []);
  const issues = sortIssues(sink.issues);
  if (hasErrors(issues)) return { ok: false, issues };
  return { ok: true, value: { clusterMode, expectedMaxInputTokens, workers }, issues };
}

function reportUnknownKeys(
  sink: IssueSink,
  at: ConfigPath,
  obj: Record<string, unknown>,
  known: readonly string[],
  message: string,
): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) sink.error([...at, key], message, `known keys: ${known.join(', ')}`);
  }
}

function parseClusterMode(sink: IssueSink, v: unknown): ClusterMode {
  if (v === undefined) return 'static';
  if (v === 'static' || v === 'metadata' || v === 'disagg_cluster') return v;
  sink.error(
    ['cluster_mode'],
    `must be static, metadata or disagg_cluster, got ${JSON.stringify(v)}`,
  );
  return 'static';
}

function parseExpectedMaxInput(sink: IssueSink, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
  sink.error(['expected_max_input_tokens'], `must be a positive integer, got ${JSON.stringify(v)}`);
  return null;
}

function parseWorkers(sink: IssueSink, rawWorkers: unknown): TopologyWorker[] {
  if (!Array.isArray(rawWorkers)) {
    sink.error(['workers'], 'must be a list of workers');
    return [];
  }
  const workers: TopologyWorker[] = [];
  const seen = new Set<string>();
  rawWorkers.forEach((raw: unknown, i) => {
    const worker = parseWorker(sink, raw, i, seen);
    if (worker !== null) workers.push(worker);
  });
  return workers;
}

/** One entry of `workers`; null when a field it cannot do without is wrong (the errors are in the sink). */
function parseWorker(
  sink: IssueSink,
  raw: unknown,
  i: number,
  seenNames: Set<string>,
): TopologyWorker | null {
  const at = (k?: string): ConfigPath => (k === undefined ? ['workers', i] : ['workers', i, k]);
  if (!isPlainObject(raw)) {
    sink.error(at(), 'must be a mapping');
    return null;
  }
  reportUnknownKeys(sink, at(), raw, WORKER_KEYS, 'is not a worker key');
  const str = (k: string, fallback?: string): string | null => {
    const v = raw[k];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === 'string' && v.length > 0) return v;
    sink.error(
      at(k),
      v === undefined ? 'is required' : `must be a non-empty string, got ${JSON.stringify(v)}`,
    );
    return null;
  };
  const name = parseWorkerName(sink, str('name'), at('name'), seenNames);
  const role = parseOneOf(sink, at('role'), raw.role, ['context', 'generation'], undefined);
  const gpus = parseGpus(sink, raw.gpus, at('gpus'));
  const host = str('host', 'localhost');
  const port = raw.port;
  if (!(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) {
    sink.error(at('port'), `must be a port number 1-65535, got ${JSON.stringify(port)}`);
  }
  const model = str('model');
  const engine = parseOneOf(sink, at('engine'), raw.engine, ENGINES, 'trtllm-serve');
  const backend = parseOneOf(sink, at('backend'), raw.backend, BACKENDS, 'pytorch');
  const optionsFile = parseOptionsFile(sink, raw.options_file, at('options_file'));
  const env = parseEnv(sink, raw.env, at('env'));
  const tpSize = parsePositiveInt(sink, at('tp_size'), raw.tp_size, 1024);
  const ppSize = parsePositiveInt(sink, at('pp_size'), raw.pp_size, 1024);
  if (name === null || role === null || host === null || typeof port !== 'number') return null;
  if (model === null || engine === null || backend === null) return null;
  const worker = { name, role, gpus, host, port, model, engine, backend };
  return { ...worker, tpSize, ppSize, optionsFile, env };
}

const ENGINES = ['trtllm-serve', 'simulated'] as const;
const BACKENDS = ['pytorch', 'tensorrt', '_autodeploy'] as const;

/** `allowed` in words: "a or b", "a, b or c". */
function orList(allowed: readonly string[]): string {
  return allowed.length < 2
    ? allowed.join('')
    : `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
}

/** One of `allowed`; absent means `fallback` when there is one. */
function parseOneOf<T extends string>(
  sink: IssueSink,
  path: ConfigPath,
  raw: unknown,
  allowed: readonly T[],
  fallback: T | undefined,
): T | null {
  const v = raw ?? fallback;
  if ((allowed as readonly unknown[]).includes(v)) return v as T;
  sink.error(path, `must be ${orList(allowed)}, got ${JSON.stringify(v)}`);
  return null;
}

function parseWorkerName(
  sink: IssueSink,
  name: string | null,
  path: ConfigPath,
  seenNames: Set<string>,
): string | null {
  if (name === null) return null;
  if (!WORKER_NAME_PATTERN.test(name)) {
    sink.error(path, `must use letters, digits, '_', '.', '-' only, got ${JSON.stringify(name)}`);
  } else if (seenNames.has(name)) {
    sink.error(path, `worker name ${JSON.stringify(name)} is used twice`);
  }
  seenNames.add(name);
  return name;
}

function parsePositiveInt(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
  max: number,
): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max) return v;
  sink.error(path, `must be an integer between 1 and ${max}, got ${JSON.stringify(v)}`);
  return null;
}

function parseGpus(sink: IssueSink, raw: unknown, path: ConfigPath): number[] {
  const gpus: number[] = [];
  if (raw === undefined) return gpus;
  if (!Array.isArray(raw)) {
    sink.error(path, 'must be a list of GPU indices');
    return gpus;
  }
  raw.forEach((g: unknown, j) => {
    if (typeof g === 'number' && Number.isInteger(g) && g >= 0) gpus.push(g);
    else sink.error([...path, j], `must be a GPU index (0, 1, ...), got ${JSON.stringify(g)}`);
  });
  return gpus;
}

function parseOptionsFile(sink: IssueSink, raw: unknown, path: ConfigPath): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(raw)) return raw;
  sink.error(path, `must be a file name in the topology folder, got ${JSON.stringify(raw)}`);
  return null;
}

function parseEnv(sink: IssueSink, raw: unknown, path: ConfigPath): Record<string, string> {
  const env: Record<string, string> = {};
  if (raw === undefined || raw === null) return env;
  if (!isPlainObject(raw)) {
    sink.error(path, 'must be a mapping of variable names to values');
    return env;
  }
  for (const [k, v] of Object.entries(raw)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      sink.error([...path, k], 'is not a valid environment variable name');
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      env[k] = String(v);
    } else sink.error([...path, k], 'must be a string');
  }
  return env;
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
