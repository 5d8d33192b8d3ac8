// The console's own log, the one home for it: pino writes each record once as a JSON line to
// <dataDir>/logs/console.log (size-capped, rotated; capped-log-file.ts) and, for people, as one line of text
// on stderr. Records carry level, time (epoch ms), component, msg and the caller's fields, with secrets
// redacted (redact.ts). The console API's console:logs reads the records back from the files, filtered by
// level. Worker logs are elsewhere (supervisor/log-store.ts, <dataDir>/logs/<workerId>.log). Layer: core.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import pino from 'pino';

import {
  CONSOLE_LOG_LEVELS,
  type ConsoleLogLevel,
  type ConsoleLogQuery,
  type ConsoleLogRecord,
} from '../../../shared/model/logs';
import { CappedLogFile } from './capped-log-file';
import { redactFields, scrubText } from './redact';

/** Logs one record: level, message, and optional structured fields (JSON values; `err` for an error). */
export type StructuredLog = (
  level: ConsoleLogLevel,
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** The file name of the console's log inside the logs folder. */
export const CONSOLE_LOG_FILE = 'console.log';

const DEFAULT_TAIL = 500;

export interface ConsoleLoggerOptions {
  /** The logs folder (`<dataDir>/logs`); created when missing. */
  dir: string;
  /** Records below this level are dropped (default 'info'). */
  level?: ConsoleLogLevel;
  /** Where each record also goes for people; default: one text line on stderr; null: nowhere. */
  echo?: ((record: ConsoleLogRecord) => void) | null;
  maxFileBytes?: number;
  maxRotatedFiles?: number;
}

export interface ConsoleLogger {
  /** Records with component 'console'. */
  log: StructuredLog;
  /** A log whose records carry `component` (e.g. 'supervisor', 'proxy-host', 'lifecycle'). */
  forComponent(component: string): StructuredLog;
  /** The last records matching the query, oldest first, read back from the files. */
  query(query?: ConsoleLogQuery): ConsoleLogRecord[];
  readonly filePath: string;
  close(): void;
}

const LEVEL_RANK: Record<ConsoleLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const isLevel = (v: unknown): v is ConsoleLogLevel =>
  typeof v === 'string' && (CONSOLE_LOG_LEVELS as readonly string[]).includes(v);

/** Creates the logger; its file is opened on the first record. */
export function createConsoleLogger(options: ConsoleLoggerOptions): ConsoleLogger {
  mkdirSync(options.dir, { recursive: true });
  const file = new CappedLogFile({
    path: join(options.dir, CONSOLE_LOG_FILE),
    maxFileBytes: options.maxFileBytes,
    maxRotatedFiles: options.maxRotatedFiles,
  });
  const level = options.level ?? 'info';
  const echo =
    options.echo === undefined
      ? (r: ConsoleLogRecord) => void process.stderr.write(formatHumanLine(r) + '\n')
      : options.echo;
  const streams: pino.StreamEntry[] = [{ level, stream: file }];
  if (echo !== null) {
    const human = { write: (line: string) => echo(toRecord(JSON.parse(line))) };
    streams.push({ level, stream: human });
  }
  const root = pino(
    {
      level,
      base: null,
      // redactFields already turns an Error into { type, message, stack }; pino's err serializer would
      // run after it and rename the type to 'Object'.
      serializers: { err: (e: unknown) => e },
      timestamp: pino.stdTimeFunctions.epochTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactFields(fields) as Record<string, unknown>,
      },
    },
    pino.multistream(streams),
  );
  const logTo =
    (target: pino.Logger): StructuredLog =>
    (lv, message, fields) =>
      target[lv](fields ?? {}, scrubText(message));
  return {
    log: logTo(root.child({ component: 'console' })),
    forComponent: (component) => logTo(root.child({ component })),
    query: (q) => queryRecords(file, q ?? {}),
    filePath: file.path,
    close: () => file.close(),
  };
}

/** A parsed JSON line as a record; level, time and msg are checked, the rest become fields. */
function toRecord(parsed: unknown): ConsoleLogRecord {
  const { level, time, component, msg, ...fields } = parsed as Record<string, unknown>;
  return {
    time: typeof time === 'number' ? time : 0,
    level: isLevel(level) ? level : 'error',
    component: typeof component === 'string' ? component : 'console',
    msg: typeof msg === 'string' ? msg : '',
    fields,
  };
}

function parseLine(line: string): ConsoleLogRecord | null {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object') return null;
    const { level, time } = parsed as Record<string, unknown>;
    return isLevel(level) && typeof time === 'number' ? toRecord(parsed) : null;
  } catch {
    return null; // a line torn by a crash, or not ours: skipped
  }
}

function queryRecords(file: CappedLogFile, q: ConsoleLogQuery): ConsoleLogRecord[] {
  const minRank = LEVEL_RANK[q.minLevel ?? 'debug'];
  const tail = q.tail ?? DEFAULT_TAIL;
  const needle = q.search?.toLowerCase() ?? '';
  const found: ConsoleLogRecord[] = [];
  for (const line of file.linesNewestFirst()) {
    if (found.length >= tail) break;
    const r = parseLine(line);
    if (r === null || LEVEL_RANK[r.level] < minRank) continue;
    if (q.component !== undefined && r.component !== q.component) continue;
    if (needle !== '' && !searchText(r).includes(needle)) continue;
    found.push(r);
  }
  return found.reverse();
}

function searchText(r: ConsoleLogRecord): string {
  return `${r.msg}\n${r.component}\n${JSON.stringify(r.fields)}`.toLowerCase();
}

/** One line for a terminal: `16:50:01.123Z INFO  supervisor: gen0 is ready port=8002`. */
export function formatHumanLine(r: ConsoleLogRecord): string {
  const clock = new Date(r.time).toISOString().slice(11, 23);
  const extras = Object.entries(r.fields).map(([k, v]) => `${k}=${humanValue(v)}`);
  return [`${clock}Z`, r.level.toUpperCase().padEnd(5), `${r.component}:`, r.msg, ...extras].join(
    ' ',
  );
}

function humanValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object' && 'message' in v) {
    return JSON.stringify(v.message);
  }
  return JSON.stringify(v) ?? String(v);
}
