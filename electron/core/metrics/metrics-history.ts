// Metrics history on disk (feature O2): closed 10 s windows of the per-second buckets, with their full
// histograms so percentiles of any coarser step stay exact to the bucket, appended as JSON lines to one file
// per hour under <dataDir>/metrics. Bounded: the oldest files go once more than maxFiles exist (default a
// week). Layer: core.

import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { type BucketAccumulator, emptyAccumulator, mergeAccumulator } from './request-metrics';

/** One stored line: a window of one scope ('overall' or a worker id). */
export interface HistoryLine {
  scope: string;
  acc: BucketAccumulator;
}

/** Options of createMetricsHistory. */
export interface MetricsHistoryOptions {
  dir: string;
  /** Hour files kept; default 168 (7 days). */
  maxFiles?: number;
}

/** Resolution of the history files. */
export const HISTORY_STEP_MS = 10_000;

const HOUR_MS = 3_600_000;
const FILE_RE = /^metrics-(\d+)\.jsonl$/;

/** The history store. */
export interface MetricsHistory {
  /** Appends windows (each acc.atMs a multiple of HISTORY_STEP_MS). */
  append(lines: HistoryLine[]): void;
  /** Buckets of stepMs (>= HISTORY_STEP_MS) covering [fromMs, toMs) for one scope, empty steps included. */
  range(scope: string, fromMs: number, toMs: number, stepMs: number): BucketAccumulator[];
  /** Scopes present in [fromMs, toMs). */
  scopes(fromMs: number, toMs: number): string[];
}

/** Opens (creates) the history folder. */
export function createMetricsHistory(opts: MetricsHistoryOptions): MetricsHistory {
  const maxFiles = opts.maxFiles ?? 168;
  mkdirSync(opts.dir, { recursive: true });
  const fileFor = (atMs: number): string =>
    join(opts.dir, `metrics-${Math.floor(atMs / HOUR_MS) * HOUR_MS}.jsonl`);

  const hourFiles = (): { hourMs: number; path: string }[] =>
    readdirSync(opts.dir)
      .map((name) => ({ m: FILE_RE.exec(name), name }))
      .filter((x): x is { m: RegExpExecArray; name: string } => x.m !== null)
      .map((x) => ({ hourMs: Number(x.m[1]), path: join(opts.dir, x.name) }))
      .sort((a, b) => a.hourMs - b.hourMs);

  const enforceBound = (): void => {
    const files = hourFiles();
    for (const f of files.slice(0, Math.max(0, files.length - maxFiles))) {
      rmSync(f.path, { force: true });
    }
  };

  const read = (fromMs: number, toMs: number): HistoryLine[] => {
    const out: HistoryLine[] = [];
    for (const f of hourFiles()) {
      if (f.hourMs + HOUR_MS <= fromMs || f.hourMs >= toMs || !existsSync(f.path)) continue;
      for (const raw of readFileSync(f.path, 'utf8').split('\n')) {
        if (raw === '') continue;
        try {
          const line = JSON.parse(raw) as HistoryLine;
          if (line.acc.atMs >= fromMs && line.acc.atMs < toMs) out.push(line);
        } catch {
          // A line cut by a crash mid-append: skip it, the rest of the file is intact.
        }
      }
    }
    return out;
  };

  return {
    append(lines) {
      const byFile = new Map<string, string[]>();
      for (const l of lines) {
        const path = fileFor(l.acc.atMs);
        let list = byFile.get(path);
        if (!list) {
          list = [];
          byFile.set(path, list);
        }
        list.push(JSON.stringify(l));
      }
      for (const [path, list] of byFile) appendFileSync(path, list.join('\n') + '\n');
      if (byFile.size > 0) enforceBound();
    },
    range(scope, fromMs, toMs, stepMs) {
      const step = Math.max(
        HISTORY_STEP_MS,
        Math.round(stepMs / HISTORY_STEP_MS) * HISTORY_STEP_MS,
      );
      const start = Math.floor(fromMs / step) * step;
      const out: BucketAccumulator[] = [];
      const index = new Map<number, BucketAccumulator>();
      for (let at = start; at < toMs; at += step) {
        const acc = emptyAccumulator(at);
        out.push(acc);
        index.set(at, acc);
      }
      for (const l of read(start, toMs)) {
        if (l.scope !== scope) continue;
        const target = index.get(Math.floor(l.acc.atMs / step) * step);
        if (target) mergeAccumulator(target, l.acc);
      }
      return out;
    },
    scopes(fromMs, toMs) {
      return [...new Set(read(fromMs, toMs).map((l) => l.scope))].sort();
    },
  };
}
