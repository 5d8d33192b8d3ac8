// Log lines as the console API carries them: workers' (workers:logs, logs:appended) and the console's own
// structured records (console:logs). Layer: shared (pure).

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

/** Levels of the console's own log, lowest first (pino's names for the four the console uses). */
export const CONSOLE_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type ConsoleLogLevel = (typeof CONSOLE_LOG_LEVELS)[number];

/** One structured record of the console's own log (`<dataDir>/logs/console.log`, one JSON line each). */
export interface ConsoleLogRecord {
  /** Epoch ms. */
  time: number;
  level: ConsoleLogLevel;
  /** The part of the console that wrote it: 'backend', 'supervisor', 'proxy-host', 'lifecycle', ... */
  component: string;
  msg: string;
  /** Everything else the record carries (JSON values; secrets already redacted when written). */
  fields: Record<string, unknown>;
}

/** console:logs query: the last `tail` records at `minLevel` or above, optionally containing `search`. */
export interface ConsoleLogQuery {
  minLevel?: ConsoleLogLevel;
  tail?: number;
  /** Case-insensitive substring of the message, the component or a field's value. */
  search?: string;
  component?: string;
}
