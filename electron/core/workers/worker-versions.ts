// Each worker's TensorRT-LLM release (docs/upstream-versions.md section 8): the user's setting when it names
// one, else the worker's `GET /version`, else, for a local `trtllm-serve` worker, the binary's `--version`.
// Detection runs once per worker url (again after a failure, at most every retryMs) and never blocks the
// caller; a result is announced through onDidChange so the worker row and the proxy's dialect follow it.
// Layer: core.

import { execFile } from 'node:child_process';

import {
  dialectForVersionString,
  dialectOf,
  type TrtllmVersion,
} from '../../../shared/logic/trtllm-dialect';
import type { WorkerVersionInfo } from '../../../shared/model/worker-view';
import { fetchWorkerDialect } from '../metrics/worker-metrics-poller';

/** A worker whose release is wanted. */
export interface VersionTarget {
  /** `http://host:port`, normalized. */
  url: string;
  /** The `trtllm-serve` executable it was started with; absent for simulated and remote workers. */
  binary?: string;
}

/** Runs `<binary> --version` and resolves with what it printed; rejects when it fails. */
export type VersionCommand = (binary: string) => Promise<string>;

/** Options of createWorkerVersions. */
export interface WorkerVersionsOptions {
  /** The user's setting: a release forces that dialect for every worker; 'auto' detects. */
  setting: () => TrtllmVersion | 'auto';
  fetchImpl?: typeof fetch;
  runVersionCommand?: VersionCommand;
  /** A failed detection is tried again after this long (default 30 s). */
  retryMs?: number;
  now?: () => number;
}

/** The release of each worker the console knows. */
export interface WorkerVersions {
  /** The worker's release: the setting when it names one, else the detected one; undefined while unknown. */
  of(url: string): WorkerVersionInfo | undefined;
  /** Starts detection for targets not known yet and forgets urls that are not among them. */
  track(targets: readonly VersionTarget[]): void;
  /** Calls listener with a worker's url when its release becomes known or changes; returns its remover. */
  onDidChange(listener: (url: string) => void): () => void;
  /** Resolves when every detection under way has ended (tests, shutdown). */
  settled(): Promise<void>;
}

/** `trtllm-serve --version` under a bound: importing TensorRT-LLM takes seconds on a real machine. */
export const runVersionCommandWithTimeout =
  (timeoutMs = 120_000): VersionCommand =>
  (binary) =>
    new Promise((resolve, reject) => {
      execFile(binary, ['--version'], { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
        if (err) reject(new Error(`${binary} --version: ${err.message}`));
        else resolve(stdout);
      });
    });

/**
 * The release in a `--version` print-out: the last line naming one (TensorRT-LLM may log a banner with
 * other numbers first).
 */
export function versionFromCommandOutput(text: string): string | undefined {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /\bversion\b/i.test(l) && /\d+\.\d+/.test(l));
  const last = lines[lines.length - 1];
  return last
    ? /\d+\.\d+[0-9A-Za-z.+-]*/.exec(last.replace(/^.*\bversion\b\W*/i, ''))?.[0]
    : undefined;
}

/** Creates the service; nothing runs before track(). */
export function createWorkerVersions(opts: WorkerVersionsOptions): WorkerVersions {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const runCommand = opts.runVersionCommand ?? runVersionCommandWithTimeout();
  const retryMs = opts.retryMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const detected = new Map<string, WorkerVersionInfo>();
  const failedAt = new Map<string, number>();
  const running = new Map<string, Promise<void>>();
  const listeners = new Set<(url: string) => void>();

  const detectOne = async (t: VersionTarget): Promise<WorkerVersionInfo | undefined> => {
    const fromEndpoint = await fetchWorkerDialect(t.url, fetchImpl);
    if (fromEndpoint) {
      return { version: fromEndpoint.version, reported: fromEndpoint.reported, source: 'endpoint' };
    }
    if (!t.binary) return undefined;
    const reported = versionFromCommandOutput(await runCommand(t.binary).catch(() => ''));
    const dialect = reported === undefined ? undefined : dialectForVersionString(reported);
    return dialect && reported !== undefined
      ? { version: dialect.version, reported, source: 'binary' }
      : undefined;
  };

  const start = (t: VersionTarget): void => {
    const run: Promise<void> = detectOne(t)
      .then((info) => {
        if (running.get(t.url) !== run) return; // forgotten (or tracked anew) while it ran
        if (!info) {
          failedAt.set(t.url, now());
          return;
        }
        failedAt.delete(t.url);
        const before = detected.get(t.url);
        detected.set(t.url, info);
        if (before?.version !== info.version || before.reported !== info.reported) {
          for (const l of [...listeners]) l(t.url);
        }
      })
      .finally(() => {
        if (running.get(t.url) === run) running.delete(t.url);
      });
    running.set(t.url, run);
  };

  return {
    of(url) {
      const forced = opts.setting();
      return forced === 'auto'
        ? detected.get(url)
        : { version: dialectOf(forced).version, reported: null, source: 'setting' };
    },
    track(targets) {
      const wanted = new Set(targets.map((t) => t.url));
      for (const url of [...detected.keys(), ...failedAt.keys(), ...running.keys()]) {
        if (wanted.has(url)) continue;
        detected.delete(url);
        failedAt.delete(url);
        running.delete(url);
      }
      if (opts.setting() !== 'auto') return;
      for (const t of targets) {
        if (detected.has(t.url) || running.has(t.url)) continue;
        const failed = failedAt.get(t.url);
        if (failed !== undefined && now() - failed < retryMs) continue;
        start(t);
      }
    },
    onDidChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
  };
}
