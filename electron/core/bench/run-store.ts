// Saved load-test runs: one JSON file per run under a directory (a single result or the steps of a sweep,
// with a name and the topology it ran against), listing, loading, deleting, comparing two runs side by side
// and exporting a run as CSV. The console's `bench:*` channels call these. Layer: core.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { BenchComparisonRow, BenchRunSummary } from '../../../shared/model/bench';
import { writeFileAtomic } from '../fs/atomic-write';
import type { BenchResult } from './bench-types';

/** One step of a saved run: a sweep value, or null for a single run. */
export interface SavedStep {
  step: { kind: 'concurrency' | 'rate'; value: number } | null;
  result: BenchResult;
}

export interface SavedRun {
  id: string;
  name: string;
  createdAtMs: number;
  /** A label of the topology it ran against, e.g. "1 ctx + 2 gen (simulated h100)". */
  topology: string | null;
  steps: SavedStep[];
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,80}$/;

function fileOf(dir: string, id: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`invalid run id '${id}'`);
  return join(dir, `${id}.json`);
}

function newId(nowMs: number): string {
  return `run-${new Date(nowMs).toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

function isSavedRun(v: unknown): v is SavedRun {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<SavedRun>;
  return (
    typeof r.id === 'string' &&
    typeof r.name === 'string' &&
    typeof r.createdAtMs === 'number' &&
    Array.isArray(r.steps)
  );
}

/** A directory of saved runs. */
export class RunStore {
  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Saves a run and returns it with its new id. */
  async save(run: {
    name: string;
    topology?: string | null;
    steps: SavedStep[];
  }): Promise<SavedRun> {
    if (run.steps.length === 0) throw new Error('a saved run needs at least one result');
    await mkdir(this.dir, { recursive: true });
    const createdAtMs = this.now();
    const saved: SavedRun = {
      id: newId(createdAtMs),
      name: run.name,
      createdAtMs,
      topology: run.topology ?? null,
      steps: run.steps,
    };
    await writeFileAtomic(fileOf(this.dir, saved.id), JSON.stringify(saved));
    return saved;
  }

  async load(id: string): Promise<SavedRun> {
    let text: string;
    try {
      text = await readFile(fileOf(this.dir, id), 'utf8');
    } catch (err) {
      throw new Error(`no saved run '${id}': ${(err as Error).message}`);
    }
    const parsed = JSON.parse(text) as unknown;
    if (!isSavedRun(parsed)) throw new Error(`saved run '${id}' is not a run file`);
    return parsed;
  }

  /** Summaries, newest first; unreadable files are skipped. */
  async list(): Promise<BenchRunSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      // No directory yet: nothing saved.
      return [];
    }
    const out: BenchRunSummary[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      if (!ID_PATTERN.test(id)) continue;
      try {
        const run = await this.load(id);
        out.push({
          id: run.id,
          name: run.name,
          createdAtMs: run.createdAtMs,
          topology: run.topology,
          stepCount: run.steps.length,
          bestOutputThroughput: Math.max(...run.steps.map((s) => s.result.output_throughput)),
        });
      } catch {
        // A half-written or foreign file is not a run; listing goes on without it.
        continue;
      }
    }
    return out.sort((a, b) => b.createdAtMs - a.createdAtMs);
  }

  async remove(id: string): Promise<void> {
    await rm(fileOf(this.dir, id), { force: true });
  }
}

/** Metrics shown when two runs are compared; `isLowerBetter` for latencies. */
export const COMPARED_METRICS: ReadonlyArray<{
  key: string;
  label: string;
  isLowerBetter: boolean;
}> = [
  { key: 'request_throughput', label: 'Requests/s', isLowerBetter: false },
  { key: 'request_goodput', label: 'Goodput (req/s)', isLowerBetter: false },
  { key: 'output_throughput', label: 'Output tokens/s', isLowerBetter: false },
  { key: 'mean_ttft_ms', label: 'Mean TTFT (ms)', isLowerBetter: true },
  { key: 'p99_ttft_ms', label: 'P99 TTFT (ms)', isLowerBetter: true },
  { key: 'mean_tpot_ms', label: 'Mean TPOT (ms)', isLowerBetter: true },
  { key: 'p99_tpot_ms', label: 'P99 TPOT (ms)', isLowerBetter: true },
  { key: 'mean_itl_ms', label: 'Mean ITL (ms)', isLowerBetter: true },
  { key: 'p99_itl_ms', label: 'P99 ITL (ms)', isLowerBetter: true },
  { key: 'mean_e2el_ms', label: 'Mean E2EL (ms)', isLowerBetter: true },
  { key: 'p99_e2el_ms', label: 'P99 E2EL (ms)', isLowerBetter: true },
  { key: 'failed', label: 'Failed requests', isLowerBetter: true },
];

function metricOf(r: BenchResult, key: string): number | null {
  const v = (r as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Side-by-side comparison; sweep steps are paired by value, single runs with each other. */
export function compareRuns(a: SavedRun, b: SavedRun): BenchComparisonRow[] {
  const rows: BenchComparisonRow[] = [];
  const pairs: Array<[number | null, BenchResult | undefined, BenchResult | undefined]> = [];
  const values = [...new Set([...a.steps, ...b.steps].map((s) => s.step?.value ?? null))];
  for (const v of values) {
    pairs.push([
      v,
      a.steps.find((s) => (s.step?.value ?? null) === v)?.result,
      b.steps.find((s) => (s.step?.value ?? null) === v)?.result,
    ]);
  }
  for (const [stepValue, ra, rb] of pairs) {
    for (const m of COMPARED_METRICS) {
      const va = ra ? metricOf(ra, m.key) : null;
      const vb = rb ? metricOf(rb, m.key) : null;
      const delta = va !== null && vb !== null ? vb - va : null;
      const deltaPct =
        delta !== null && va !== null && va !== 0 ? (delta / Math.abs(va)) * 100 : null;
      let better: BenchComparisonRow['better'] = null;
      if (delta !== null) better = delta === 0 ? 'same' : delta < 0 === m.isLowerBetter ? 'b' : 'a';
      rows.push({
        stepValue,
        metric: m.key,
        label: m.label,
        a: va,
        b: vb,
        delta,
        deltaPct,
        better,
      });
    }
  }
  return rows;
}

/** A run as CSV: one line per step with the compared metrics. */
export function runToCsv(run: SavedRun): string {
  const header = [
    'step_kind',
    'step_value',
    'completed',
    'duration',
    ...COMPARED_METRICS.map((m) => m.key),
  ];
  const lines = [header.join(',')];
  for (const s of run.steps) {
    const cells = [
      s.step?.kind ?? 'single',
      s.step?.value ?? '',
      s.result.completed,
      s.result.duration,
      ...COMPARED_METRICS.map((m) => metricOf(s.result, m.key) ?? ''),
    ];
    lines.push(cells.map(String).join(','));
  }
  return lines.join('\n') + '\n';
}
