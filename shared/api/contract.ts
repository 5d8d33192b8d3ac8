// The console API contract: every channel the UI may call and every event it may receive, with payload
// types. The single truth for Electron IPC (preload allowlist, bind-ipc) and the HTTP twin (api-server).
// Channels are `<domain>:<verb>`, events `<domain>:<pastTense>` (style-guide §3, §8). Layer: shared (pure).

import type {
  BenchComparisonRow,
  BenchProgressedEvent,
  BenchRunOutcome,
  BenchRunRequest,
  BenchRunSummary,
  BenchSweepRequest,
  PlannerCalibrateRequest,
  PlannerCalibration,
  PlannerCheckResult,
  PlannerLayout,
  PlannerLayoutPrediction,
  PlannerPrediction,
  PlannerPredictRequest,
  PlannerProgressedEvent,
  PlannerWorkload,
} from '../model/bench';
import type { ClusterStatus } from '../model/cluster';
import type {
  ClusterChangedEvent,
  ClusterCommandRequest,
  ClusterCommandResult,
  ClusterState,
} from '../model/cluster-state';
import type { GpuInventorySnapshot, GpuSample } from '../model/gpu';
import type { ConsoleLogQuery, ConsoleLogRecord, LogLine, LogQuery } from '../model/logs';
import type { MetricsQuery, MetricsSnapshot, MetricsTick } from '../model/metrics';
import type { ProxyCostReport } from '../model/proxy-cost';
import type {
  RequestDetail,
  RequestQuery,
  RequestsRecordedEvent,
  RequestSummary,
} from '../model/requests';
import type { ConsoleSettings, ConsoleSettingsPatch } from '../model/settings';
import type {
  ApplyPlan,
  ApplyResult,
  ExportedFile,
  ExportOptions,
  FileDiff,
  ImportResult,
  TopologyFiles,
  TopologyVersionInfo,
  TopologyView,
  ValidationReport,
} from '../model/topology';
import type { WorkerStatus } from '../model/worker';
import type {
  ProxyInfo,
  WorkerAddRequest,
  WorkerRemoveOptions,
  WorkerView,
} from '../model/worker-view';

/** Channel names by constant. */
export const ApiChannel = {
  GPUS_LIST: 'gpus:list',
  WORKERS_LIST: 'workers:list',
  WORKERS_ADD: 'workers:add',
  WORKERS_REMOVE: 'workers:remove',
  WORKERS_RESTART: 'workers:restart',
  WORKERS_STOP: 'workers:stop',
  WORKERS_LOGS: 'workers:logs',
  CONSOLE_LOGS: 'console:logs',
  TOPOLOGY_GET: 'topology:get',
  TOPOLOGY_VALIDATE: 'topology:validate',
  TOPOLOGY_APPLY: 'topology:apply',
  TOPOLOGY_HISTORY: 'topology:history',
  TOPOLOGY_DIFF: 'topology:diff',
  TOPOLOGY_ROLLBACK: 'topology:rollback',
  TOPOLOGY_IMPORT: 'topology:import',
  TOPOLOGY_EXPORT: 'topology:export',
  CLUSTER_STATUS: 'cluster:status',
  CLUSTER_SNAPSHOT: 'cluster:snapshot',
  CLUSTER_COMMAND: 'cluster:command',
  METRICS_SNAPSHOT: 'metrics:snapshot',
  METRICS_CSV: 'metrics:csv',
  REQUESTS_LIST: 'requests:list',
  REQUESTS_GET: 'requests:get',
  PROXY_INFO: 'proxy:info',
  PROXY_COST: 'proxy:cost',
  SETTINGS_GET: 'settings:get',
  SETTINGS_SET: 'settings:set',
  BENCH_RUN: 'bench:run',
  BENCH_SWEEP: 'bench:sweep',
  BENCH_CANCEL: 'bench:cancel',
  BENCH_LIST: 'bench:list',
  BENCH_GET: 'bench:get',
  BENCH_DELETE: 'bench:delete',
  BENCH_COMPARE: 'bench:compare',
  BENCH_CSV: 'bench:csv',
  PLANNER_CALIBRATE: 'planner:calibrate',
  PLANNER_PREDICT: 'planner:predict',
  PLANNER_CANCEL: 'planner:cancel',
  PLANNER_APPLY: 'planner:apply',
  PLANNER_CHECK: 'planner:check',
} as const;

/** A channel name, e.g. 'workers:add'. */
export type ApiChannelName = (typeof ApiChannel)[keyof typeof ApiChannel];

/** Every channel name, the allowlist of dispatch and preload. */
export const API_CHANNELS: readonly ApiChannelName[] = Object.values(ApiChannel);

/** True when the string names a channel of the contract. */
export function isApiChannel(name: string): name is ApiChannelName {
  return (API_CHANNELS as readonly string[]).includes(name);
}

/** Signature of every channel. Arguments and results are JSON-safe. */
export interface ApiInvokeMap {
  /** The GPU inventory (real or simulated) with the latest samples and which worker holds each GPU. */
  [ApiChannel.GPUS_LIST]: () => Promise<GpuInventorySnapshot>;
  /** Every worker, local and remote, with its current status. */
  [ApiChannel.WORKERS_LIST]: () => Promise<WorkerView[]>;
  /** Pre-flights the request, writes the worker into the topology and starts it; resolves once it is starting. */
  [ApiChannel.WORKERS_ADD]: (request: WorkerAddRequest) => Promise<WorkerView>;
  /** Safe removal: stop routing, drain, deregister, then stop the process and drop it from the topology. */
  [ApiChannel.WORKERS_REMOVE]: (id: string, options?: WorkerRemoveOptions) => Promise<void>;
  /** Stops and starts the worker again. */
  [ApiChannel.WORKERS_RESTART]: (id: string) => Promise<WorkerStatus>;
  /** Stops the worker (SIGTERM, then SIGKILL) and keeps it in the topology. */
  [ApiChannel.WORKERS_STOP]: (id: string) => Promise<WorkerStatus>;
  /** The worker's last log lines, optionally filtered by a search string. */
  [ApiChannel.WORKERS_LOGS]: (id: string, query?: LogQuery) => Promise<LogLine[]>;
  /** The console's own structured log records (level, time, component, msg, fields), oldest first. */
  [ApiChannel.CONSOLE_LOGS]: (query?: ConsoleLogQuery) => Promise<ConsoleLogRecord[]>;
  /** The current topology files, console.yaml parsed, and the version last applied. */
  [ApiChannel.TOPOLOGY_GET]: () => Promise<TopologyView>;
  /** Parses every file and runs the cross-file pre-flight; never changes anything. */
  [ApiChannel.TOPOLOGY_VALIDATE]: (files: TopologyFiles) => Promise<ValidationReport>;
  /** Pre-flights, then starts what is new, restarts what changed, stops what is gone; keeps the version. */
  [ApiChannel.TOPOLOGY_APPLY]: (files: TopologyFiles) => Promise<ApplyResult>;
  /** Every applied version, newest first. */
  [ApiChannel.TOPOLOGY_HISTORY]: () => Promise<TopologyVersionInfo[]>;
  /** Per-file unified diff from version `from` to version `to`. */
  [ApiChannel.TOPOLOGY_DIFF]: (from: number, to: number) => Promise<FileDiff[]>;
  /** Applies the files of an earlier version again (recorded as a new version). */
  [ApiChannel.TOPOLOGY_ROLLBACK]: (version: number) => Promise<ApplyResult>;
  /** Converts a set of upstream files (or the deprecated single MPI-worker file) into a draft topology. */
  [ApiChannel.TOPOLOGY_IMPORT]: (files: TopologyFiles) => Promise<ImportResult>;
  /** The current topology as files, a launch shell script or a SLURM batch script. */
  [ApiChannel.TOPOLOGY_EXPORT]: (options: ExportOptions) => Promise<ExportedFile[]>;
  /** Membership mode, the etcd in use, readiness and workers registered by others. */
  [ApiChannel.CLUSTER_STATUS]: () => Promise<ClusterStatus>;
  /** The whole cluster document (topology, workers, GPU assignments, draft, pending commands) and its version. */
  [ApiChannel.CLUSTER_SNAPSHOT]: () => Promise<ClusterState>;
  /** Runs one command built on `expectedVersion`; answers with what it really did, or STALE_STATE. */
  [ApiChannel.CLUSTER_COMMAND]: (request: ClusterCommandRequest) => Promise<ClusterCommandResult>;
  /** Metrics buckets for a time range. */
  [ApiChannel.METRICS_SNAPSHOT]: (query?: MetricsQuery) => Promise<MetricsSnapshot>;
  /** The same range as CSV text. */
  [ApiChannel.METRICS_CSV]: (query?: MetricsQuery) => Promise<string>;
  /** Recent proxy requests (the last 2,000 at most), newest first, filtered by outcome or worker. */
  [ApiChannel.REQUESTS_LIST]: (query?: RequestQuery) => Promise<RequestSummary[]>;
  /** One recent request by the proxy's request id (`x-disagg-request-id`) with its full timeline; NOT_FOUND once evicted. */
  [ApiChannel.REQUESTS_GET]: (id: number) => Promise<RequestDetail>;
  /** Where the LLM proxy listens. */
  [ApiChannel.PROXY_INFO]: () => Promise<ProxyInfo>;
  /** The proxy thread's CPU and request/token counters since it started, and the last saved benchmark's floor. */
  [ApiChannel.PROXY_COST]: () => Promise<ProxyCostReport>;
  /** Every console setting. */
  [ApiChannel.SETTINGS_GET]: () => Promise<ConsoleSettings>;
  /** Changes some settings; resolves with all of them. */
  [ApiChannel.SETTINGS_SET]: (patch: ConsoleSettingsPatch) => Promise<ConsoleSettings>;
  /** One load test (default target: the proxy of the current topology); saved; one run at a time (BUSY). */
  [ApiChannel.BENCH_RUN]: (request: BenchRunRequest) => Promise<BenchRunOutcome>;
  /** One load test per concurrency or rate step; saved as one run. */
  [ApiChannel.BENCH_SWEEP]: (request: BenchSweepRequest) => Promise<BenchRunOutcome>;
  /** Cancels the running load test; resolves true when one was running. */
  [ApiChannel.BENCH_CANCEL]: () => Promise<boolean>;
  /** Saved runs, newest first. */
  [ApiChannel.BENCH_LIST]: () => Promise<BenchRunSummary[]>;
  /** One saved run with its chart points. */
  [ApiChannel.BENCH_GET]: (id: string) => Promise<BenchRunOutcome>;
  /** Deletes a saved run. */
  [ApiChannel.BENCH_DELETE]: (id: string) => Promise<void>;
  /** Two saved runs side by side, steps paired by value. */
  [ApiChannel.BENCH_COMPARE]: (idA: string, idB: string) => Promise<BenchComparisonRow[]>;
  /** A saved run as CSV text, one line per step. */
  [ApiChannel.BENCH_CSV]: (id: string) => Promise<string>;
  /** Measures a running worker and fits the simulated engine's GPU profile. */
  [ApiChannel.PLANNER_CALIBRATE]: (request: PlannerCalibrateRequest) => Promise<PlannerCalibration>;
  /** Simulates each layout on the GPUs (sim workers behind the real proxy) and recommends one. */
  [ApiChannel.PLANNER_PREDICT]: (request: PlannerPredictRequest) => Promise<PlannerPrediction>;
  /** Cancels a running calibration, prediction or check; resolves true when one was running. */
  [ApiChannel.PLANNER_CANCEL]: () => Promise<boolean>;
  /** Applies a layout as the topology (a topology:apply of c context + g generation workers). */
  [ApiChannel.PLANNER_APPLY]: (layout: PlannerLayout) => Promise<ApplyResult>;
  /** A fresh load test of the running topology compared with the prediction of a layout. */
  [ApiChannel.PLANNER_CHECK]: (
    prediction: PlannerLayoutPrediction,
    workload: PlannerWorkload,
  ) => Promise<PlannerCheckResult>;
}

/** topology:applied payload. */
export interface TopologyAppliedEvent {
  version: number;
  plan: ApplyPlan;
  atMs: number;
}

/** gpus:sampled payload. */
export interface GpusSampledEvent {
  atMs: number;
  samples: GpuSample[];
}

/** logs:appended payload. */
export interface LogsAppendedEvent {
  workerId: string;
  lines: LogLine[];
}

/** Events the backend pushes. Status events carry the full state, so applying them is idempotent. */
export interface ApiEventMap {
  'workers:statusChanged': WorkerView;
  'gpus:sampled': GpusSampledEvent;
  'metrics:tick': MetricsTick;
  /** Summaries of requests finished since the last one, at most two a second. */
  'requests:recorded': RequestsRecordedEvent;
  'logs:appended': LogsAppendedEvent;
  'topology:applied': TopologyAppliedEvent;
  'bench:progressed': BenchProgressedEvent;
  'planner:progressed': PlannerProgressedEvent;
  /** Ordered changes of the cluster document, one version each; a gap means re-sync with cluster:snapshot. */
  'cluster:changed': ClusterChangedEvent;
}

/** An event name, e.g. 'workers:statusChanged'. */
export type ApiEventName = keyof ApiEventMap;

/** Every event name, the allowlist of preload `on` and the SSE stream. */
export const API_EVENTS: readonly ApiEventName[] = [
  'workers:statusChanged',
  'gpus:sampled',
  'metrics:tick',
  'requests:recorded',
  'logs:appended',
  'topology:applied',
  'bench:progressed',
  'planner:progressed',
  'cluster:changed',
];

/** Prefix of the IPC channel an event travels on, e.g. `event:workers:statusChanged` (bind-ipc sends, preload listens). */
export const EVENT_CHANNEL_PREFIX = 'event:';

/** True when the string names an event of the contract. */
export function isApiEvent(name: string): name is ApiEventName {
  return (API_EVENTS as readonly string[]).includes(name);
}

/** The handlers a backend provides, one per channel (the `api` of createBackend). */
export type ApiHandlers = { [K in ApiChannelName]: ApiInvokeMap[K] };

/** Subscribes to one backend event; returns the unsubscribe function. */
export type OnApiEvent = <E extends ApiEventName>(
  name: E,
  listener: (payload: ApiEventMap[E]) => void,
) => () => void;

/** What a transport needs from a backend: handlers (missing ones answer NOT_SUPPORTED) and events. */
export interface ApiBackend {
  api: Partial<ApiHandlers>;
  onEvent: OnApiEvent;
}
