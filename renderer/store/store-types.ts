// The shape of the renderer's state: one zustand store made of slices (workers, gpus, config, metrics,
// playground, ui) and what every slice creator receives. Layer: renderer (no DOM: unit-tested under Node).

import type { StoreApi } from 'zustand/vanilla';

import type { ApiClient } from '../../shared/api/client';
import type { ConfigIssue } from '../../shared/logic/config-issues';
import type { TimeSeries } from '../../shared/logic/series';
import type { ClusterStatus } from '../../shared/model/cluster';
import type { GpuInventorySnapshot, GpuSample } from '../../shared/model/gpu';
import type { ConsoleLogQuery, ConsoleLogRecord, LogLine } from '../../shared/model/logs';
import type { MetricsBucket, WorkerIterationSample } from '../../shared/model/metrics';
import type { RequestDetail } from '../../shared/model/requests';
import type {
  ConsoleSettings,
  ConsoleSettingsPatch,
  ExecutableConfirmationDetails,
} from '../../shared/model/settings';
import type {
  ApplyPlan,
  ApplyResult,
  ExportedFile,
  ExportFormat,
  FileDiff,
  TopologyFiles,
  TopologyVersionInfo,
  ValidationReport,
} from '../../shared/model/topology';
import type { WorkerEngine } from '../../shared/model/worker';
import type { ProxyInfo, WorkerAddRequest } from '../../shared/model/worker-view';
import type {
  PlaygroundMode,
  PlaygroundRequest,
  ResponseMetrics,
  RoutePin,
  SamplingParams,
  StreamFetch,
} from '../lib/openai-request';
import type { PresetName } from '../lib/worker-templates';
import type { BenchSlice } from './bench-slice';
import type { ClusterSlice, CommandOutcome } from './cluster-slice';
import type { ProxyCostSlice } from './proxy-cost-slice';
import type { RequestsSlice } from './requests-slice';

export type ViewName = 'cluster' | 'config' | 'dashboard' | 'playground' | 'bench';
export type ThemeChoice = 'system' | 'dark' | 'light';

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
}

export interface UiSlice {
  view: ViewName;
  theme: ThemeChoice;
  toasts: Toast[];
  /** The worker whose logs panel is open. */
  logsWorkerId: string | null;
  /** Whether the console's own log panel is open. */
  isConsoleLogOpen: boolean;
  /** GPUs the Add worker panel is open for, null when closed. */
  addPanelGpus: number[] | null;
  /**
   * 'ok' once the first snapshot loaded; 'lost' when a connected backend stopped answering (live numbers are
   * stale until it is back and re-synced); 'error' with a reason when it could not be reached at start.
   */
  connection: 'connecting' | 'ok' | 'lost' | 'error';
  connectionError: string | null;
  setView: (view: ViewName) => void;
  setTheme: (theme: ThemeChoice) => void;
  notify: (kind: Toast['kind'], text: string) => void;
  dismissToast: (id: number) => void;
  openLogs: (workerId: string | null) => void;
  openConsoleLog: (isOpen: boolean) => void;
  openAddPanel: (gpus: number[] | null) => void;
}

export interface WorkersSlice {
  /** Commands this window has in flight per worker ('restarting', 'removing' ...), to disable its buttons. */
  workerBusy: Record<string, string>;
  clusterStatus: ClusterStatus | null;
  logs: Record<string, LogLine[]>;
  /** The console's own log records of the last console:logs query; null before the first. */
  consoleLog: ConsoleLogRecord[] | null;
  loadClusterStatus: () => Promise<void>;
  /** Pre-flight of an add request against the mirror's topology; null when it cannot run (message in a toast). */
  preflightWorker: (request: WorkerAddRequest) => Promise<ValidationReport | null>;
  /** Sends addWorker built on `expectedVersion` (default: the mirror's); the outcome says what happened. */
  addWorker: (request: WorkerAddRequest, expectedVersion?: number) => Promise<CommandOutcome>;
  restartWorker: (id: string) => Promise<void>;
  stopWorker: (id: string) => Promise<void>;
  removeWorker: (id: string) => Promise<boolean>;
  runPreset: (preset: PresetName, model: string, engine: WorkerEngine) => Promise<void>;
  loadLogs: (id: string) => Promise<void>;
  appendLogs: (workerId: string, lines: LogLine[]) => void;
  loadConsoleLog: (query: ConsoleLogQuery) => Promise<void>;
}

export interface GpusSlice {
  inventory: GpuInventorySnapshot | null;
  gpusError: string | null;
  selectedGpus: number[];
  loadGpus: () => Promise<void>;
  applyGpuSamples: (samples: GpuSample[], atMs: number) => void;
  /** Click selects one GPU; additive (shift/ctrl) toggles it in a multi-GPU (TP) selection. */
  selectGpu: (index: number, isAdditive: boolean) => void;
  clearGpuSelection: () => void;
}

export interface ConfigSlice {
  /** Edits typed here and not yet saved as the backend's draft (saved after a short pause); null when none. */
  draftEdits: TopologyFiles | null;
  /** The mirror version at which the last save lands; the edits are dropped once the mirror reaches it. */
  draftEditsSavedAt: number | null;
  activeFile: string | null;
  validation: ValidationReport | null;
  isValidating: boolean;
  /** The preview shown before confirming Apply. */
  pendingPlan: ApplyPlan | null;
  isApplying: boolean;
  lastApply: ApplyResult | null;
  applyError: { message: string; issues: ConfigIssue[] } | null;
  /** Why the last import was refused (the draft is kept as it was). */
  importError: { message: string; issues: ConfigIssue[] } | null;
  history: TopologyVersionInfo[];
  diff: { from: number; to: number; files: FileDiff[] } | null;
  setActiveFile: (name: string) => void;
  /** Changes one file of the draft here and saves the draft to the backend after a short pause. */
  setDraft: (name: string, text: string) => void;
  /** Saves unsaved edits as the backend's draft now; false when the backend refused them. */
  flushDraft: () => Promise<boolean>;
  /** Drops local edits that the mirror's draft now holds (called on every mirror change). */
  settleDraftEdits: () => void;
  revertDrafts: () => Promise<void>;
  validateDrafts: () => Promise<void>;
  requestApply: () => Promise<void>;
  cancelApply: () => void;
  confirmApply: () => Promise<boolean>;
  loadHistory: () => Promise<void>;
  loadDiff: (from: number, to: number) => Promise<void>;
  rollback: (version: number) => Promise<void>;
  importFiles: (files: TopologyFiles) => Promise<void>;
  exportTopology: (format: ExportFormat) => Promise<ExportedFile[]>;
}

/** Mutable bounded series, kept outside the immutable state; `metricsVersion` changes when they change. */
export interface MetricsSeries {
  overall: TimeSeries<MetricsBucket>;
  perWorker: Map<string, TimeSeries<MetricsBucket>>;
  iteration: Map<string, TimeSeries<WorkerIterationSample>>;
  gpus: Map<number, TimeSeries<GpuSample>>;
}

export type MetricsWindowMin = 5 | 15 | 60;

export interface SloTargets {
  ttftMs: number;
  tpotMs: number;
}

export interface MetricsSlice {
  series: MetricsSeries;
  metricsVersion: number;
  /** Changes when history is (re)loaded, so charts derive at once instead of at their next refresh. */
  metricsHistoryVersion: number;
  metricsWindowMin: MetricsWindowMin;
  metricsError: string | null;
  slo: SloTargets;
  setMetricsWindow: (min: MetricsWindowMin) => Promise<void>;
  setSlo: (slo: Partial<SloTargets>) => void;
  loadMetricsHistory: () => Promise<void>;
  applyTick: (overall: MetricsBucket, perWorker: Record<string, MetricsBucket>) => void;
  /** Fetches the latest iteration stats (queue depth, KV usage) that ticks do not carry. */
  refreshIteration: () => Promise<void>;
  exportCsv: () => Promise<string | null>;
}

/** The proxy's record of a playground request, fetched after the answer by its x-disagg-request-id. */
export interface ServerTimeline {
  status: 'loading' | 'ok' | 'absent' | 'error';
  detail: RequestDetail | null;
  message: string | null;
}

export interface PlaygroundRun {
  request: PlaygroundRequest;
  text: string;
  metrics: ResponseMetrics | null;
  status: 'streaming' | 'done' | 'stopped' | 'error';
  error: string | null;
  /** The base URL the request went to (the console's proxy, or column B's own target). */
  targetUrl: string;
  /** True when targetUrl is the console's proxy: only then does `requests:get` know the request. */
  isConsoleProxy: boolean;
  /** The proxy's own timeline of this request (requests:get), null when not asked for. */
  server: ServerTimeline | null;
}

export interface PlaygroundSlice {
  proxy: ProxyInfo | null;
  proxyError: string | null;
  pgMode: PlaygroundMode;
  pgModel: string;
  pgSystemPrompt: string;
  pgPrompt: string;
  pgParams: SamplingParams;
  pgCompare: boolean;
  pgRoutes: [RoutePin, RoutePin];
  pgRuns: [PlaygroundRun | null, PlaygroundRun | null];
  /** Column B's base URL in side-by-side mode ('' = the console's proxy with route B). */
  pgTargetB: string;
  loadProxy: () => Promise<void>;
  setPlayground: (
    patch: Partial<
      Pick<
        PlaygroundSlice,
        'pgMode' | 'pgModel' | 'pgSystemPrompt' | 'pgPrompt' | 'pgCompare' | 'pgTargetB'
      >
    >,
  ) => void;
  setParams: (patch: Partial<SamplingParams>) => void;
  setRoute: (side: 0 | 1, route: RoutePin) => void;
  sendPrompt: () => Promise<void>;
  stopPrompt: () => void;
}

export interface SettingsSlice {
  settings: ConsoleSettings | null;
  settingsError: string | null;
  /** The executable the last save named and the backend wants confirmed before it runs it; null otherwise. */
  settingsConfirmation: ExecutableConfirmationDetails | null;
  isSettingsOpen: boolean;
  openSettings: (isOpen: boolean) => void;
  loadSettings: () => Promise<void>;
  /** Saves a patch; resolves false (with the message in settingsError) when the backend refused it. */
  saveSettings: (patch: ConsoleSettingsPatch) => Promise<boolean>;
}

export type AppState = UiSlice &
  ClusterSlice &
  WorkersSlice &
  GpusSlice &
  ConfigSlice &
  MetricsSlice &
  PlaygroundSlice &
  RequestsSlice &
  SettingsSlice &
  BenchSlice &
  ProxyCostSlice;

export type SetState = StoreApi<AppState>['setState'];
export type GetState = StoreApi<AppState>['getState'];

/** What the factory hands every slice. */
export interface StoreDeps {
  api: ApiClient;
  now: () => number;
  /** fetch for the playground's streaming requests; null where there is none (then sending says so). */
  fetch: StreamFetch | null;
}

export type SliceCreator<T> = (set: SetState, get: GetState, deps: StoreDeps) => T;
