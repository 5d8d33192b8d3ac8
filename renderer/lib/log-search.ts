// Log panel helpers: which lines match a search, and where a crash happened. Layer: renderer (pure).

import type { LogLine } from '../../shared/model/logs';
import type { WorkerExit } from '../../shared/model/worker';

/** Indices of lines containing `query` (case-insensitive); empty for an empty query. */
export function matchingLines(lines: readonly LogLine[], query: string): number[] {
  const q = query.trim().toLowerCase();
  if (q === '') return [];
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (l.text.toLowerCase().includes(q)) out.push(i);
  });
  return out;
}

/** The next (or previous) match index after `current`, wrapping around; -1 when there is none. */
export function stepMatch(matchCount: number, current: number, direction: 1 | -1): number {
  if (matchCount === 0) return -1;
  if (current < 0) return direction === 1 ? 0 : matchCount - 1;
  return (current + direction + matchCount) % matchCount;
}

/** The index of the last line printed at or before the exit: where the crash shows in the log. */
export function crashLineIndex(lines: readonly LogLine[], exit: WorkerExit | null): number {
  if (!exit) return -1;
  for (let i = lines.length - 1; i >= 0; i -= 1) if (lines[i]!.atMs <= exit.atMs) return i;
  return -1;
}

/** One sentence for an exit: `exit code 1`, `signal SIGKILL`, or the console's reason. */
export function describeExit(exit: WorkerExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
  return exit.reason ? `${exit.reason} (${how})` : how;
}
