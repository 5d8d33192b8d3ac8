// One argument validator per channel, hand-written over a few small checkers (no dependency). Every
// argument arriving from the renderer or over HTTP is untrusted: wrong types, extra keys, missing required
// fields and too many arguments are INVALID_ARGUMENT errors naming the argument path. Layer: shared (pure).

import type { GpuProfile } from '../logic/gpu-profiles';
import { TRTLLM_VERSIONS } from '../logic/trtllm-dialect';
import type {
  BenchRunRequest,
  BenchSlos,
  BenchSweepRequest,
  PlannerCalibrateRequest,
  PlannerLayout,
  PlannerLayoutPrediction,
  PlannerPredictRequest,
  PlannerWorkload,
} from '../model/bench';
import type { ClusterCommand, ClusterCommandRequest } from '../model/cluster-state';
import { CONSOLE_LOG_LEVELS, type ConsoleLogQuery, type LogQuery } from '../model/logs';
import type { MetricsQuery } from '../model/metrics';
import { REQUEST_OUTCOMES, type RequestQuery } from '../model/requests';
import type { ConsoleSettingsPatch } from '../model/settings';
import type { ExportOptions, TopologyFiles } from '../model/topology';
import type { WorkerAddRequest, WorkerRemoveOptions } from '../model/worker-view';
import type { ApiChannelName, ApiInvokeMap } from './contract';
import { AppError } from './envelope';

/** Checks one value at a path and returns it typed, or throws AppError INVALID_ARGUMENT. */
export type Check<T> = (value: unknown, path: string) => T;

function fail(path: string, message: string): never {
  throw new AppError('INVALID_ARGUMENT', `${path}: ${message}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return `"${value.length > 40 ? value.slice(0, 40) + '...' : value}"`;
  }
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return typeof value;
}

/** A string with optional length bounds (default at most 1 MiB of text). */
export function str(
  opts: { minLength?: number; maxLength?: number; pattern?: RegExp } = {},
): Check<string> {
  const { minLength = 0, maxLength = 1 << 20, pattern } = opts;
  return (v, path) => {
    if (typeof v !== 'string') fail(path, `must be a string, got ${describe(v)}`);
    if (v.length < minLength) {
      fail(
        path,
        minLength === 1 ? 'must not be empty' : `must have at least ${minLength} characters`,
      );
    }
    if (v.length > maxLength) fail(path, `must have at most ${maxLength} characters`);
    if (pattern && !pattern.test(v)) fail(path, `must match ${String(pattern)}`);
    return v;
  };
}

/** An integer within bounds. */
export function int(opts: { min?: number; max?: number } = {}): Check<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      fail(path, `must be an integer, got ${describe(v)}`);
    }
    if (v < min || v > max) fail(path, `must be between ${min} and ${max}, got ${v}`);
    return v;
  };
}

/** A finite number within bounds. */
export function num(opts: { min?: number; max?: number } = {}): Check<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = opts;
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail(path, `must be a number, got ${describe(v)}`);
    }
    if (v < min || v > max) fail(path, `must be between ${min} and ${max}, got ${v}`);
    return v;
  };
}

/** A boolean. */
export function bool(): Check<boolean> {
  return (v, path) =>
    typeof v === 'boolean' ? v : fail(path, `must be true or false, got ${describe(v)}`);
}

/** One of the listed string literals. */
export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v, path) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? (v as T)
      : fail(path, `must be one of ${values.map((x) => `'${x}'`).join(', ')}, got ${describe(v)}`);
}

/** An array whose items pass a check. */
export function arrayOf<T>(item: Check<T>, opts: { maxItems?: number } = {}): Check<T[]> {
  const { maxItems = 10_000 } = opts;
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, `must be an array, got ${describe(v)}`);
    if (v.length > maxItems) fail(path, `must have at most ${maxItems} items`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object used as a map from string keys to checked values. */
export function recordOf<T>(
  value: Check<T>,
  opts: { maxKeys?: number; key?: Check<string> } = {},
): Check<Record<string, T>> {
  const { maxKeys = 1000, key } = opts;
  return (v, path) => {
    if (!isPlainObject(v)) fail(path, `must be an object, got ${describe(v)}`);
    const entries = Object.entries(v);
    if (entries.length > maxKeys) fail(path, `must have at most ${maxKeys} keys`);
    const out: Record<string, T> = {};
    for (const [k, x] of entries) {
      // Assigning `__proto__` would change the result's prototype instead of adding a key.
      if (k === '__proto__') fail(`${path} key`, '"__proto__" is not allowed');
      if (key) key(k, `${path} key`);
      out[k] = value(x, `${path}.${k}`);
    }
    return out;
  };
}

/** Marks a field or argument as optional: undefined passes through. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path) => (v === undefined ? undefined : check(v, path));
}

/** Allows null besides the checked value. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path) => (v === null ? null : check(v, path));
}

/**
 * An object with exactly the listed fields (unknown keys rejected). The type parameter ties the shape to the
 * contract's payload type, so a field added there without a check here is a compile error.
 */
export function obj<T extends object>(shape: { [K in keyof T]-?: Check<T[K]> }): Check<T> {
  return (v, path) => {
    if (!isPlainObject(v)) fail(path, `must be an object, got ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!Object.prototype.hasOwnProperty.call(shape, k)) {
        fail(`${path}.${k}`, 'is not a known field');
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(shape) as (keyof T & string)[]) {
      const checked = shape[k](v[k], `${path}.${k}`);
      if (checked !== undefined) out[k] = checked;
    }
    return out as T;
  };
}

/** Checks a raw argument list against one check per parameter; extra arguments are rejected. */
export function tuple<T extends unknown[]>(
  ...checks: { [I in keyof T]: Check<T[I]> }
): (raw: unknown[]) => T {
  return (raw) => {
    if (raw.length > checks.length) {
      fail('arguments', `expected at most ${checks.length}, got ${raw.length}`);
    }
    return checks.map((check: Check<unknown>, i) => check(raw[i], `argument ${i + 1}`)) as T;
  };
}

/** Checks an array of unknown values as the argument list of one channel. */
export type ArgsValidator<K extends ApiChannelName> = (
  raw: unknown[],
) => Parameters<ApiInvokeMap[K]>;

const id = str({ minLength: 1, maxLength: 200 });
const portNumber = int({ min: 1, max: 65535 });
const gpuIndex = int({ min: 0, max: 1023 });
const envMap = recordOf(str({ maxLength: 100_000 }), {
  maxKeys: 500,
  key: str({ minLength: 1, maxLength: 200, pattern: /^[A-Za-z_][A-Za-z0-9_]*$/ }),
});
const engine = oneOf(['trtllm-serve', 'simulated'] as const);
const clusterMode = oneOf(['static', 'metadata', 'disagg_cluster'] as const);
/** File names inside a topology folder: no directories, no dot files. */
const fileName = str({ minLength: 1, maxLength: 200, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/ });
const topologyFiles: Check<TopologyFiles> = recordOf(str({ maxLength: 4 << 20 }), {
  maxKeys: 200,
  key: fileName,
});
const version = int({ min: 1 });

const workerAddRequest = obj<WorkerAddRequest>({
  role: oneOf(['context', 'generation'] as const),
  gpus: arrayOf(gpuIndex, { maxItems: 64 }),
  model: str({ minLength: 1, maxLength: 4096 }),
  engine,
  id: optional(str({ minLength: 1, maxLength: 64, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/ })),
  port: optional(portNumber),
  host: optional(str({ minLength: 1, maxLength: 255 })),
  backend: optional(oneOf(['pytorch', 'tensorrt', '_autodeploy'] as const)),
  tpSize: optional(int({ min: 1, max: 1024 })),
  ppSize: optional(int({ min: 1, max: 1024 })),
  optionsYaml: optional(str({ maxLength: 1 << 20 })),
  extraEnv: optional(envMap),
});

const removeOptions = obj<WorkerRemoveOptions>({
  drainTimeoutMs: optional(int({ min: 0, max: 3_600_000 })),
});
const logQuery = obj<LogQuery>({
  tail: optional(int({ min: 1, max: 100_000 })),
  search: optional(str({ maxLength: 1000 })),
  isCaseSensitive: optional(bool()),
});
const consoleLogQuery = obj<ConsoleLogQuery>({
  minLevel: optional(oneOf(CONSOLE_LOG_LEVELS)),
  tail: optional(int({ min: 1, max: 10_000 })),
  search: optional(str({ maxLength: 1000 })),
  component: optional(str({ minLength: 1, maxLength: 100 })),
});
const metricsQuery = obj<MetricsQuery>({
  fromMs: optional(num({ min: 0 })),
  toMs: optional(num({ min: 0 })),
  workerId: optional(id),
  stepSec: optional(int({ min: 1, max: 86_400 })),
});
const requestQuery = obj<RequestQuery>({
  outcomes: optional(arrayOf(oneOf(REQUEST_OUTCOMES), { maxItems: REQUEST_OUTCOMES.length })),
  worker: optional(str({ minLength: 1, maxLength: 500 })),
  limit: optional(int({ min: 1, max: 2000 })),
});
const exportOptions = obj<ExportOptions>({
  format: oneOf(['files', 'launch-script', 'slurm-script'] as const),
  slurm: optional(
    obj<NonNullable<ExportOptions['slurm']>>({
      jobName: optional(str({ minLength: 1, maxLength: 100 })),
      partition: optional(nullable(str({ minLength: 1, maxLength: 100 }))),
      account: optional(nullable(str({ minLength: 1, maxLength: 100 }))),
      timeLimit: optional(str({ minLength: 1, maxLength: 32, pattern: /^[0-9:-]+$/ })),
      nodes: optional(int({ min: 1, max: 10_000 })),
      gpusPerNode: optional(int({ min: 1, max: 64 })),
    }),
  ),
  configDir: optional(str({ minLength: 1, maxLength: 4096 })),
});
const settingsPatch = obj<ConsoleSettingsPatch>({
  trtllmServePath: optional(nullable(str({ minLength: 1, maxLength: 4096 }))),
  defaultEngine: optional(engine),
  simulatedGpuCount: optional(int({ min: 1, max: 64 })),
  simulatedGpuModel: optional(str({ minLength: 1, maxLength: 200 })),
  readyTimeoutMs: optional(int({ min: 1000, max: 24 * 3_600_000 })),
  clusterMode: optional(clusterMode),
  etcdEndpoint: optional(
    nullable(str({ minLength: 1, maxLength: 500, pattern: /^https?:\/\/[^\s]+$/ })),
  ),
  proxyPort: optional(portNumber),
  trtllmVersion: optional(oneOf(['auto', ...TRTLLM_VERSIONS] as const)),
  confirmExecutable: optional(bool()),
});

// ------------------------------------------------------------------ cluster commands (#12)
const drainTimeoutMs = optional(int({ min: 0, max: 3_600_000 }));
const baseTopologyVersion = nullable(int({ min: 1 }));
/** One check per command kind: the fields each kind takes (the `kind` itself is checked by clusterCommand). */
const commandShapes: {
  [K in ClusterCommand['kind']]: Check<Extract<ClusterCommand, { kind: K }>>;
} = {
  addWorker: obj({ kind: oneOf(['addWorker'] as const), request: workerAddRequest }),
  removeWorker: obj({ kind: oneOf(['removeWorker'] as const), id, drainTimeoutMs }),
  drainWorker: obj({ kind: oneOf(['drainWorker'] as const), id, drainTimeoutMs }),
  undrainWorker: obj({ kind: oneOf(['undrainWorker'] as const), id }),
  restartWorker: obj({ kind: oneOf(['restartWorker'] as const), id }),
  stopWorker: obj({ kind: oneOf(['stopWorker'] as const), id }),
  applyConfig: obj({
    kind: oneOf(['applyConfig'] as const),
    files: topologyFiles,
    baseTopologyVersion,
    note: optional(str({ minLength: 1, maxLength: 200 })),
  }),
  rollback: obj({ kind: oneOf(['rollback'] as const), version }),
  saveDraft: obj({
    kind: oneOf(['saveDraft'] as const),
    files: topologyFiles,
    baseTopologyVersion,
  }),
  discardDraft: obj({ kind: oneOf(['discardDraft'] as const) }),
  importFiles: obj({ kind: oneOf(['importFiles'] as const), files: topologyFiles }),
};
const COMMAND_KINDS = Object.keys(commandShapes) as ClusterCommand['kind'][];
const clusterCommand: Check<ClusterCommand> = (v, path) => {
  if (!isPlainObject(v)) fail(path, `must be an object, got ${describe(v)}`);
  const kind = oneOf(COMMAND_KINDS)(v.kind, `${path}.kind`);
  return commandShapes[kind](v, path);
};
const clusterCommandRequest = obj<ClusterCommandRequest>({
  command: clusterCommand,
  expectedVersion: int({ min: 0 }),
});

// ------------------------------------------------------------------ bench and planner (B1, B2)
const benchRunId = str({ minLength: 1, maxLength: 81, pattern: /^[a-z0-9][a-z0-9-]*$/ });
const sloMs = num({ min: 0.001, max: 3_600_000 });
const slos = obj<BenchSlos>({
  ttft: optional(sloMs),
  tpot: optional(sloMs),
  e2el: optional(sloMs),
});
const tokenLen = int({ min: 1, max: 1_000_000 });
const httpUrl = str({ minLength: 1, maxLength: 2000, pattern: /^https?:\/\/[^\s]+$/ });
const benchRunFields = {
  baseUrl: optional(httpUrl),
  endpoint: oneOf(['/v1/completions', '/v1/chat/completions'] as const),
  model: optional(str({ minLength: 1, maxLength: 4096 })),
  isStreaming: bool(),
  inputLen: tokenLen,
  outputLen: tokenLen,
  numPrompts: int({ min: 1, max: 100_000 }),
  datasetText: optional(str({ maxLength: 64 << 20 })),
  requestRate: optional(num({ min: 0.001, max: 1_000_000 })),
  maxConcurrency: optional(int({ min: 1, max: 100_000 })),
  shouldIgnoreEos: optional(bool()),
  slos: optional(slos),
  name: optional(str({ minLength: 1, maxLength: 200 })),
};
const benchRunRequest = obj<BenchRunRequest>(benchRunFields);
const benchSweepRequest = obj<BenchSweepRequest>({
  ...benchRunFields,
  sweep: obj<BenchSweepRequest['sweep']>({
    kind: oneOf(['concurrency', 'rate'] as const),
    values: (v, path) => {
      const values = arrayOf(num({ min: 0.001, max: 1_000_000 }), { maxItems: 64 })(v, path);
      if (values.length === 0) fail(path, 'must have at least one step');
      return values;
    },
  }),
});
const plannerCalibrateRequest = obj<PlannerCalibrateRequest>({
  baseUrl: optional(httpUrl),
  model: optional(str({ minLength: 1, maxLength: 4096 })),
  depth: optional(oneOf(['short', 'thorough'] as const)),
});
const positive = num({ min: 0.000001, max: 1e15 });
const gpuProfile = obj<GpuProfile>({
  id: oneOf(['h100', 'h200', 'a100', 'l40s', 'rtx4090', 'custom'] as const),
  name: str({ minLength: 1, maxLength: 200 }),
  memoryBytes: positive,
  memoryBandwidthGBps: positive,
  denseBf16Tflops: positive,
  prefillTokensPerSec8B: positive,
  interconnect: oneOf(['nvlink', 'pcie'] as const),
  kvLinkGBps: positive,
});
const plannerWorkload = obj<PlannerWorkload>({
  inputLen: tokenLen,
  outputLen: tokenLen,
  requestRate: optional(nullable(num({ min: 0.001, max: 100_000 }))),
  maxConcurrency: optional(nullable(int({ min: 1, max: 10_000 }))),
  slos,
});
const plannerPredictRequest = obj<PlannerPredictRequest>({
  workload: plannerWorkload,
  gpus: int({ min: 1, max: 64 }),
  gpu: optional(gpuProfile),
  model: optional(str({ minLength: 1, maxLength: 4096 })),
  durationS: optional(num({ min: 0.5, max: 600 })),
  maxLayouts: optional(int({ min: 1, max: 32 })),
});
const workerCount = int({ min: 0, max: 64 });
const plannerLayout = obj<PlannerLayout>({
  kind: oneOf(['disaggregated', 'aggregated'] as const),
  contextWorkers: workerCount,
  generationWorkers: int({ min: 1, max: 64 }),
  gpus: int({ min: 1, max: 64 }),
});
const metricValue = num({ min: 0 });
const plannerLayoutPrediction = obj<PlannerLayoutPrediction>({
  layout: plannerLayout,
  label: str({ maxLength: 200 }),
  completed: int({ min: 0 }),
  failed: int({ min: 0 }),
  requestThroughput: metricValue,
  goodput: nullable(metricValue),
  goodputFraction: nullable(metricValue),
  meanTtftMs: metricValue,
  p99TtftMs: metricValue,
  meanTpotMs: metricValue,
  p99TpotMs: metricValue,
  outputTokensPerSec: metricValue,
  outputTokensPerSecPerGpu: metricValue,
  goodputPerGpu: nullable(metricValue),
});

/** The validator of every channel. */
export const ApiValidators: { [K in ApiChannelName]: ArgsValidator<K> } = {
  'gpus:list': tuple(),
  'workers:list': tuple(),
  'workers:add': tuple(workerAddRequest),
  'workers:remove': tuple(id, optional(removeOptions)),
  'workers:restart': tuple(id),
  'workers:stop': tuple(id),
  'workers:logs': tuple(id, optional(logQuery)),
  'console:logs': tuple(optional(consoleLogQuery)),
  'topology:get': tuple(),
  'topology:validate': tuple(topologyFiles),
  'topology:apply': tuple(topologyFiles),
  'topology:history': tuple(),
  'topology:diff': tuple(version, version),
  'topology:rollback': tuple(version),
  'topology:import': tuple(topologyFiles),
  'topology:export': tuple(exportOptions),
  'cluster:status': tuple(),
  'cluster:snapshot': tuple(),
  'cluster:command': tuple(clusterCommandRequest),
  'metrics:snapshot': tuple(optional(metricsQuery)),
  'metrics:csv': tuple(optional(metricsQuery)),
  'requests:list': tuple(optional(requestQuery)),
  'requests:get': tuple(int({ min: 0 })),
  'proxy:info': tuple(),
  'proxy:cost': tuple(),
  'settings:get': tuple(),
  'settings:set': tuple(settingsPatch),
  'bench:run': tuple(benchRunRequest),
  'bench:sweep': tuple(benchSweepRequest),
  'bench:cancel': tuple(),
  'bench:list': tuple(),
  'bench:get': tuple(benchRunId),
  'bench:delete': tuple(benchRunId),
  'bench:compare': tuple(benchRunId, benchRunId),
  'bench:csv': tuple(benchRunId),
  'planner:calibrate': tuple(plannerCalibrateRequest),
  'planner:predict': tuple(plannerPredictRequest),
  'planner:cancel': tuple(),
  'planner:apply': tuple(plannerLayout),
  'planner:check': tuple(plannerLayoutPrediction, plannerWorkload),
};

/** Validates the raw arguments of a channel; throws AppError INVALID_ARGUMENT naming the bad argument. */
export function validateArgs<K extends ApiChannelName>(
  channel: K,
  raw: unknown,
): Parameters<ApiInvokeMap[K]> {
  if (!Array.isArray(raw)) fail('arguments', `must be an array, got ${describe(raw)}`);
  const validator: ArgsValidator<K> = ApiValidators[channel];
  return validator(raw);
}
