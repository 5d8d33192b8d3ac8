// Worker logs: a ring buffer per worker for the UI and search, over one file per worker under <dataDir>/logs.
// The worker writes its file itself (process-launcher.ts points its stdout and stderr at it), so its output
// survives the console: a console that adopts the worker after a crash reads the lines written before and
// after the crash from the same file (log-file-tail.ts). The console's own lines go into the same file. With
// no folder (dir: null) lines live in memory only. Layer: core.
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { LogLine, LogQuery } from '../../../shared/model/logs';
import { createLogFileTail, type LogFileTail } from './log-file-tail';

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
  /** A log file is rotated (copy, then truncate) once it grows past this. */
  maxFileBytes?: number;
  /** Rotated files kept (<id>.log.1 ... .N). */
  maxFiles?: number;
  /** How often the files of workers are read for new lines. */
  pollMs?: number;
  now?: () => number;
}

export interface LogStore {
  /** A line the console writes (or a launcher without a file reports); written to the file, then read back. */
  append(workerId: string, stream: LogStream, text: string): LogLine;
  /**
   * A descriptor of the worker's log file opened for appending, for the child's stdout and stderr (the caller
   * closes it after the spawn); null without a folder.
   */
  openOutput(workerId: string): number | null;
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
  /** Reads what the workers wrote since the last read (also done every pollMs). */
  flush(): void;
  /** Forgets a worker's buffer (its files stay). */
  drop(workerId: string): void;
  close(): void;
}

interface WorkerLog {
  ring: LogLine[];
  nextSeq: number;
  /** The worker's file as read so far; null without a folder. */
  file: LogFileTail | null;
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

/**
 * The stream of a line read back from a file: the worker's stdout and stderr share it, so only the lines the
 * console wrote with a stream (`expected`) keep theirs; the worker's own lines read as 'stdout'.
 */
function streamOf(text: string, expected: { stream: LogStream; text: string } | null): LogStream {
  return expected !== null && text === expected.text ? expected.stream : 'stdout';
}

/** The lines of a log and its rotated files, oldest file first. */
function readRotatedLines(path: string, maxFiles: number): { file: string; lines: string[] }[] {
  const files: string[] = [];
  for (let i = maxFiles; i >= 1; i--) if (existsSync(`${path}.${i}`)) files.push(`${path}.${i}`);
  if (existsSync(path)) files.push(path);
  return files.map((file) => ({
    file,
    lines: readFileSync(file, 'utf8')
      .split(/\r\n|\n|\r/)
      .filter((l) => l !== ''),
  }));
}

/** Matches in a log's files on disk, rotated ones included, the last `limit` of them. */
function searchLogFiles(path: string, maxFiles: number, query: LogSearch): LogFileMatch[] {
  // The file does not say which stream a line came from (stdout and stderr share it).
  if (query.stream === 'stderr') return [];
  const match = matcher(query);
  const hits: LogFileMatch[] = [];
  for (const { file, lines } of readRotatedLines(path, maxFiles)) {
    lines.forEach((text, i) => {
      if (match(text)) hits.push({ file, lineNo: i + 1, text });
    });
  }
  return hits.slice(Math.max(0, hits.length - (query.limit ?? 500)));
}

export function createLogStore(opts: LogStoreOptions): LogStore {
  const ringSize = opts.ringSize ?? 5000;
  const maxFileBytes = opts.maxFileBytes ?? 10 * 1024 * 1024;
  const maxFiles = opts.maxFiles ?? 3;
  const now = opts.now ?? Date.now;
  const logs = new Map<string, WorkerLog>();
  const listeners = new Set<(id: string, line: LogLine) => void>();
  if (opts.dir !== null) mkdirSync(opts.dir, { recursive: true });
  const filePath = (id: string): string | null =>
    opts.dir === null ? null : join(opts.dir, `${safeName(id)}.log`);

  const push = (id: string, log: WorkerLog, stream: LogStream, text: string): LogLine => {
    const line: LogLine = { seq: log.nextSeq++, atMs: now(), stream, text };
    log.ring.push(line);
    if (log.ring.length > ringSize) log.ring.splice(0, log.ring.length - ringSize);
    for (const l of listeners) l(id, line);
    return line;
  };

  /** The worker's log; the first look at a worker with a file seeds the ring with the file's last lines. */
  const get = (id: string): WorkerLog => {
    let log = logs.get(id);
    if (log) return log;
    const path = filePath(id);
    const file = path === null ? null : createLogFileTail({ path, maxFileBytes, maxFiles });
    log = { ring: [], nextSeq: 1, file };
    logs.set(id, log);
    for (const text of file?.seed().slice(-ringSize) ?? []) push(id, log, 'stdout', text);
    return log;
  };

  /** Moves new lines of the file into the ring; returns the last line equal to `expected` (our own write). */
  const readFile = (
    id: string,
    log: WorkerLog,
    expected: { stream: LogStream; text: string } | null = null,
  ): LogLine | null => {
    let mine: LogLine | null = null;
    for (const text of log.file?.read() ?? []) {
      const line = push(id, log, streamOf(text, expected), text);
      if (expected !== null && text === expected.text) mine = line;
    }
    return mine;
  };

  const flush = (): void => {
    for (const [id, log] of logs) readFile(id, log);
  };
  const poller = setInterval(flush, opts.pollMs ?? 200);
  poller.unref();

  const search = (workerId: string, query: LogSearch): LogLine[] => {
    const log = logs.get(workerId);
    if (log) readFile(workerId, log);
    const match = matcher(query);
    const hits = (log?.ring ?? []).filter(
      (l) => (query.stream === undefined || l.stream === query.stream) && match(l.text),
    );
    return hits.slice(Math.max(0, hits.length - (query.limit ?? 500)));
  };

  return {
    append(workerId, stream, rawText) {
      const log = get(workerId);
      // One line per call: a line break inside would come back from the file as several lines.
      const text = rawText.replace(/\r\n|\n|\r/g, ' ');
      if (log.file === null) return push(workerId, log, stream, text);
      // What the worker wrote so far comes first; a line it has not finished is ended so ours stays whole.
      readFile(workerId, log);
      const record = `${log.file.hasPartialLine() ? '\n' : ''}${text}\n`;
      log.file.makeRoomFor(Buffer.byteLength(record));
      appendFileSync(log.file.path, record);
      return readFile(workerId, log, { stream, text }) ?? push(workerId, log, stream, text);
    },
    openOutput(workerId) {
      const log = get(workerId);
      if (log.file === null) return null;
      readFile(workerId, log);
      return openSync(log.file.path, 'a', 0o600);
    },
    lines(workerId, sinceSeq = 0) {
      const log = logs.get(workerId);
      if (log) readFile(workerId, log);
      return (log?.ring ?? []).filter((l) => l.seq > sinceSeq);
    },
    tail(workerId, n, stream) {
      const picked = search(workerId, { stream, limit: n });
      return picked.map((l) => l.text);
    },
    search,
    query(workerId, q = {}) {
      get(workerId);
      return search(workerId, {
        text: q.search,
        caseSensitive: q.isCaseSensitive,
        limit: q.tail ?? 500,
      });
    },
    searchFiles(workerId, query) {
      const path = filePath(workerId);
      return path === null ? [] : searchLogFiles(path, maxFiles, query);
    },
    filePath,
    onLine(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    flush,
    drop(workerId) {
      const log = logs.get(workerId);
      if (log) readFile(workerId, log);
      logs.delete(workerId);
    },
    close() {
      clearInterval(poller);
      flush();
      listeners.clear();
    },
  };
}

/** Closes a descriptor from openOutput once the child has its own copy. */
export function closeOutput(fd: number | null): void {
  if (fd !== null) closeSync(fd);
}
