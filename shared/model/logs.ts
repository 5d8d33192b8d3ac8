// Worker log lines as the console API carries them (workers:logs, logs:appended). Layer: shared (pure).

/** One line a worker printed. */
export interface LogLine {
  /** Increasing per worker; lets a client merge a snapshot with live appends. */
  seq: number;
  atMs: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** workers:logs query: the last `tail` lines, optionally only those containing `search`. */
export interface LogQuery {
  tail?: number;
  search?: string;
  /** Case-sensitive search; default false. */
  isCaseSensitive?: boolean;
}
