// The topology over its store: get, validate (pre-flight), apply (the same pre-flight, then a plan the
// TopologyApplier port runs; a failed apply keeps the previous topology and says why), history, diff,
// rollback, import, export. Applies are serialised; the cluster commands (state/cluster-commands.ts) call
// apply, rollback and import. Layer: core.

import type { ApiHandlers, TopologyAppliedEvent } from '../../../shared/api/contract';
import { AppError, type JsonValue } from '../../../shared/api/envelope';
import { type ConfigIssue, formatIssue } from '../../../shared/logic/config-issues';
import { CONSOLE_FILE, parseConsoleFile } from '../../../shared/logic/console-file';
import { type LoadedTopology, loadTopology } from '../../../shared/logic/load-topology';
import { type PortProbe, preflightTopology } from '../../../shared/logic/preflight';
import type {
  ApplyPlan,
  ApplyResult,
  ConsoleTopology,
  ExportedFile,
  ExportOptions,
  FileDiff,
  ImportResult,
  TopologyFiles,
  TopologyVersionInfo,
  TopologyView,
  ValidationReport,
} from '../../../shared/model/topology';
import type { WorkerSpec } from '../../../shared/model/worker';
import { planApply } from './apply-plan';
import { exportTopology } from './export';
import { importTopologyFiles } from './import';
import { isPortFree } from './port-probe';
import { diffTopologyFiles } from './topology-diff';
import type { TopologyStore } from './topology-store';
import { toWorkerSpecs } from './worker-specs';

/** What the applier gets: the plan and everything needed to run it. */
export interface ApplyRequest {
  plan: ApplyPlan;
  next: LoadedTopology;
  /** The next topology's workers, with file paths inside the new version's folder. */
  specs: WorkerSpec[];
  previous: LoadedTopology | null;
  /** The new version's folder (what workers and the proxy read). */
  dir: string;
  version: number;
}

/**
 * Port: runs an apply plan against the supervisor and the proxy (start what is new, restart what changed,
 * stop what is gone, reload the proxy). On failure it must leave the previous topology running (undoing its
 * own steps) and throw, an AppError where the cause has a code (PORT_IN_USE, WORKER_START_FAILED ...).
 */
export interface TopologyApplier {
  apply(request: ApplyRequest): Promise<void>;
}

/** Options of TopologyService. */
export interface TopologyServiceOptions {
  store: TopologyStore;
  applier: TopologyApplier;
  /** Default: bind-test on the host (port-probe.ts). */
  isPortFree?: PortProbe;
  /** Ports the console holds besides the applied topology's (e.g. the console API server). */
  extraOwnedPorts?: () => Iterable<number>;
  emit?: (event: TopologyAppliedEvent) => void;
  now?: () => number;
  /** The trtllm-serve path setting, for the specs. */
  binaryPath?: () => string | null;
}

function jsonIssues(issues: ConfigIssue[]): JsonValue {
  return issues.map((i) => {
    const o: { [key: string]: JsonValue } = {
      file: i.file,
      line: i.line,
      column: i.column,
      path: i.path,
      message: i.message,
      severity: i.severity,
    };
    if (i.hint !== undefined) o.hint = i.hint;
    return o;
  });
}

function ownedPortsOf(t: LoadedTopology | null): number[] {
  return t ? [t.disagg.port, ...t.console.workers.map((w) => w.port)] : [];
}

/** The topology part of the console backend. */
export class TopologyService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly probe: PortProbe;
  private readonly now: () => number;

  constructor(private readonly opts: TopologyServiceOptions) {
    this.probe = opts.isPortFree ?? isPortFree;
    this.now = opts.now ?? Date.now;
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async currentLoaded(): Promise<LoadedTopology | null> {
    const files = await this.opts.store.readCurrent();
    return Object.keys(files).length === 0 ? null : loadTopology(files).topology;
  }

  /** The current files and console.yaml parsed (an empty topology before the first apply); CONFIG_INVALID when it does not parse. */
  async current(
    defaultMode: ConsoleTopology['clusterMode'],
  ): Promise<{ files: TopologyFiles; console: ConsoleTopology }> {
    const files = await this.opts.store.readCurrent();
    const text = files[CONSOLE_FILE];
    if (text === undefined) {
      return {
        files: {},
        console: { clusterMode: defaultMode, expectedMaxInputTokens: null, workers: [] },
      };
    }
    const parsed = parseConsoleFile(text);
    if (!parsed.ok) {
      throw new AppError(
        'CONFIG_INVALID',
        'console.yaml of the current topology does not parse; fix it in the topology editor first',
      );
    }
    return { files, console: parsed.value };
  }

  /** console.yaml of an applied version; null when that version is gone or its console.yaml does not parse. */
  async consoleAt(version: number): Promise<ConsoleTopology | null> {
    const files = await this.opts.store.readVersion(version).catch(() => null);
    const text = files?.[CONSOLE_FILE];
    const parsed = text === undefined ? null : parseConsoleFile(text);
    return parsed?.ok ? parsed.value : null;
  }

  /** The current files, console.yaml parsed, and the version last applied. */
  async get(): Promise<TopologyView> {
    const files = await this.opts.store.readCurrent();
    const consoleText = files[CONSOLE_FILE];
    const parsed = consoleText === undefined ? null : parseConsoleFile(consoleText);
    return {
      name: this.opts.store.name,
      files,
      console: parsed?.ok ? parsed.value : null,
      appliedVersion: await this.opts.store.latestVersion(),
    };
  }

  private async preflight(files: TopologyFiles): Promise<{
    topology: LoadedTopology | null;
    issues: ConfigIssue[];
    previous: LoadedTopology | null;
  }> {
    const previous = await this.currentLoaded();
    const owned = new Set([...ownedPortsOf(previous), ...(this.opts.extraOwnedPorts?.() ?? [])]);
    const r = await preflightTopology(files, { isPortFree: this.probe, ownedPorts: owned });
    return { ...r, previous };
  }

  /** Pre-flight only: every problem across the files. */
  async validate(files: TopologyFiles): Promise<ValidationReport> {
    const { issues } = await this.preflight(files);
    return { ok: !issues.some((i) => i.severity === 'error'), issues };
  }

  /** Pre-flight, plan, run the plan, keep the version; the previous topology stays when anything fails. */
  apply(files: TopologyFiles, note = 'apply'): Promise<ApplyResult> {
    return this.serialised(async () => {
      const { topology, issues, previous } = await this.preflight(files);
      const errors = issues.filter((i) => i.severity === 'error');
      if (!topology || errors.length > 0) {
        const shown = errors.slice(0, 5).map(formatIssue).join('\n');
        const more = errors.length > 5 ? `\n(and ${errors.length - 5} more)` : '';
        throw new AppError(
          'CONFIG_INVALID',
          `the topology has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was changed:\n${shown}${more}`,
          { issues: jsonIssues(issues) },
        );
      }
      const plan = planApply(previous ? { files: previous.files } : null, { files });
      const { store } = this.opts;
      const version = await store.addVersion(files, note);
      const dir = store.versionDir(version);
      const specs = toWorkerSpecs(topology, { dir, binaryPath: this.opts.binaryPath?.() ?? null });
      try {
        await this.opts.applier.apply({ plan, next: topology, specs, previous, dir, version });
      } catch (err) {
        await store.removeVersion(version);
        const why = err instanceof Error ? err.message : String(err);
        const code = err instanceof AppError ? err.code : 'APPLY_FAILED';
        throw new AppError(code, `apply failed, the previous topology keeps running: ${why}`, {
          plan: { ...plan } as unknown as JsonValue,
        });
      }
      await store.writeCurrent(files);
      this.opts.emit?.({ version, plan, atMs: this.now() });
      return { version, plan, warnings: issues.filter((i) => i.severity === 'warning') };
    });
  }

  /** Every applied version, newest first. */
  history(): Promise<TopologyVersionInfo[]> {
    return this.opts.store.listVersions();
  }

  /** Per-file diff from version `from` to version `to`. */
  async diff(from: number, to: number): Promise<FileDiff[]> {
    const [a, b] = await Promise.all([
      this.opts.store.readVersion(from),
      this.opts.store.readVersion(to),
    ]);
    return diffTopologyFiles(a, b, { from: `v${from}`, to: `v${to}` });
  }

  /** Applies an earlier version again, as a new version. */
  async rollback(version: number): Promise<ApplyResult> {
    const files = await this.opts.store.readVersion(version);
    return this.apply(files, `rollback to ${version}`);
  }

  /** Converts upstream files into a draft (nothing is written). */
  import(files: TopologyFiles): Promise<ImportResult> {
    return Promise.resolve(importTopologyFiles(files));
  }

  /** The applied topology as files or scripts. */
  async export(options: ExportOptions): Promise<ExportedFile[]> {
    const files = await this.opts.store.readCurrent();
    if (Object.keys(files).length === 0) {
      throw new AppError('NOT_FOUND', 'there is no topology to export yet');
    }
    const loaded = loadTopology(files);
    if (!loaded.topology) {
      throw new AppError('CONFIG_INVALID', 'the current topology does not parse', {
        issues: jsonIssues(loaded.issues),
      });
    }
    return exportTopology(loaded.topology, options);
  }

  /** The read-only topology:* handlers (apply, rollback and import are cluster commands). */
  handlers(): Pick<
    ApiHandlers,
    'topology:get' | 'topology:validate' | 'topology:history' | 'topology:diff' | 'topology:export'
  > {
    return {
      'topology:get': () => this.get(),
      'topology:validate': (files) => this.validate(files),
      'topology:history': () => this.history(),
      'topology:diff': (from, to) => this.diff(from, to),
      'topology:export': (options) => this.export(options),
    };
  }
}
