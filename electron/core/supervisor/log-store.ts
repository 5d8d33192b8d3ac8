// Worker logs: a ring buffer per worker for the UI, rotating files under <dataDir>/logs for keeps, and
// search over both. Layer: core.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

import type { LogLine, LogQuery } from '../../../shared/model/logs';

export type LogStream = LogLine['stream'];

/** Lines the console itself writes into a worker's log (command line, signals, exits) start with this. */
export const CONSOLE_LINE_PREFIX = '[disagg-console] ';

export interface LogSearch {
  /** Plain substring (case-insensitive unless caseSensitive). */
  text?: string;
  /** A regular expression source; takes precedence over text. */
  regex?: string;
  caseSensitive?: boolean;
  stream?: LogStream;
  /** Most recent matches kept; default 500. */
  limit?: number;
}

export interface LogFileMatch {
  file: string;
  lineNo: number;
  text: string;
}

export interface LogStoreOptions {
  /** Folder of the log files; null keeps logs in memory only. */
  dir: string | null;
  /** Lines kept in memory per worker. */
  ringSize?: number;
  /** A log file is rotated when it would grow past this. */
  maxFileBytes?: number;
  /** Rotated files kept (<id>.log.1 ... .N). */
  maxFiles?: number;
  /** How long lines wait in memory before they are appended to the file. */
  flushDelayMs?: number;
  now?: () => number;
}

export interface LogStore {
  append(workerId: string, stream: LogStream, text: string): LogLine;
  /** Lines in the ring buffer, oldest first, optionally only those after sinceSeq. */
  lines(workerId: string, sinceSeq?: number): LogLine[];
  /** The last n lines, optionally of one stream only. */
  tail(workerId: string, n: number, stream?: LogStream): string[];
  search(workerId: string, query: LogSearch): LogLine[];
  /** The console API's workers:logs query: the last `tail` lines (default 500) containing `search`. */
  query(workerId: string, query?: LogQuery): LogLine[];
  /** Searches the log files (current and rotated), oldest first. */
  searchFiles(workerId: string, query: LogSearch): LogFileMatch[];
  filePath(workerId: string): string | null;
  onLine(cb: (workerId: string, line: LogLine) => void): () => void;
  flush(): void;
  /** Forgets a worker's buffer (its files stay). */
  drop(workerId: string): void;
  close(): void;
}

interface WorkerLog {
  ring: LogLine[];
  nextSeq: number;
  pending: string[];
  fileBytes: number | null;
}

const safeName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_');

function matcher(q: LogSearch): (text: string) => boolean {
  if (q.regex !== undefined) {
    const re = new RegExp(q.regex, q.caseSensitive ? '' : 'i');
    return (t) => re.test(t);
  }
  if (q.text === undefined || q.text === '') return () => true;
  const needle = q.caseSensitive ? q.text : q.text.toLowerCase();
  return (t) => (q.caseSensitive ? t : t.toLowerCase()).includes(needle);
}

/** `x.log` becomes `x.log.1`, `x.log.1` becomes `x.log.2`, ...; the oldest beyond `maxFiles` goes. */
function rotateLogFile(path: string, maxFiles: number): void {
  for (let i = maxFiles - 1; i >= 1; i--) {
    if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  }
  if (existsSync(`${path}.${maxFiles + 1}`)) rmSync(`${path}.${maxFiles + 1}`);
  if (maxFiles >= 1) renameSync(path, `${path}.1`);
  else rmSync(path);
}

/** The lines of a log and its rotated files, oldest file first. */
function readRotatedLines(path: string, maxFiles: number): { file: string; lines: string[] }[] {
  const files: string[] = [];
  for (let i = maxFiles; i >= 1; i--) if (existsSync(`${path}.${i}`)) files.push(`${path}.${i}`);
  if (existsSync(path)) files.push(path);
  return files.map((file) => ({
    file,
    lines: readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  }));
}

export function createLogStore(opts: LogStoreOptions): LogStore {
  const ringSize = opts.ringSize ?? 5000;
  const maxFileBytes = opts.maxFileBytes ?? 10 * 1024 * 1024;
  const maxFiles = opts.maxFiles ?? 3;
  const flushDelayMs = opts.flushDelayMs ?? 200;
  const now = opts.now ?? Date.now;
  const logs = new Map<string, WorkerLog>();
  const listeners = new Set<(id: string, line: LogLine) => void>();
  let timer: NodeJS.Timeout | null = null;
  if (opts.dir !== null) mkdirSync(opts.dir, { recursive: true });

  const get = (id: string): WorkerLog => {
    let log = logs.get(id);
    if (!log) {
      log = { ring: [], nextSeq: 1, pending: [], fileBytes: null };
      logs.set(id, log);
    }
    return log;
  };
  const filePath = (id: string): string | null =>
    opts.dir === null ? null : join(opts.dir, `${safeName(id)}.log`);

  const flushOne = (id: string, log: WorkerLog): void => {
    const path = filePath(id);
    if (path === null || log.pending.length === 0) return;
    const chunk = log.pending.join('');
    log.pending = [];
    if (log.fileBytes === null) log.fileBytes = existsSync(path) ? statSync(path).size : 0;
    const bytes = Buffer.byteLength(chunk);
    if (log.fileBytes > 0 && log.fileBytes + bytes > maxFileBytes) {
      rotateLogFile(path, maxFiles);
      log.fileBytes = 0;
    }
    appendFileSync(path, chunk);
    log.fileBytes += bytes;
  };

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const [id, log] of logs) flushOne(id, log);
  };

  const search = (workerId: string, query: LogSearch): LogLine[] => {
    const match = matcher(query);
    const hits = (logs.get(workerId)?.ring ?? []).filter(
      (l) => (query.stream === undefined || l.stream === query.stream) && match(l.text),
    );
    return hits.slice(Math.max(0, hits.length - (query.limit ?? 500)));
  };

  return {
    append(workerId, stream, text) {
      const log = get(workerId);
      const line: LogLine = { seq: log.nextSeq++, atMs: now(), stream, text };
      log.ring.push(line);
      if (log.ring.length > ringSize) log.ring.splice(0, log.ring.length - ringSize);
      if (opts.dir !== null) {
        log.pending.push(`${new Date(line.atMs).toISOString()} ${stream} | ${text}\n`);
        if (!timer) {
          timer = setTimeout(flush, flushDelayMs);
          timer.unref();
        }
      }
      for (const l of listeners) l(workerId, line);
      return line;
    },
    lines(workerId, sinceSeq = 0) {
      return (logs.get(workerId)?.ring ?? []).filter((l) => l.seq > sinceSeq);
    },
    tail(workerId, n, stream) {
      const ring = logs.get(workerId)?.ring ?? [];
      const picked = stream === undefined ? ring : ring.filter((l) => l.stream === stream);
      return picked.slice(Math.max(0, picked.length - n)).map((l) => l.text);
    },
    search,
    query(workerId, q = {}) {
      return search(workerId, {
        text: q.search,
        caseSensitive: q.isCaseSensitive,
        limit: q.tail ?? 500,
      });
    },
    searchFiles(workerId, query) {
      flush();
      const match = matcher(query);
      const hits: LogFileMatch[] = [];
      const path = filePath(workerId);
      const files = path === null ? [] : readRotatedLines(path, maxFiles);
      for (const { file, lines } of files) {
        lines.forEach((raw, i) => {
          // "<iso time> <stream> | <text>"
          const m = /^\S+ (\S+) \| (.*)$/.exec(raw);
          const stream = m?.[1];
          const text = m?.[2] ?? raw;
          if (query.stream !== undefined && stream !== query.stream) return;
          if (match(text)) hits.push({ file, lineNo: i + 1, text });
        });
      }
      return hits.slice(Math.max(0, hits.length - (query.limit ?? 500)));
    },
    filePath,
    onLine(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    flush,
    drop(workerId) {
      const log = logs.get(workerId);
      if (log) flushOne(workerId, log);
      logs.delete(workerId);
    },
    close() {
      flush();
      listeners.clear();
    },
  };
}
